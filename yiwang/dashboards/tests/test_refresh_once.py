"""The on-commit rollup refresh runs once per (grid, day) per transaction, and never less than needed; a report
in its own transaction needs none."""

from datetime import timedelta

from yiwang.dashboards.models import DailyTotal

from .factories import T0, report


def test_intake_in_its_own_transaction_is_counted_without_a_refresh(world, cats, django_capture_on_commit_callbacks,
                                                                  monkeypatch):
    """A report in a transaction of its own (the API, the pages) adds itself to the rollups before it
    commits: no recount after commit, and its steps (create, automatic accept) are counted."""
    from yiwang.dashboards import rollups

    calls = []
    real = rollups.rollup_refresh
    monkeypatch.setattr(rollups, "rollup_refresh", lambda *a: (calls.append(a), real(*a)))
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        case = report(world, cats, at=T0)
    assert case.steps.count() >= 2
    assert calls == [] and not hooks
    total = DailyTotal.objects.get(area_path=world.tree.grid_a1.path, day=T0.date())
    assert total.intake == 1 and total.responded == 1


def test_one_refresh_per_grid_and_day_per_caller_transaction(world, cats, django_capture_on_commit_callbacks,
                                                             monkeypatch):
    """Inside a caller's transaction a report leaves the counting to the refresh after commit, which runs
    once for its grid and day and counts both steps."""
    from django.db import transaction

    from yiwang.dashboards import rollups

    calls = []
    real = rollups.rollup_refresh
    monkeypatch.setattr(rollups, "rollup_refresh", lambda *a: (calls.append(a), real(*a)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        case = report(world, cats, at=T0)
    assert case.steps.count() >= 2
    assert calls == [(world.tree.grid_a1.path, T0.date())]
    total = DailyTotal.objects.get(area_path=world.tree.grid_a1.path, day=T0.date())
    assert total.intake == 1 and total.responded == 1


def test_a_refresh_dropped_with_a_savepoint_is_scheduled_again(world, cats, django_capture_on_commit_callbacks):
    """A step inside a rolled-back savepoint must not stand in for a later step of the same grid and day."""
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as hooks, transaction.atomic():
        try:
            with transaction.atomic():
                report(world, cats, at=T0)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        report(world, cats, at=T0 + timedelta(minutes=5))
    assert len(hooks) >= 1
    assert DailyTotal.objects.get(area_path=world.tree.grid_a1.path, day=T0.date()).intake == 1


def test_steps_in_released_sibling_savepoints_share_one_refresh(world, cats, django_capture_on_commit_callbacks,
                                                                 monkeypatch):
    """The offline sync applies each record in its own savepoint: reports in sibling savepoints of one
    transaction recount their grid and day once, count every report that stays, and none rolled back."""
    from django.db import transaction

    from yiwang.dashboards import rollups

    calls = []
    real = rollups.rollup_refresh
    monkeypatch.setattr(rollups, "rollup_refresh", lambda *a: (calls.append(a), real(*a)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for i in range(3):
            with transaction.atomic():
                report(world, cats, at=T0 + timedelta(minutes=i))
        try:
            with transaction.atomic():
                report(world, cats, at=T0 + timedelta(minutes=10))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert calls == [(world.tree.grid_a1.path, T0.date())]
    assert DailyTotal.objects.get(area_path=world.tree.grid_a1.path, day=T0.date()).intake == 3
