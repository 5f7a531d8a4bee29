"""Queued rollups (settings.YIWANG_ROLLUPS = "queued", production): a step's transaction only queues its
(grid, day); the drain recounts each queued key once. After a drain the rollups must equal a rebuild from
the raw steps, whatever mix of reports, moves, rollbacks and concurrent drains came before."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.cases.tests.factories import jpeg
from yiwang.cases.workflow import Action
from yiwang.dashboards import rollups
from yiwang.dashboards.models import DailyRollup, DailyTotal, OpenCount, RollupPending, WorkerDaily
from yiwang.dashboards.rollups import pending_warnings, rollup_drain

from .factories import GRID_C1, T0, act, every_kind_of_report, full_loop, report
from .test_intake_counting import _rebuilt
from .test_rollups import _snapshot

queued = override_settings(YIWANG_ROLLUPS="queued")


def _queue() -> list[tuple]:
    return sorted(RollupPending.objects.values_list("area_path", "day"))


@queued
def test_reports_and_moves_wait_in_the_queue_then_the_drain_equals_a_rebuild(world, cats,
                                                                              django_capture_on_commit_callbacks,
                                                                              monkeypatch):
    p = world.people
    refreshed = []
    real, real_many = rollups.rollup_refresh, rollups._refresh_locked
    monkeypatch.setattr(rollups, "rollup_refresh", lambda *a: (refreshed.append(a), real(*a)))
    monkeypatch.setattr(rollups, "_refresh_locked", lambda keys: (refreshed.extend(keys), real_many(keys)))
    with django_capture_on_commit_callbacks(execute=True):
        a = every_kind_of_report(world, cats)
        report(world, cats, at=T0 + timedelta(hours=4), resolve_on_spot=True, comment="当场处理")
        a = act(a, p.handler, Action.SIGN_FOR, T0 + timedelta(minutes=30))
        act(a, p.handler, Action.REPORT_BACK, T0 + timedelta(hours=1), comment="已清运")
        full_loop(world, cats, at=T0 + timedelta(days=1), rating=2)
    # Nothing was counted in the requests: no rollup row, no recount, only the queue.
    assert refreshed == []
    assert not any(m.objects.exists() for m in (DailyRollup, DailyTotal, OpenCount, WorkerDaily))
    grid_days = set(_queue())
    assert len(grid_days) == 5  # three grids; two of them on two days
    assert rollup_drain(chunk=2) == len(grid_days)  # chunks of two keys: three transactions
    assert sorted(refreshed) == sorted(grid_days)  # each (grid, day) recounted once, however many steps it had
    assert _queue() == []
    counted = _snapshot()
    assert Case.objects.count() == 7
    total = DailyTotal.objects.get(area_path=world.tree.district.path, day=T0.date())
    assert total.intake == 5 and total.handled == 1
    assert counted == _rebuilt()
    assert rollup_drain() == 0  # an empty queue: nothing to do


@queued
def test_a_transaction_queues_each_grid_and_day_once(world, cats, django_capture_on_commit_callbacks):
    """A create writes three steps (report, accept, dispatch); a batch of moves in one transaction many more:
    one queued row per (grid, day) and transaction. (The test runs inside one transaction of its own: the
    on-commit hooks run where each real transaction would commit.)"""
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world, cats, at=T0)
    assert case.steps.count() >= 2
    assert _queue() == [(case.area_path, T0.date())]
    RollupPending.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        case = act(case, p.handler, Action.SIGN_FOR, T0 + timedelta(minutes=30))
        case = act(case, p.handler, Action.REPORT_BACK, T0 + timedelta(hours=1), comment="已清运")
        other = report(world, cats, at=T0 + timedelta(hours=2))
        act(case, p.grid_worker, Action.VERIFY_PASS, T0 + timedelta(days=1), photos=[jpeg()])
    assert _queue() == [(case.area_path, T0.date()), (other.area_path, (T0 + timedelta(days=1)).date())]


@queued
def test_a_rolled_back_step_queues_nothing_and_the_next_step_still_queues(world, cats,
                                                                          django_capture_on_commit_callbacks):
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world, cats, at=T0)
    RollupPending.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                act(case, p.handler, Action.SIGN_FOR, T0 + timedelta(minutes=30))
                raise RuntimeError("the caller gives up")
        except RuntimeError:
            pass
        assert _queue() == []
        # The same (grid, day) in the same transaction: the mark of the rolled-back savepoint is gone too.
        act(case, p.handler, Action.SIGN_FOR, T0 + timedelta(minutes=40))
    assert _queue() == [(case.area_path, T0.date())]


@queued
@pytest.mark.django_db(transaction=True)
def test_reports_and_drains_running_at_once_count_every_case_once(world, cats):
    """Threads report cases in two grids while two drains run over and over: after a last drain the rollups
    equal a rebuild (no report lost between a drain's DELETE and its recount, none counted twice)."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    errors, stop = [], threading.Event()

    def reporter(i):
        try:
            for j in range(3):
                if i % 2:
                    report(world, cats, at=T0 + timedelta(minutes=i * 3 + j), where=GRID_C1, actor=world.people.admin)
                else:
                    report(world, cats, at=T0 + timedelta(minutes=i * 3 + j), category=cats.noise if j % 2 else None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def drainer():
        try:
            while not stop.is_set():
                rollup_drain()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    drains = [threading.Thread(target=drainer) for _ in range(2)]
    reporters = [threading.Thread(target=reporter, args=(i,)) for i in range(6)]
    for t in drains + reporters:
        t.start()
    for t in reporters:
        t.join()
    stop.set()
    for t in drains:
        t.join()
    assert not errors, errors
    rollup_drain()
    assert _queue() == []
    total = DailyTotal.objects.get(area_path=world.tree.district.path, day=T0.date())
    assert total.intake == 18
    assert _snapshot() == _rebuilt()


@queued
def test_a_queue_left_undrained_is_a_health_warning(world, cats, client):
    report(world, cats, at=T0)
    assert pending_warnings() == []  # just queued: the drain has not had its turn yet
    RollupPending.objects.update(queued_at=timezone.now() - timedelta(minutes=10))
    [warning] = pending_warnings()
    assert "rollup_drain" in warning and "1 " in warning
    assert "rollup_drain" in " ".join(client.get("/healthz").json().get("warnings", []))
    rollup_drain()
    assert pending_warnings() == []


def test_immediate_mode_queues_nothing(world, cats, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world, cats, at=T0)
        act(case, world.people.handler, Action.SIGN_FOR, T0 + timedelta(minutes=30))
    assert _queue() == []
    assert DailyTotal.objects.filter(area_path=world.tree.district.path, intake=1).exists()


@queued
def test_a_drain_moves_counts_whose_key_changed_and_drops_the_emptied_rows(world, cats,
                                                                            django_capture_on_commit_callbacks):
    """The drain recounts, it does not only add: when a case's category is corrected (its steps now count
    under another category), the drained rows move to the new key at the grid and above, the emptied grid
    rows are dropped, and everything equals a rebuild."""
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world, cats, at=T0)
        report(world, cats, at=T0 + timedelta(minutes=5), where=GRID_C1, actor=p.admin)
    rollup_drain()
    assert DailyRollup.objects.filter(area_path=case.area_path, category_id=cats.garbage.pk).exists()
    Case.objects.filter(pk=case.pk).update(category=cats.noise)
    RollupPending.objects.create(area_path=case.area_path, day=T0.date())
    assert rollup_drain() == 1
    assert not DailyRollup.objects.filter(area_path=case.area_path, category_id=cats.garbage.pk).exists()
    assert not OpenCount.objects.filter(area_path=case.area_path, category_id=cats.garbage.pk).exists()
    district = world.tree.district.path
    assert DailyRollup.objects.get(area_path=district, day=T0.date(), category_id=cats.noise.pk,
                                   department_id=0).intake == 1
    assert _snapshot() == _rebuilt()
