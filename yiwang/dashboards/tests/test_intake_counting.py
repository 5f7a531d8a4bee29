"""A case reported in its own transaction is added to the rollups in that transaction (rollups.count_new_case)
instead of being recounted after commit: the result must be what a full rebuild from the raw steps gives,
alone, mixed with refreshes of later moves, and with reports and moves landing at once on PostgreSQL."""

import itertools
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from yiwang.cases.models import Case, CaseStep
from yiwang.cases.workflow import Action, State
from yiwang.dashboards.models import DailyRollup, DailyTotal, OpenCount, WorkerDaily
from yiwang.dashboards.rollups import METRICS, RELEVANT_ACTIONS, WORKER_METRICS, _holds

from .factories import T0, act, every_kind_of_report, report
from .test_rollups import _snapshot


def _rebuilt() -> tuple:
    for model in (DailyRollup, DailyTotal, OpenCount, WorkerDaily):
        model.objects.all().delete()
    call_command("rollup_rebuild", (T0 - timedelta(days=1)).date().isoformat(),
                 (T0 + timedelta(days=5)).date().isoformat())
    return _snapshot()


def test_python_filters_agree_with_the_database(world, cats):
    """count_new_case decides each counter's filter in Python: for every combination of the columns the
    filters read (NULLs included), it must pick exactly the steps the database picks."""
    case = report(world, cats, at=T0)
    actions = [*RELEVANT_ACTIONS, Action.VERIFY_PASS, Action.SIGN_FOR]
    rows = [CaseStep(case=case, action=action, from_state=from_state, to_state=State.ACCEPTED, on_time=on_time,
                     rating=rating, data=data, at=T0, area_path=case.area_path, actor=world.people.grid_worker)
            for action, from_state, on_time, rating, data in itertools.product(
                actions, [State.REPORTED, State.ACCEPTED], [True, False, None], [None, 1, 2, 3],
                [{}, {"deferred": True}, {"deferred": False}])]
    steps = CaseStep.objects.bulk_create(rows)
    ids = [s.pk for s in steps]
    for name, q in {**METRICS, **WORKER_METRICS}.items():
        in_db = set(CaseStep.objects.filter(q, pk__in=ids).values_list("pk", flat=True))
        in_python = {s.pk for s in steps if _holds(q, s)}
        assert in_python == in_db, name
        assert in_db, name  # each filter passes some combination: the comparison is not vacuous


def test_reports_counted_in_their_transaction_equal_a_rebuild(world, cats, django_capture_on_commit_callbacks,
                                                              monkeypatch):
    """Every kind of report (dispatched by rule, left for the centre, from a resident without an account,
    resolved on the spot, in other grids and on other days), then later moves through the refresh."""
    from yiwang.dashboards import rollups

    calls = []
    real = rollups.rollup_refresh
    monkeypatch.setattr(rollups, "rollup_refresh", lambda *a: (calls.append(a), real(*a)))
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        a = every_kind_of_report(world, cats)
    assert calls == []  # none of these recounted anything
    with django_capture_on_commit_callbacks(execute=True):
        report(world, cats, at=T0 + timedelta(hours=4), resolve_on_spot=True, comment="当场处理")
    assert len(calls) == 1  # the on-the-spot resolution is a move: refreshed after commit
    with django_capture_on_commit_callbacks(execute=True):
        a = act(a, p.handler, Action.SIGN_FOR, T0 + timedelta(minutes=30))
        act(a, p.handler, Action.REPORT_BACK, T0 + timedelta(hours=1), comment="已清运")
    counted = _snapshot()
    assert counted[0] and counted[2] and counted[3]  # day rollups, open counts and worker rows were written
    assert Case.objects.count() == 6
    assert counted == _rebuilt()


def test_rebuild_running_meanwhile_is_not_undone(world, cats, django_capture_on_commit_callbacks):
    """A full rebuild of the day after reports were counted keeps them, and reports counted after the
    rebuild add to it."""
    with django_capture_on_commit_callbacks(execute=True):
        report(world, cats, at=T0)
    call_command("rollup_rebuild", T0.date().isoformat(), T0.date().isoformat())
    with django_capture_on_commit_callbacks(execute=True):
        report(world, cats, at=T0 + timedelta(minutes=1))
    total = DailyTotal.objects.get(area_path=world.tree.district.path, day=T0.date())
    assert total.intake == 2
    assert _snapshot() == _rebuilt()


@pytest.mark.django_db(transaction=True)
def test_reports_and_moves_landing_at_once_are_each_counted_once(world, cats):
    """Threads report cases in one grid and day while others move earlier cases of that grid and day (their
    refreshes recount it): the rollups end equal to a rebuild, nothing lost and nothing counted twice."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    p = world.people
    earlier = [report(world, cats, at=T0 + timedelta(minutes=i)) for i in range(4)]
    errors = []

    def reporter(i):
        try:
            report(world, cats, at=T0 + timedelta(minutes=10 + i),
                   category=cats.noise if i % 2 else None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def mover(case, i):
        try:
            case = act(case, p.handler, Action.SIGN_FOR, T0 + timedelta(minutes=20 + i))
            act(case, p.handler, Action.REPORT_BACK, T0 + timedelta(minutes=30 + i), comment="已清运")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reporter, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=mover, args=(case, i)) for i, case in enumerate(earlier)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    counted = _snapshot()
    total = DailyTotal.objects.get(area_path=world.tree.district.path, day=T0.date())
    assert total.intake == 10 and total.handled == 4
    assert counted == _rebuilt()
