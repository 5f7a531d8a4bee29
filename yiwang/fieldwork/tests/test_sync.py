"""The offline sync endpoint: exactly-once, conflicts, coverage checks, clock skew."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.accounts.models import Membership
from yiwang.audit.models import AuditEvent
from yiwang.cases.models import Case
from yiwang.fieldwork.models import Patrol, SyncRecord, Visit
from yiwang.registry.models import ChangeRequest, SituationLog

from .factories import event_record, patrol_record, visit_record

URL = "/api/v1/fieldwork/sync/"


def send(api, records, **extra):
    response = api.post(URL, {"records": records, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_url_name():
    assert reverse("api:fieldwork-sync") == URL


def test_a_batch_creates_each_record_once_and_a_resend_returns_the_first_results(world, field, api_for):
    api = api_for(world.people.grid_worker)
    records = [visit_record(field.households[0]), visit_record(field.households[1]),
               patrol_record(world.tree.grid_a1), event_record(world.tree.grid_a1)]
    first = send(api, records)
    assert [r["status"] for r in first["results"]] == ["created"] * 4
    assert [r["uuid"] for r in first["results"]] == [r["uuid"] for r in records]
    again = send(api, records)
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 4
    assert [r["uuid"] for r in again["results"]] == [r["uuid"] for r in records]
    assert [r["object"] for r in again["results"]] == [r["object"] for r in first["results"]]
    assert Visit.objects.count() == 2 and Patrol.objects.count() == 1 and Case.objects.count() == 1
    assert SyncRecord.objects.count() == 4
    case = Case.objects.get()
    assert case.channel == "grid_worker" and case.created_by == world.people.grid_worker
    assert first["results"][3]["object"]["tracking_code"] == case.tracking_code


def test_the_same_uuid_twice_in_one_batch_creates_one(world, field, api_for):
    record = visit_record(field.households[0])
    result = send(api_for(world.people.grid_worker), [record, dict(record)])
    assert [r["status"] for r in result["results"]] == ["created", "duplicate"]
    assert Visit.objects.count() == 1


def test_a_reused_uuid_with_different_content_is_refused_and_the_first_kept(world, field, api_for):
    api = api_for(world.people.grid_worker)
    record = visit_record(field.households[0], findings="第一次")
    send(api, [record])
    changed = {**record, "data": {**record["data"], "findings": "被改过"}}
    result = send(api, [changed])["results"][0]
    assert result["status"] == "rejected" and result["code"] == "uuid_reused"
    assert Visit.objects.get().findings == "第一次"


def test_another_users_uuid_is_not_revealed(world, field, api_for):
    record = visit_record(field.households[0])
    send(api_for(world.people.grid_worker), [record])
    other = world.people.grid_worker.__class__.objects.create(username="wg_a1_b")
    Membership.objects.create(user=other, area=world.tree.grid_a1, role="grid_worker")
    result = send(api_for(other), [record])["results"][0]
    assert result["code"] == "uuid_reused" and "object" not in result


def test_a_grid_the_worker_no_longer_covers_is_refused_with_a_message(world, field, api_for):
    api = api_for(world.people.grid_worker)
    result = send(api, [visit_record(field.other_household), patrol_record(world.tree.grid_a2)])["results"]
    assert [r["code"] for r in result] == ["invalid", "not_covered"]
    assert world.tree.grid_a2.name in result[1]["message"]
    Membership.objects.filter(user=world.people.grid_worker).update(active=False)
    Membership.objects.create(user=world.people.grid_worker, area=world.tree.grid_a2, role="grid_worker")
    worker = world.people.grid_worker.__class__.objects.get(pk=world.people.grid_worker.pk)
    result = send(api_for(worker), [patrol_record(world.tree.grid_a1)])["results"][0]
    assert result["status"] == "rejected" and result["code"] == "not_covered"
    assert Patrol.objects.count() == 0 and Visit.objects.count() == 0


def test_one_bad_record_does_not_lose_the_others(world, field, api_for):
    bad = visit_record(field.households[0], visited_at="not a time")
    result = send(api_for(world.people.grid_worker), [bad, visit_record(field.households[1]), {"kind": "visit"}])
    assert [r["status"] for r in result["results"]] == ["rejected", "created", "rejected"]
    assert "visited_at" in result["results"][0]["fields"]
    assert Visit.objects.count() == 1


def test_a_phone_clock_hours_off_is_flagged_and_times_corrected(world, field, api_for):
    now = timezone.now()
    phone_now = now + dt.timedelta(hours=3)
    record = visit_record(field.households[0], when=phone_now - dt.timedelta(minutes=10))
    result = send(api_for(world.people.grid_worker), [record], client_sent_at=phone_now.isoformat())
    assert result["clock_flag"] is True and abs(result["clock_skew_s"] + 3 * 3600) < 60
    assert result["clock_message"]
    visit = Visit.objects.get()
    assert abs((visit.visited_at - (now - dt.timedelta(minutes=10))).total_seconds()) < 60
    receipt = SyncRecord.objects.get()
    assert receipt.clock_skew_flag and receipt.client_time.isoformat().startswith(record["client_time"][:16])


def test_a_future_time_without_clock_info_is_refused(world, field, api_for):
    record = visit_record(field.households[0], when=timezone.now() + dt.timedelta(hours=5))
    result = send(api_for(world.people.grid_worker), [record])["results"][0]
    assert result["status"] == "rejected" and "visited_at" in result["fields"]


def test_an_edit_on_an_outdated_version_is_a_conflict_with_both_versions(world, field, api_for):
    api = api_for(world.people.grid_worker)
    record = visit_record(field.households[0], follow_up="送药", follow_up_due="2030-01-01")
    send(api, [record])
    edit1 = {"uuid": str(uuid.uuid4()), "kind": "visit_edit", "base_version": 1,
             "data": {"visit_uuid": record["uuid"], "changes": {"findings": "补充：老人腿脚不便"}}}
    edit2 = {"uuid": str(uuid.uuid4()), "kind": "visit_edit", "base_version": 1,
             "data": {"visit_uuid": record["uuid"], "changes": {"findings": "另一台手机的内容"}}}
    results = send(api, [edit1, edit2])["results"]
    assert results[0]["status"] == "created" and results[0]["object"]["version"] == 2
    assert results[1]["status"] == "conflict"
    assert results[1]["server"] == {"findings": "补充：老人腿脚不便"}
    assert results[1]["client"] == {"findings": "另一台手机的内容"} and results[1]["server_version"] == 2
    assert Visit.objects.get().findings == "补充：老人腿脚不便"
    resolved = {**edit2, "uuid": str(uuid.uuid4()), "base_version": 2}
    assert send(api, [resolved])["results"][0]["status"] == "created"


def test_registry_correction_becomes_a_change_request_and_an_outdated_one_a_conflict(world, field, api_for):
    api = api_for(world.people.grid_worker)
    household = field.households[0]
    record = {"uuid": str(uuid.uuid4()), "kind": "correction", "base_version": household.version,
              "data": {"target_type": "household", "target_id": household.pk, "changes": {"address": "新地址1号"},
                       "reason": "走访发现门牌变更"}}
    result = send(api, [record])["results"][0]
    assert result["status"] == "created"
    request = ChangeRequest.objects.get()
    assert request.state == "pending" and request.changes["address"]["new"] == "新地址1号"
    stale = {**record, "uuid": str(uuid.uuid4()), "base_version": household.version + 5,
             "data": {**record["data"], "changes": {"address": "别的地址"}}}
    result = send(api, [stale])["results"][0]
    assert result["status"] == "conflict" and result["client"] == {"address": "别的地址"}
    assert ChangeRequest.objects.count() == 1


def test_situation_log_entry_goes_to_the_registry(world, field, api_for):
    record = {"uuid": str(uuid.uuid4()), "kind": "situation",
              "data": {"grid_id": world.tree.grid_a1.pk, "text": "楼道堆放杂物，居民有意见",
                       "household_ids": [field.households[0].pk]}}
    api = api_for(world.people.grid_worker)
    assert send(api, [record])["results"][0]["status"] == "created"
    assert send(api, [record])["results"][0]["status"] == "duplicate"
    log = SituationLog.objects.get()
    assert log.author == world.people.grid_worker and list(log.households.all()) == [field.households[0]]


def test_staff_and_outsiders_cannot_sync(world, field, api_for):
    for who in ("staff", "outsider", "resident"):
        response = api_for(getattr(world.people, who)).post(URL, {"records": [visit_record(field.households[0])]},
                                                            format="json")
        assert response.status_code == 403
    assert api_for(None).post(URL, {"records": []}, format="json").status_code in (401, 403)
    assert Visit.objects.count() == 0


def test_records_are_audited(world, field, api_for):
    send(api_for(world.people.grid_worker), [visit_record(field.households[0]), patrol_record(world.tree.grid_a1)])
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"visit.record", "patrol.record"} <= actions


def test_patrol_distance_and_duration_are_computed_on_the_server(world, field, api_for):
    record = patrol_record(world.tree.grid_a1, minutes=45)
    record["data"]["distance_m"] = 99999  # ignored
    send(api_for(world.people.grid_worker), [record])
    patrol = Patrol.objects.get()
    assert patrol.duration_s == 45 * 60
    assert 350 < patrol.distance_m < 450  # 9 steps of 0.0005 degrees of longitude at 37.5 N (~44 m)
    assert patrol.day == timezone.localtime(patrol.started_at).date()


@pytest.mark.parametrize("n", [200])
def test_a_batch_of_200_uses_a_bounded_number_of_queries(world, field, api_for, django_assert_max_num_queries, n):
    records = [visit_record(field.households[i % 3]) if i % 2 else patrol_record(world.tree.grid_a1)
               for i in range(n)]
    api = api_for(world.people.grid_worker)
    with django_assert_max_num_queries(22):  # bulk: independent of n
        result = send(api, records)
    assert sum(r["status"] == "created" for r in result["results"]) == n


def situation_record(grid) -> dict:
    return {"uuid": str(uuid.uuid4()), "kind": "situation", "client_time": timezone.now().isoformat(),
            "data": {"grid_id": grid.pk, "text": "居民反映楼道堆物较多", "tags": "消防,楼道"}}


@pytest.mark.parametrize("kind", ["event", "situation"])
def test_records_applied_one_by_one_cost_a_fixed_number_of_queries_each(world, field, api_for, kind,
                                                                        django_capture_on_commit_callbacks):
    """Event reports (cases' intake) and situation-log entries are applied one at a time, each in its own
    savepoint: what one costs is pinned, nothing is re-read per record that the batch already knows,
    and the rollup refresh after the batch runs once for the grid and day however many events it holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make = {"event": lambda: event_record(world.tree.grid_a1), "situation": lambda: situation_record(world.tree.grid_a1)}
    api = api_for(world.people.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        send(api, [make[kind]()])  # warm per-process caches (grid index, compiled queries)

    def statements(n):
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
            result = send(api, [make[kind]() for _ in range(n)])
        assert [r["status"] for r in result["results"]] == ["created"] * n
        return [q["sql"] for q in ctx.captured_queries]

    two, six = statements(2), statements(6)
    assert (len(six) - len(two)) / 4 <= PER_RECORD[kind]
    assert sum("COUNT(DISTINCT" in s and "cases_casestep" in s for s in six) == (kind == "event")


# Statements per record, savepoints included. An event: its savepoint; cases' intake (idempotency probe,
# category, grid, dispatch rules x2, a savepoint, one INSERT each for the case, follower, steps, audit
# rows, notifications in their own savepoint, dispatchers and handlers to notify); the receipt.
# A situation-log entry: its savepoint, the registry's entry with its two (empty) links and audit row,
# the receipt.
PER_RECORD = {"event": 19, "situation": 9}


def test_timing_note_200_records(world, field, api_for, capsys):
    """Not a benchmark (benchmarks/ measures it); prints the time of one 200-record batch."""
    import time

    records = [visit_record(field.households[i % 3]) if i % 2 else patrol_record(world.tree.grid_a1)
               for i in range(200)]
    api = api_for(world.people.grid_worker)
    send(api, [visit_record(field.households[0])])  # warm up: URL conf import, connection
    import cProfile
    import os
    profiler = cProfile.Profile() if os.environ.get("FW_PROFILE") else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = send(api, records)
    elapsed = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats("/tmp/fw_sync.prof")
    with capsys.disabled():
        print(f"\n[fieldwork] sync of 200 records: {elapsed:.2f}s")
    assert all(r["status"] == "created" for r in result["results"])
