"""Which dispatch rule applies to a case: the most specific category (the case's own or any category
above it, at any depth), then the most specific area among those containing the case, then priority."""

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.cases.models import Category, CategoryKind, DispatchRule
from yiwang.cases.services import dispatch_rule_for


def test_the_most_specific_rule_applies(world, cats):
    t = world.tree
    other = DepartmentFactory(name="住建局", area=t.district)
    deep = Category.objects.create(code="20010201", parent=cats.garbage, kind=CategoryKind.EVENT, name="暴露垃圾（楼道）")
    # Only the fixture's rule on the class 2001, two levels above the case's category.
    assert dispatch_rule_for(deep, t.grid_a1.path) == cats.rule
    # A rule for another community does not apply; one for the case's community beats the district-wide one.
    for_community_b = DispatchRule.objects.create(category=cats.top, area=t.comm_b, department=other, priority=9)
    for_community = DispatchRule.objects.create(category=cats.top, area=t.comm_a, department=other)
    assert dispatch_rule_for(deep, t.grid_a1.path) == for_community
    assert dispatch_rule_for(deep, t.grid_b1.path) == for_community_b
    # A rule on a more specific category beats any rule on a broader one, whatever its area.
    for_subcategory = DispatchRule.objects.create(category=cats.garbage, department=world.people.department)
    assert dispatch_rule_for(deep, t.grid_a1.path) == for_subcategory
    # Equally specific: the higher priority; the rule comes with its department.
    urgent = DispatchRule.objects.create(category=cats.garbage, department=other, priority=5, auto=True)
    rule = dispatch_rule_for(deep, t.grid_a1.path)
    assert rule == urgent and rule.auto and rule.department == other and rule.department.active
    # Another branch of the tree has no rule.
    assert dispatch_rule_for(cats.noise, t.grid_a1.path) is None


def test_a_rule_without_department_only_sets_the_level(world, cats):
    level_only = DispatchRule.objects.create(category=cats.road, level=2)
    rule = dispatch_rule_for(cats.road, world.tree.grid_a1.path)
    assert rule == level_only and rule.department_id is None and rule.level == 2
