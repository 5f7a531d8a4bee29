"""Relation to the head and dwelling: edited directly by staff, corrected by grid workers through
change requests. A household keeps exactly one head whichever way a change arrives; a dwelling must be
one the editor may see, in the record's own grid."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.geography.tests.factories import BuildingFactory
from yiwang.registry import services
from yiwang.registry.models import ChangeRequest, Household, HouseholdMember
from yiwang.registry.tests.factories import make_dwelling, make_household, make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world):
    """Household 甲户 in grid A1: 王父 (head), 王母 (spouse), 王子 (child)."""
    grid = world.tree.grid_a1
    head, spouse, child = (make_resident(grid, name) for name in ("王父", "王母", "王子"))
    household = make_household(grid, head, number="甲户")
    HouseholdMember.objects.create(household=household, resident=spouse, relation="spouse")
    HouseholdMember.objects.create(household=household, resident=child, relation="child")
    return household, head, spouse, child


def _relations(household) -> dict:
    return dict(HouseholdMember.objects.filter(household=household, left_on__isnull=True)
                .values_list("resident__name", "relation"))


def test_grid_worker_corrects_a_relation_and_staff_approval_applies_it(world, family):
    household, _head, _spouse, child = family
    outcome, request = services.record_edit(actor=world.people.grid_worker, target=child,
                                            changes={"relation": "grandchild"}, reason="户口本核对")
    assert outcome == "pending" and request.changes == {"relation": {"old": "child", "new": "grandchild"}}
    assert _relations(household)["王子"] == "child"  # nothing changes before review
    services.change_request_approve(actor=world.people.staff, change_request=request)
    assert _relations(household) == {"王父": "head", "王母": "spouse", "王子": "grandchild"}
    child.refresh_from_db()
    assert child.version == 2
    event = AuditEvent.objects.get(action="resident.update", object_id=str(child.pk))
    assert event.changes == {"relation": ["child", "grandchild"]} and event.actor == world.people.staff


@pytest.mark.parametrize("who,relation,message", [
    ("王子", "head", "已有户主（王父）"),  # a second head
    ("王父", "spouse", "王父 是户 甲户 的户主"),  # the only head removed
])
def test_a_correction_that_breaks_the_one_head_rule_is_refused_on_submission(world, family, who, relation, message):
    household, *members = family
    person = next(m for m in members if m.name == who)
    with pytest.raises(ValidationError) as exc:
        services.record_edit(actor=world.people.grid_worker, target=person, changes={"relation": relation})
    assert message in exc.value.message_dict["relation"][0]
    with pytest.raises(ValidationError):  # staff's direct edit: the same rule
        services.record_update(actor=world.people.staff, target=person, changes={"relation": relation})
    assert not ChangeRequest.objects.exists()
    assert _relations(household) == {"王父": "head", "王母": "spouse", "王子": "child"}
    person.refresh_from_db()
    assert person.version == 1


def test_approving_a_second_head_is_refused_and_changes_nothing(world):
    """Two requests made while a household had no head (legacy data): each valid alone, the second
    approval would make a second head."""
    grid = world.tree.grid_a1
    a, b = make_resident(grid, "甲"), make_resident(grid, "乙")
    household = Household.objects.create(grid=grid, area_path=grid.path, number="无主户")
    HouseholdMember.objects.create(household=household, resident=a, relation="spouse")
    HouseholdMember.objects.create(household=household, resident=b, relation="sibling")
    _o, first = services.record_edit(actor=world.people.grid_worker, target=a, changes={"relation": "head"})
    _o, second = services.record_edit(actor=world.people.grid_worker, target=b, changes={"relation": "head"})
    services.change_request_approve(actor=world.people.staff, change_request=first)
    with pytest.raises(ValidationError) as exc:
        services.change_request_approve(actor=world.people.staff, change_request=second)
    assert "已有户主（甲）" in " ".join(exc.value.messages)
    second.refresh_from_db()
    b.refresh_from_db()
    assert second.state == "pending" and second.reviewed_by is None and b.version == 1
    assert _relations(household) == {"甲": "head", "乙": "sibling"}
    assert not AuditEvent.objects.filter(action="change_request.approve", changes={"request": second.pk}).exists()


def test_approving_a_request_that_removes_the_only_head_is_refused(world, family):
    """A request stored before the rule was checked at submission (or by an older client) is checked
    again when approved."""
    household, head, _spouse, _child = family
    request = ChangeRequest.objects.create(
        target_type="resident", target_id=head.pk, target_repr=str(head), area_path=head.area_path,
        changes={"relation": {"old": "head", "new": "parent"}}, fingerprint="legacy", submitted_by=world.people.grid_worker)
    with pytest.raises(ValidationError) as exc:
        services.change_request_approve(actor=world.people.staff, change_request=request)
    assert "每户必须有且只有一名户主" in " ".join(exc.value.messages)
    request.refresh_from_db()
    assert request.state == "pending" and _relations(household)["王父"] == "head"


def test_a_person_in_no_household_has_no_relation_to_correct(world):
    loner = make_resident(world.tree.grid_a1, "独居")
    with pytest.raises(ValidationError) as exc:
        services.record_edit(actor=world.people.grid_worker, target=loner, changes={"relation": "spouse"})
    assert "不属于任何户" in exc.value.message_dict["relation"][0]
    with pytest.raises(ValidationError) as exc:
        services.record_update(actor=world.people.staff, target=loner, changes={"relation": "boss"})
    assert "relation" in exc.value.message_dict


def test_grid_worker_moves_a_person_to_a_dwelling_of_the_grid_by_request(world, family):
    _household, _head, spouse, _child = family
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1, name="甲一号楼"), unit=2, room="301")
    _o, request = services.record_edit(actor=world.people.grid_worker, target=spouse,
                                       changes={"dwelling": str(dwelling.pk)})
    assert request.changes == {"dwelling": {"old": None, "new": {"id": dwelling.pk, "label": "甲一号楼2单元301室"}}}
    services.change_request_approve(actor=world.people.staff, change_request=request)
    spouse.refresh_from_db()
    assert spouse.dwelling == dwelling and spouse.version == 2
    assert AuditEvent.objects.get(action="resident.update", object_id=str(spouse.pk)).changes == {
        "dwelling": ["", "甲一号楼2单元301室"]}


def test_a_dwelling_outside_the_editors_scope_or_grid_is_refused(world, family):
    _household, _head, spouse, _child = family
    in_a2 = make_dwelling(BuildingFactory(grid=world.tree.grid_a2), room="202")
    in_b1 = make_dwelling(BuildingFactory(grid=world.tree.grid_b1), room="303")
    # The grid worker of A1 sees neither; the answer is the same as for a dwelling that does not exist.
    for pk in (in_a2.pk, in_b1.pk, 999999, "x"):
        with pytest.raises(ValidationError) as exc:
            services.record_edit(actor=world.people.grid_worker, target=spouse, changes={"dwelling": pk})
        assert exc.value.message_dict == {"dwelling": ["请选择您所负责网格内的房屋。"]}
    # Community staff see A2's dwelling, but a person's dwelling stays in the person's grid.
    with pytest.raises(ValidationError) as exc:
        services.record_update(actor=world.people.staff, target=spouse, changes={"dwelling": in_a2.pk})
    assert "该房屋属于其他网格" in exc.value.message_dict["dwelling"][0]
    with pytest.raises(ValidationError):
        services.record_update(actor=world.people.staff, target=spouse, changes={"dwelling": in_b1.pk})
    spouse.refresh_from_db()
    assert spouse.dwelling is None and not ChangeRequest.objects.exists()


def test_approval_checks_the_dwelling_again(world, family):
    """The dwelling moved to another grid after the request was made: approval refuses it."""
    _household, _head, spouse, _child = family
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1), room="101")
    _o, request = services.record_edit(actor=world.people.grid_worker, target=spouse, changes={"dwelling": dwelling.pk})
    type(dwelling).objects.filter(pk=dwelling.pk).update(area_path=world.tree.grid_a2.path, grid=world.tree.grid_a2)
    with pytest.raises(ValidationError):
        services.change_request_approve(actor=world.people.staff, change_request=request)
    spouse.refresh_from_db()
    request.refresh_from_db()
    assert spouse.dwelling is None and request.state == "pending"


def test_household_dwelling_edited_from_the_household_page(world, family, client_for):
    household = family[0]
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1, name="乙楼"), room="501")
    url = reverse("registry:household_detail", args=[household.pk])
    page = client_for(world.people.grid_worker).get(url).content.decode()
    assert 'name="dwelling"' in page and "乙楼1单元501室" in page
    response = client_for(world.people.grid_worker).post(url, {"action": "edit", "number": "甲户",
                                                               "dwelling": dwelling.pk, "version": 1})
    assert response.status_code == 302
    household.refresh_from_db()
    assert household.dwelling is None
    request = ChangeRequest.objects.get(target_type="household")
    assert request.changes["dwelling"]["new"]["label"] == "乙楼1单元501室"
    # Staff apply directly; an outdated version is refused with the conflict message.
    client = client_for(world.people.staff)
    assert client.post(url, {"action": "edit", "number": "甲户", "dwelling": dwelling.pk, "version": 1}).status_code == 302
    household.refresh_from_db()
    assert household.dwelling == dwelling and household.version == 2
    page = client.post(url, {"action": "edit", "number": "甲户-改", "dwelling": "", "version": 1}).content.decode()
    assert "该记录已被他人修改，请刷新后重试。" in page
    household.refresh_from_db()
    assert household.number == "甲户" and household.dwelling == dwelling


def test_resident_edit_page_offers_relation_and_dwelling(world, family, client_for):
    _household, _head, spouse, _child = family
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1, name="丙楼"), room="102")
    make_dwelling(BuildingFactory(grid=world.tree.grid_a2, name="别网格楼"), room="102")
    url = reverse("registry:resident_edit", args=[spouse.pk])
    client = client_for(world.people.staff)
    page = client.get(url).content.decode()
    assert "与户主关系" in page and "丙楼1单元102室" in page and "别网格楼" not in page
    form = {"name": spouse.name, "id_type": "id_card", "hukou_type": "registered", "status": "active",
            "ethnicity": "汉族", "political_status": "masses", "gender": spouse.gender, "version": 1,
            "birth_date": spouse.birth_date.isoformat(), "relation": "parent", "dwelling": dwelling.pk}
    assert client.post(url, form).status_code == 302
    spouse.refresh_from_db()
    assert spouse.dwelling == dwelling and _relations(family[0])["王母"] == "parent"
    assert AuditEvent.objects.get(action="resident.update", object_id=str(spouse.pk)).changes == {
        "relation": ["spouse", "parent"], "dwelling": ["", "丙楼1单元102室"]}
    # The one-head rule reaches the form as an error on the field; nothing is saved.
    page = client.post(url, {**form, "version": 2, "relation": "head"}).content.decode()
    assert "已有户主（王父）" in page
    assert _relations(family[0])["王母"] == "parent"


def test_change_request_page_shows_labels_not_codes(world, family, client_for):
    _household, _head, _spouse, child = family
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1, name="丁楼"), room="103")
    _o, request = services.record_edit(actor=world.people.grid_worker, target=child,
                                       changes={"relation": "grandchild", "dwelling": dwelling.pk})
    page = client_for(world.people.staff).get(reverse("registry:change_request_detail", args=[request.pk]))
    html = page.content.decode()
    assert "与户主关系" in html and "<del>子女</del>" in html and "<ins>孙子女</ins>" in html
    assert "<ins>丁楼1单元103室</ins>" in html and "房屋" in html


def test_api_patch_of_a_relation_by_staff_and_grid_worker(world, family, api_for):
    _household, _head, spouse, child = family
    url = reverse("api:resident-detail", args=[child.pk])
    response = api_for(world.people.grid_worker).patch(url, {"changes": {"relation": "grandchild"}}, format="json")
    assert response.status_code == 202 and response.json()["change_request"]["changes"] == {
        "relation": {"old": "child", "new": "grandchild"}}
    response = api_for(world.people.staff).patch(reverse("api:resident-detail", args=[spouse.pk]),
                                                 {"changes": {"relation": "head"}, "version": 1}, format="json")
    assert response.status_code == 400
    assert "已有户主（王父）" in response.json()["error"]["fields"]["relation"][0]
    assert _relations(family[0])["王母"] == "spouse"


def test_the_edit_form_shows_the_birth_date_so_saving_keeps_it(world, family, client_for):
    """A date input takes ISO dates only; the page's own format left it empty and a save cleared it."""
    spouse = family[2]
    page = client_for(world.people.staff).get(reverse("registry:resident_edit", args=[spouse.pk])).content.decode()
    assert f'name="birth_date" value="{spouse.birth_date.isoformat()}"' in page
