import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from yiwang.audit.models import AuditEvent
from yiwang.core import pii
from yiwang.geography.tests.factories import BuildingFactory
from yiwang.registry import selectors, services
from yiwang.registry.models import ChangeRequest, HouseholdMember, Resident, SpecialGroup
from yiwang.registry.tests.factories import id_number, make_dwelling, make_household, make_resident

pytestmark = pytest.mark.django_db


def test_resident_create_encrypts_hashes_and_masks(world):
    number = id_number(dt.date(1975, 1, 3), "F")
    r = services.resident_create(actor=world.people.staff, grid=world.tree.grid_a1, name="李 娜", id_number=number,
                                 phone="13812345678")
    raw = Resident.objects.filter(pk=r.pk).values().get()
    assert number not in str(raw) and "13812345678" not in str(raw)
    assert r.id_masked == number[:6] + "********" + number[-4:]
    assert r.phone_masked == "138****5678"
    assert r.birth_date == dt.date(1975, 1, 3 if number[12:14] == "03" else int(number[12:14]))
    assert r.gender == "F" and r.name == "李娜" and r.name_initials == "ln" and r.name_pinyin == "lina"
    assert r.area_path == world.tree.grid_a1.path
    assert AuditEvent.objects.filter(action="resident.create", object_id=str(r.pk)).exists()
    assert number not in str(AuditEvent.objects.get(action="resident.create").changes)


def test_resident_create_rejects_bad_id_and_duplicates(world):
    with pytest.raises(ValidationError) as exc:
        services.resident_create(actor=world.people.staff, grid=world.tree.grid_a1, name="王五",
                                 id_number="141102198001010010")
    assert "id_number" in exc.value.message_dict
    number = id_number()
    services.resident_create(actor=world.people.staff, grid=world.tree.grid_a1, name="王五", id_number=number)
    with pytest.raises(ValidationError):
        services.resident_create(actor=world.people.staff, grid=world.tree.grid_a2, name="王五", id_number=number)
    assert Resident.objects.count() == 1


