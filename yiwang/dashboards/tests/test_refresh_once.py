"""The on-commit rollup refresh runs once per (grid, day) per transaction, and never less than needed."""

from datetime import timedelta

from yiwang.dashboards.models import DailyTotal

from .factories import T0, report


def test_one_refresh_per_grid_and_day_per_transaction(world, cats, django_capture_on_commit_callbacks, monkeypatch):
    """Intake writes two steps (create, automatic accept) in one transaction: the recount runs once,
    and the rollups still count both."""
    from yiwang.dashboards import rollups

    calls = []
    real = rollups.rollup_refresh
    monkeypatch.setattr(rollups, "rollup_refresh", lambda *a: (calls.append(a), real(*a)))
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world, cats, at=T0)
    assert case.steps.count() >= 2
    assert calls == [(world.tree.grid_a1.path, T0.date())]
    total = DailyTotal.objects.get(area_path=world.tree.grid_a1.path, day=T0.date())
    assert total.intake == 1 and total.responded == 1


def test_a_refresh_dropped_with_a_savepoint_is_scheduled_again(world, cats, django_capture_on_commit_callbacks):
    """A step inside a rolled-back savepoint must not stand in for a later step of the same grid and day."""
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as hooks:
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
