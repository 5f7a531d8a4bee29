"""Registry corrections made on the phone: sync records of kind "correction" become change requests
through the registry's own service, exactly once, with the version check, scoping and the registry's
validation; personal numbers stay masked on the phone."""

import json
import re
import uuid

from yiwang.audit.models import AuditEvent
from yiwang.core import pii
from yiwang.fieldwork.models import SyncRecord
from yiwang.registry import records
from yiwang.registry.models import ChangeRequest, HouseholdMember, Resident
from yiwang.registry.services import change_request_approve, record_update

from .test_sync import send

NEW_PHONE = "13912345678"


def _head(household) -> Resident:
    return HouseholdMember.objects.get(household=household, relation="head").resident


def correction(target, changes, *, target_type="resident", base_version=None, reason="走访核实"):
    return {"uuid": str(uuid.uuid4()), "kind": "correction", "client_time": "2026-11-28T09:00:00+08:00",
            "base_version": target.version if base_version is None else base_version,
            "data": {"target_type": target_type, "target_id": target.pk, "changes": changes, "reason": reason}}


def test_a_correction_makes_one_pending_change_request_and_a_resend_makes_none(world, field, api_for):
    api = api_for(world.people.grid_worker)
    resident = _head(field.households[0])
    record = correction(resident, {"phone": NEW_PHONE, "occupation": "退休", "education": "senior"})
    first = send(api, [record])["results"][0]
    assert first["status"] == "created", first
    request = ChangeRequest.objects.get()
    assert first["object"] == {"id": request.pk, "state": "pending", "fields": ["education", "occupation", "phone"]}
    assert request.submitted_by == world.people.grid_worker and request.target_id == resident.pk
    assert request.changes["occupation"]["new"] == "退休" and request.reason == "走访核实"
    # The new phone is kept as a ciphertext token with a masked copy, never in plain text.
    assert NEW_PHONE not in json.dumps(request.changes)
    assert request.changes["phone"]["new"]["masked"] == pii.mask_phone(NEW_PHONE)

    again = send(api, [record])["results"][0]
    assert again["status"] == "duplicate" and again["object"] == first["object"]
    # The same correction sent again under a new UUID (the worker tapped twice) finds the pending request.
    twice = send(api, [{**record, "uuid": str(uuid.uuid4())}])["results"][0]
    assert twice["status"] == "created" and twice["object"]["id"] == request.pk
    assert ChangeRequest.objects.count() == 1
    resident.refresh_from_db()
    assert resident.occupation == "" and resident.version == 1  # nothing changes before review


def test_staff_approve_the_phone_correction_and_the_resident_changes(world, field, api_for):
    resident = _head(field.households[0])
    household = field.households[0]
    send(api_for(world.people.grid_worker),
         [correction(resident, {"phone": NEW_PHONE, "hukou_type": "floating"}),
          correction(household, {"address": "幸福路 8 号 2 单元 301"}, target_type="household")])
    for request in ChangeRequest.objects.order_by("pk"):
        change_request_approve(actor=world.people.staff, change_request=request, note="已核实")
    resident.refresh_from_db()
    household.refresh_from_db()
    assert pii.decrypt(resident.phone_cipher) == NEW_PHONE and resident.phone_masked == pii.mask_phone(NEW_PHONE)
    assert resident.hukou_type == "floating" and resident.version == 2
    assert household.address == "幸福路 8 号 2 单元 301"
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {"approved"}


def test_a_correction_based_on_an_outdated_version_is_a_conflict_with_both_sides_masked(world, field, api_for):
    resident = _head(field.households[0])
    cached_version = resident.version
    record_update(actor=world.people.staff, target=resident, changes={"phone": "13600001111"})
    record = correction(resident, {"phone": NEW_PHONE, "occupation": "司机"}, base_version=cached_version)
    response = send(api_for(world.people.grid_worker), [record])
    result = response["results"][0]
    assert result["status"] == "conflict" and result["server_version"] == cached_version + 1
    assert result["server"] == {"phone": pii.mask_phone("13600001111"), "occupation": ""}
    assert result["client"] == {"phone": pii.mask_phone(NEW_PHONE), "occupation": "司机"}
    assert "13600001111" not in json.dumps(response) and NEW_PHONE not in json.dumps(response)
    assert ChangeRequest.objects.count() == 0 and SyncRecord.objects.count() == 0
    # "Overwrite with mine": the same change on the current version goes through.
    mine = {**record, "uuid": str(uuid.uuid4()), "base_version": result["server_version"]}
    assert send(api_for(world.people.grid_worker), [mine])["results"][0]["status"] == "created"
    assert ChangeRequest.objects.count() == 1


