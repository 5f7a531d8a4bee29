"""grid_memo: values derived from the grids live as long as the grid index, and go when a grid changes."""

from yiwang.geography import spatial
from yiwang.geography.models import Area
from yiwang.geography.services import area_update


def _name_of(grid_id, calls):
    def compute():
        calls.append(grid_id)
        return Area.objects.get(pk=grid_id).name
    return spatial.grid_memo(("test.name", grid_id), compute)


def test_computed_once_while_the_index_holds(tree, django_assert_num_queries):
    calls = []
    assert _name_of(tree.grid_a1.pk, calls) == tree.grid_a1.name
    with django_assert_num_queries(0):
        for _ in range(10):
            assert _name_of(tree.grid_a1.pk, calls) == tree.grid_a1.name
    assert calls == [tree.grid_a1.pk]


def test_a_grid_changed_here_is_read_again_at_once(tree, people):
    calls = []
    _name_of(tree.grid_a1.pk, calls)
    area_update(actor=people.admin, area=tree.grid_a1, name="新名字网格")
    assert _name_of(tree.grid_a1.pk, calls) == "新名字网格" and len(calls) == 2


def test_a_grid_changed_by_another_process_is_read_again_after_the_recheck(tree, monkeypatch):
    calls = []
    _name_of(tree.grid_a1.pk, calls)
    # Unseen by this process's signals (another server): a later updated_at changes the grid signature.
    Area.objects.filter(pk=tree.grid_a1.pk).update(name="别处改名", updated_at=tree.grid_a1.updated_at.replace(year=2030))
    assert _name_of(tree.grid_a1.pk, calls) == tree.grid_a1.name  # inside the re-check window
    monkeypatch.setattr(spatial, "RECHECK_SECONDS", 0.0)
    assert _name_of(tree.grid_a1.pk, calls) == "别处改名" and len(calls) == 2