def test_id_hash_is_unique_in_the_database(world):
    r = make_resident(world.tree.grid_a1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.create(grid=world.tree.grid_b1, area_path=world.tree.grid_b1.path, name="x",
                                id_hash=r.id_hash)


def test_grid_worker_and_outsider_cannot_create(world):
    for user in (world.people.grid_worker, world.people.outsider):
        with pytest.raises(PermissionDenied):
            services.resident_create(actor=user, grid=world.tree.grid_a1, name="王五", id_number=id_number())


def test_birth_date_must_agree_with_id_number(world):
    with pytest.raises(ValidationError) as exc:
        services.resident_create(actor=world.people.staff, grid=world.tree.grid_a1, name="王五",
                                 id_number=id_number(dt.date(1980, 5, 17)), birth_date="1990-01-01")
    assert "birth_date" in exc.value.message_dict


def test_reveal_needs_permission_and_reason_and_is_audited(world):
    number = id_number()
    r = make_resident(world.tree.grid_a1, id_no=number, phone="13900001111")
    with pytest.raises(PermissionDenied):
        services.resident_reveal(actor=world.people.grid_worker, resident=r, reason="核实")
    with pytest.raises(PermissionDenied):
        services.resident_reveal(actor=world.people.outsider, resident=r, reason="核实")
    with pytest.raises(ValidationError):
        services.resident_reveal(actor=world.people.staff, resident=r, reason=" ")
    assert not AuditEvent.objects.filter(action="resident.reveal").exists()
    shown = services.resident_reveal(actor=world.people.staff, resident=r, reason="办理低保核实身份")
    assert shown == {"id_number": number, "phone": "13900001111"}
    event = AuditEvent.objects.get(action="resident.reveal")
    assert event.actor == world.people.staff and event.reason == "办理低保核实身份"


def test_household_has_at_most_one_current_head_in_the_database(world):
    a, b = make_resident(world.tree.grid_a1), make_resident(world.tree.grid_a1, "李四")
    household = make_household(world.tree.grid_a1, a)
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdMember.objects.create(household=household, resident=b, relation="head")


def test_moving_between_households_keeps_history(world):
    staff = world.people.staff
    a, b, c = (make_resident(world.tree.grid_a1, n) for n in ("张一", "张二", "张三"))
    h1 = services.household_create(actor=staff, grid=world.tree.grid_a1, head=a, number="H1")
    h2 = services.household_create(actor=staff, grid=world.tree.grid_a1, head=b, number="H2")
    services.household_add_member(actor=staff, household=h1, resident=c, relation="child")
    services.household_add_member(actor=staff, household=h2, resident=c, relation="other")
    history = list(selectors.resident_household_history(c))
    assert [(m.household_id, m.left_on is None) for m in history] == [(h2.pk, True), (h1.pk, False)]
    assert [m.resident_id for m in selectors.household_members(h1)] == [a.pk]


def test_head_cannot_leave_while_members_remain_and_set_head_swaps(world):
    staff = world.people.staff
    a, b = make_resident(world.tree.grid_a1, "张一"), make_resident(world.tree.grid_a1, "张二")
    h = services.household_create(actor=staff, grid=world.tree.grid_a1, head=a)
    services.household_add_member(actor=staff, household=h, resident=b, relation="spouse")
    with pytest.raises(ValidationError):
        services.household_remove_member(actor=staff, household=h, resident=a)
    services.household_set_head(actor=staff, household=h, resident=b, old_head_relation="spouse")
    assert h.head() == b
    current = {m.resident_id: m.relation for m in selectors.household_members(h)}
    assert current == {a.pk: "spouse", b.pk: "head"}
    services.household_remove_member(actor=staff, household=h, resident=a)
    assert h.head() == b


def test_grid_worker_edit_becomes_change_request_and_staff_approves(world):
    r = make_resident(world.tree.grid_a1, phone="13900001111")
    outcome, request = services.record_edit(actor=world.people.grid_worker, target=r,
                                            changes={"phone": "13700002222", "occupation": "教师"})
    assert outcome == "pending"
    r.refresh_from_db()
    assert r.phone_masked == "139****1111" and r.occupation == ""
    assert "13700002222" not in str(request.changes)
    # A replay finds the same request.
    _again, replay = services.record_edit(actor=world.people.grid_worker, target=r,
                                          changes={"phone": "13700002222", "occupation": "教师"})
    assert replay.pk == request.pk and ChangeRequest.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.change_request_approve(actor=world.people.grid_worker, change_request=request)
    with pytest.raises(PermissionDenied):
        services.change_request_approve(actor=world.people.outsider, change_request=request)
    services.change_request_approve(actor=world.people.staff, change_request=request)
    r.refresh_from_db()
    assert r.phone_masked == "137****2222" and r.occupation == "教师"
    assert pii.decrypt(r.phone_cipher) == "13700002222"
    assert r.phone_hash == pii.search_hash("13700002222", kind="phone")
    request.refresh_from_db()
    assert request.state == "approved" and request.reviewed_by == world.people.staff


def test_stale_change_request_is_refused(world):
    r = make_resident(world.tree.grid_a1)
    _o, request = services.record_edit(actor=world.people.grid_worker, target=r, changes={"occupation": "教师"})
    services.record_update(actor=world.people.staff, target=r, changes={"occupation": "医生"})
    with pytest.raises(services.ConflictError):
        services.change_request_approve(actor=world.people.staff, change_request=request)
    services.change_request_reject(actor=world.people.staff, change_request=request, note="已由社区更新")
    request.refresh_from_db()
    assert request.state == "rejected"


def test_staff_edit_applies_directly_with_version_check(world):
    r = make_resident(world.tree.grid_a1)
    outcome, diff = services.record_edit(actor=world.people.staff, target=r, changes={"occupation": "司机"},
                                         expected_version=1)
    assert outcome == "applied" and diff == {"occupation": ["", "司机"]}
    with pytest.raises(services.ConflictError):
        services.record_update(actor=world.people.staff, target=r, changes={"occupation": "厨师"},
                               expected_version=1)


def test_restricted_tags_hidden_from_grid_worker_unless_helper(world):
    r = make_resident(world.tree.grid_a1)
    correction = SpecialGroup.objects.get(code="community_correction")
    elderly = SpecialGroup.objects.get(code="elderly_alone")
    services.tag_add(actor=world.people.staff, resident=r, group=correction)
    services.tag_add(actor=world.people.staff, resident=r, group=elderly)
    names = lambda u: {t.group.code for t in selectors.resident_tags_visible(u, r)}  # noqa: E731
    assert names(world.people.staff) == {"community_correction", "elderly_alone"}
    assert names(world.people.grid_worker) == {"elderly_alone"}
    assert names(world.people.outsider) == set()
    tag = r.tags.get(group=correction)
    tag.helper = world.people.grid_worker
    tag.save()
    assert names(world.people.grid_worker) == {"community_correction", "elderly_alone"}


def test_component_code_has_16_characters_from_parts(world):
    from yiwang.registry.models import ComponentCategory

    cat = ComponentCategory.objects.get(large_code="01", small_code="18")
    c1 = services.component_create(actor=world.people.staff, grid=world.tree.grid_a1, category=cat, lon=111.1,
                                   lat=37.5)
    c2 = services.component_create(actor=world.people.staff, grid=world.tree.grid_a1, category=cat, lon=111.1,
                                   lat=37.5)
    assert c1.code == "1411020118000001" and c2.code == "1411020118000002"


def test_rental_marks_dwelling_rented(world):
    building = BuildingFactory(grid=world.tree.grid_a1)
    dwelling = make_dwelling(building)
    tenant = make_resident(world.tree.grid_a1, "租客")
    rental = services.rental_create(actor=world.people.staff, dwelling=dwelling, landlord_name="房东",
                                    start_date=dt.date(2026, 1, 1), tenants=[tenant])
    dwelling.refresh_from_db()
    assert dwelling.use == "rented" and list(rental.tenants.all()) == [tenant]