def test_a_household_outside_the_workers_grids_is_refused_with_a_clear_message(world, field, api_for):
    outside = field.other_household  # grid A2, not the worker's
    results = send(api_for(world.people.grid_worker),
                   [correction(outside, {"address": "别处"}, target_type="household"),
                    correction(_head(outside), {"occupation": "别处"})])["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert [r["code"] for r in results] == ["not_covered", "not_covered"]
    assert results[0]["message"].startswith("此户不在您负责的网格内") and "仍保留在您的手机上" in results[0]["message"]
    assert results[1]["message"].startswith("此居民不在您负责的网格内")
    assert ChangeRequest.objects.count() == 0 and SyncRecord.objects.count() == 0


def test_an_invalid_phone_gets_a_chinese_message_creates_nothing_and_can_be_fixed(world, field, api_for):
    api = api_for(world.people.grid_worker)
    resident = _head(field.households[0])
    record = correction(resident, {"phone": "12345", "occupation": "厨师"})
    result = send(api, [record])["results"][0]
    assert result["status"] == "rejected" and result["code"] == "invalid"
    assert result["message"].startswith("12345 不是有效的电话号码")  # the registry's own message
    assert result["fields"] == {"phone": [result["message"]]}
    assert ChangeRequest.objects.count() == 0 and SyncRecord.objects.count() == 0
    assert not AuditEvent.objects.filter(action="change_request.submit").exists()
    # Nothing was kept for that UUID, so the phone may send the corrected record under it.
    fixed = {**record, "data": {**record["data"], "changes": {"phone": NEW_PHONE, "occupation": "厨师"}}}
    assert send(api, [fixed])["results"][0]["status"] == "created"
    assert ChangeRequest.objects.count() == 1


def test_fields_the_registry_does_not_let_be_edited_are_refused(world, field, api_for):
    resident = _head(field.households[0])
    results = send(api_for(world.people.grid_worker), [
        correction(resident, {"area_path": "999"}),
        correction(resident, {"education": "doctorate"}),
        correction(resident, {"occupation": {"nested": "x"}}),
        correction(resident, {"occupation": "教师"}, target_type="grid"),
    ])["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert "area_path" in results[0]["message"]
    assert results[1]["fields"] == {"education": [results[1]["message"]]} and "doctorate" in results[1]["message"]
    assert results[3]["fields"] == {"target_type": [results[3]["message"]]}
    assert ChangeRequest.objects.count() == 0


def test_a_correction_must_name_the_version_it_was_based_on(world, field, api_for):
    resident = _head(field.households[0])
    record = {**correction(resident, {"occupation": "教师"}), "base_version": None}
    result = send(api_for(world.people.grid_worker), [record])["results"][0]
    assert result["status"] == "rejected" and result["fields"] == {"base_version": ["更正必须注明基于哪个版本。"]}
    assert ChangeRequest.objects.count() == 0


def test_the_phone_form_offers_exactly_the_registrys_editable_fields(world, client_for):
    html = client_for(world.people.grid_worker).get("/m/").content.decode()
    found = re.search(r'<script id="correction-fields" type="application/json">(.*?)</script>', html, re.S)
    fields = json.loads(found.group(1))
    for target_type in ("resident", "household"):
        assert [f["name"] for f in fields[target_type]] == records.EDITABLE[target_type][1]
    resident = {f["name"]: f for f in fields["resident"]}
    assert resident["phone"]["kind"] == "phone" and not resident["phone"]["cached"]
    assert resident["id_number"]["kind"] == "secret" and not resident["id_number"]["cached"]
    assert resident["note"]["kind"] == "textarea" and not resident["note"]["cached"]
    assert resident["birth_date"]["kind"] == "date"
    assert resident["occupation"] == {"name": "occupation", "label": "职业", "blank": True, "cached": True,
                                      "kind": "text", "max_length": 100}
    assert ["floating", "流动人口"] in resident["hukou_type"]["choices"]
    assert resident["hukou_type"]["default"] == "registered" and "default" not in resident["phone"]


def test_english_labels_of_the_form_carry_no_chinese(world, client_for, settings):
    client = client_for(world.people.grid_worker)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/m/").content.decode()
    found = re.search(r'<script id="correction-fields" type="application/json">(.*?)</script>', html, re.S)
    hukou = {f["name"]: f for f in json.loads(found.group(1))["resident"]}["hukou_type"]
    assert ["registered", "Registered"] in hukou["choices"] and hukou["label"] == "household registration"


def test_the_phone_caches_versions_and_form_values_but_no_full_numbers(world, field, client_for):
    resident = _head(field.households[0])
    record_update(actor=world.people.staff, target=resident, changes={"phone": NEW_PHONE, "occupation": "退休"})
    data = client_for(world.people.grid_worker).get("/m/data/").json()
    row = next(r for r in data["residents"] if r["id"] == resident.pk)
    assert row["version"] == 2 and row["phone_masked"] == pii.mask_phone(NEW_PHONE)
    # Values equal to the field's default are left out (the form's description carries it).
    assert row["edit"] == {"occupation": "退休"}
    household = next(h for h in data["households"] if h["id"] == field.households[0].pk)
    assert household["version"] == field.households[0].version
    body = json.dumps(data, ensure_ascii=False)
    assert NEW_PHONE not in body and pii.decrypt(resident.id_cipher) not in body


# -- relation to the head and dwelling ------------------------------------------------------------

def _app_data(client_for, world) -> dict:
    response = client_for(world.people.grid_worker).get("/m/data/")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_phone_form_offers_relation_and_dwelling_and_the_cache_carries_their_values(world, field, client_for):
    from yiwang.geography.tests.factories import BuildingFactory
    from yiwang.registry.tests.factories import make_dwelling

    household = field.households[0]
    head = _head(household)
    building = BuildingFactory(grid=world.tree.grid_a1, name="走访楼")
    home, other = make_dwelling(building, unit=1, room="101"), make_dwelling(building, unit=2, room="202")
    elsewhere = make_dwelling(BuildingFactory(grid=world.tree.grid_a2), room="909")  # not the worker's grid
    record_update(actor=world.people.staff, target=head, changes={"dwelling": home.pk})
    record_update(actor=world.people.staff, target=household, changes={"dwelling": home.pk})

    html = client_for(world.people.grid_worker).get("/m/").content.decode()
    fields = json.loads(re.search(r'<script id="correction-fields" type="application/json">(.*?)</script>',
                                  html, re.S).group(1))
    resident = {f["name"]: f for f in fields["resident"]}
    assert resident["relation"]["label"] == "与户主关系" and resident["relation"]["cached"]
    assert [c[0] for c in resident["relation"]["choices"]] == list(HouseholdMember.Relation.values)
    assert resident["dwelling"]["kind"] == "dwelling" and resident["dwelling"]["cached"]
    assert {f["name"]: f for f in fields["household"]}["dwelling"]["kind"] == "dwelling"

    from yiwang.registry.tests.factories import make_resident

    lodger, child = make_resident(world.tree.grid_a1, "另住者", dwelling=other), make_resident(world.tree.grid_a1, "无房者")
    HouseholdMember.objects.create(household=household, resident=lodger, relation="other")
    HouseholdMember.objects.create(household=household, resident=child, relation="child")
    data = _app_data(client_for, world)
    rows = {r["id"]: r for r in data["residents"]}
    # A dwelling equal to the household's is left out (the phone takes the household's); another is
    # sent; none while the household has one is sent as null.
    assert rows[head.pk]["relation"] == "head" and "dwelling" not in rows[head.pk]["edit"]
    assert rows[lodger.pk]["edit"]["dwelling"] == other.pk and rows[lodger.pk]["relation"] == "other"
    assert rows[child.pk]["edit"]["dwelling"] is None
    assert "dwelling" not in rows[_head(field.households[1]).pk]["edit"]  # no dwelling on either side
    assert next(h for h in data["households"] if h["id"] == household.pk)["dwelling_id"] == home.pk
    assert "dwelling_id" not in next(h for h in data["households"] if h["id"] == field.households[1].pk)
    # The grid's dwellings, compactly, and nothing of other grids.
    assert sorted(data["dwellings"]) == sorted([[home.pk, building.pk, 1, "101"], [other.pk, building.pk, 2, "202"]])
    assert elsewhere.pk not in [d[0] for d in data["dwellings"]]
    assert len(json.dumps(data["dwellings"], separators=(",", ":"))) < 25 * len(data["dwellings"]) + 2


def test_relation_and_dwelling_corrections_from_the_phone_become_change_requests(world, field, api_for):
    from yiwang.geography.tests.factories import BuildingFactory
    from yiwang.registry.tests.factories import make_dwelling, make_resident

    household = field.households[0]
    spouse = make_resident(world.tree.grid_a1, "配偶")
    HouseholdMember.objects.create(household=household, resident=spouse, relation="spouse")
    mine = make_dwelling(BuildingFactory(grid=world.tree.grid_a1, name="本网格楼"), room="301")
    theirs = make_dwelling(BuildingFactory(grid=world.tree.grid_a2), room="302")
    api = api_for(world.people.grid_worker)
    results = send(api, [
        correction(spouse, {"relation": "other", "dwelling": str(mine.pk)}),
        correction(household, {"dwelling": str(mine.pk)}, target_type="household"),
        correction(spouse, {"relation": "head"}),  # a second head
        correction(_head(household), {"relation": "child"}),  # the only head removed
        correction(spouse, {"dwelling": str(theirs.pk)}),  # not in the worker's grids
    ])["results"]
    assert [r["status"] for r in results] == ["created", "created", "rejected", "rejected", "rejected"]
    assert "已有户主" in results[2]["fields"]["relation"][0]
    assert "每户必须有且只有一名户主" in results[3]["fields"]["relation"][0]
    assert results[4]["fields"] == {"dwelling": ["请选择您所负责网格内的房屋。"]}
    assert ChangeRequest.objects.count() == 2
    for request in ChangeRequest.objects.order_by("pk"):
        change_request_approve(actor=world.people.staff, change_request=request)
    spouse.refresh_from_db()
    household.refresh_from_db()
    assert spouse.dwelling == mine and household.dwelling == mine
    assert HouseholdMember.objects.get(resident=spouse, left_on__isnull=True).relation == "other"
