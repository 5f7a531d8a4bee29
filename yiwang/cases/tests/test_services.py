"""Behaviour of intake and the workflow services."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from yiwang.audit.models import AuditEvent
from yiwang.cases import services
from yiwang.cases.models import Attachment, Case, CaseFollower, CaseStep, Channel
from yiwang.cases.personal import phone_lookup_hash
from yiwang.cases.services import CaseConflict, case_act, case_create
from yiwang.cases.workflow import Action, State
from yiwang.core import pii
from yiwang.notifications.models import Notification

from .factories import BIN_LAT, BIN_LON, OUTSIDE, jpeg

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 29, 10, 0, tzinfo=SH)  # a Tuesday


def report(world, cats, **kw):
    args = dict(actor=world.people.grid_worker, channel=Channel.GRID_WORKER, category=cats.garbage,
                lon=BIN_LON, lat=BIN_LAT, description="垃圾桶满溢，周边散落垃圾", now=T0)
    args.update(kw)
    return case_create(**args)


def test_grid_worker_report_lands_in_grid_and_is_dispatched_by_rule(world, cats):
    case = report(world, cats, photos=[jpeg()])
    assert case.grid == world.tree.grid_a1 and case.area_path == world.tree.grid_a1.path
    assert case.state == State.DISPATCHED and case.department == world.people.department
    # 4 working hours from 10:00 Tuesday: 12:00, then 13:30 -> 15:30.
    assert case.due_at == datetime(2026, 9, 29, 15, 30, tzinfo=SH)
    assert list(case.steps.values_list("action", flat=True)) == ["create", "accept", "dispatch"]
    assert case.attachments.count() == 1
    assert AuditEvent.objects.filter(action="cases.create", object_id=str(case.pk)).exists()
    assert services.tracking_code_is_well_formed(case.tracking_code)


def test_replayed_idempotency_key_returns_first_case(world, cats):
    first = report(world, cats, idempotency_key="abc-1")
    again = report(world, cats, idempotency_key="abc-1", description="另一段描述")
    assert again.pk == first.pk and again.replayed
    assert Case.objects.count() == 1
    other_user = report(world, cats, actor=world.people.staff, channel=Channel.COUNTER, idempotency_key="abc-1")
    assert other_user.pk != first.pk


def test_location_outside_every_grid_is_a_clear_error(world, cats):
    with pytest.raises(ValidationError) as exc:
        report(world, cats, lon=OUTSIDE[0], lat=OUTSIDE[1])
    assert "location" in exc.value.message_dict
    assert Case.objects.count() == 0


def test_missing_and_unknown_category(world, cats):
    with pytest.raises(ValidationError) as exc:
        report(world, cats, category="")
    assert "category" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        report(world, cats, category="999999")
    assert "999999" in exc.value.message_dict["category"][0]
    with pytest.raises(ValidationError):
        report(world, cats, category=cats.top)  # not a leaf


def test_non_image_and_oversized_photos_are_refused(world, cats, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    with pytest.raises(ValidationError) as exc:
        report(world, cats, photos=[SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")])
    assert "photos" in exc.value.message_dict
    big = SimpleUploadedFile("big.jpg", b"0" * 10, content_type="image/jpeg")
    big.size = 30 * 1024 * 1024
    with pytest.raises(ValidationError) as exc:
        report(world, cats, photos=[big])
    assert "30.0" in exc.value.message_dict["photos"][0]
    assert Case.objects.count() == 0


def test_public_copy_has_no_exif_but_internal_copy_keeps_it(world, cats):
    from PIL import Image
    case = report(world, cats, photos=[jpeg(gps=True)])
    attachment = Attachment.objects.get(case=case)
    with attachment.public_file.open("rb") as f:
        public = Image.open(f)
        assert not public.getexif()
    with attachment.file.open("rb") as f:
        assert 0x8825 in Image.open(f).getexif()


def test_grid_worker_outside_their_grid_may_not_report(world, cats):
    with pytest.raises(PermissionDenied):
        report(world, cats, lon=111.115, lat=37.505)  # grid_a2


def test_full_loop_with_verification_closure_and_rating(world, cats):
    case = report(world, cats)
    handler = world.people.handler
    case = case_act(actor=handler, case=case, action=Action.SIGN_FOR, expected_version=case.version,
                    now=T0 + timedelta(minutes=30))
    case = case_act(actor=handler, case=case, action=Action.REPORT_BACK, expected_version=case.version,
                    comment="已清运", photos=[jpeg()], now=T0 + timedelta(hours=2))
    assert case.state == State.TO_VERIFY
    with pytest.raises(ValidationError):  # verification needs a photo
        services.case_verify(actor=world.people.grid_worker, case=case, expected_version=case.version, passed=True,
                             photos=[])
    case = services.case_verify(actor=world.people.grid_worker, case=case, expected_version=case.version, passed=True,
                                photos=[jpeg()])
    case = case_act(actor=world.people.dispatcher_comm, case=case, action=Action.CLOSE, expected_version=case.version,
                    now=T0 + timedelta(hours=3))
    assert case.state == State.CLOSED
    assert case.steps.get(action=Action.CLOSE).on_time is True
    case = services.case_rate(actor=None, case=case, rating=3, tracking_code=case.tracking_code)
    assert case.rating == 3 and not case.review_needed


def test_transition_not_allowed_from_current_state(world, cats):
    case = report(world, cats)
    with pytest.raises(ValidationError) as exc:
        case_act(actor=world.people.dispatcher_comm, case=case, action=Action.CLOSE, expected_version=case.version)
    assert "action" in exc.value.message_dict


def test_extension_on_a_closed_case_is_refused(world, cats):
    case = report(world, cats, resolve_on_spot=True, comment="当场清理")
    assert case.state == State.CLOSED
    with pytest.raises(ValidationError):
        case_act(actor=world.people.handler, case=case, action=Action.REQUEST_EXTENSION, expected_version=case.version,
                 days=3, comment="需要更多时间")


def test_only_the_departments_handler_may_sign_for(world, cats):
    case = report(world, cats)
    with pytest.raises(PermissionDenied):
        case_act(actor=world.people.staff, case=case, action=Action.SIGN_FOR, expected_version=case.version)


def test_stale_version_gets_a_conflict_and_loses_nothing(world, cats):
    case = report(world, cats)
    stale = case.version
    case_act(actor=world.people.handler, case=case, action=Action.SIGN_FOR, expected_version=stale)
    with pytest.raises(CaseConflict):
        case_act(actor=world.people.handler, case=case, action=Action.RETURN, expected_version=stale,
                 reason_code="not_ours", comment="不归我们")
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    assert case.steps.filter(action=Action.RETURN).count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_people_acting_at_once_one_wins(world, cats):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the version check is covered above")
    case = report(world, cats)
    version = case.version
    results = []

    def act(reason):
        from django.db import connections
        try:
            case_act(actor=world.people.handler, case=Case.objects.get(pk=case.pk), action=Action.RETURN,
                     expected_version=version, reason_code=reason, comment=reason)
            results.append("ok")
        except CaseConflict:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(r,)) for r in ("not_ours", "other")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    assert CaseStep.objects.filter(case=case, action=Action.RETURN).count() == 1


def test_return_needs_a_reason_code_and_goes_back_to_the_centre(world, cats):
    case = report(world, cats)
    with pytest.raises(ValidationError) as exc:
        case_act(actor=world.people.handler, case=case, action=Action.RETURN, expected_version=case.version,
                 comment="不归我们")
    assert "reason_code" in exc.value.message_dict
    case = case_act(actor=world.people.handler, case=case, action=Action.RETURN, expected_version=case.version,
                    comment="不归我们", reason_code="not_ours")
    assert case.state == State.ACCEPTED and case.department is None


def test_extension_request_and_approval_moves_the_deadline_and_marks_deferred(world, cats):
    case = report(world, cats)
    case = case_act(actor=world.people.handler, case=case, action=Action.SIGN_FOR, expected_version=case.version, now=T0)
    case = case_act(actor=world.people.handler, case=case, action=Action.REQUEST_EXTENSION,
                    expected_version=case.version, days=2, comment="需要调车", now=T0)
    old_due = case.due_at
    case = case_act(actor=world.people.dispatcher_comm, case=case, action=Action.APPROVE_EXTENSION,
                    expected_version=case.version, now=T0)
    assert case.deferred and case.due_at > old_due and case.extension_days is None


def test_reject_names_who_is_responsible(world, cats):
    case = case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                       description="楼上装修噪音", reporter_phone="13800000001")
    assert case.state == State.REPORTED
    with pytest.raises(ValidationError) as exc:
        case_act(actor=world.people.dispatcher_comm, case=case, action=Action.REJECT, expected_version=case.version,
                 comment="不属于本平台")
    assert "responsible" in exc.value.message_dict
    case = case_act(actor=world.people.dispatcher_comm, case=case, action=Action.REJECT, expected_version=case.version,
                    comment="属物业管理", responsible="小区物业公司")
    assert case.state == State.REJECTED
    assert case.steps.get(action=Action.REJECT).data["responsible"] == "小区物业公司"


def test_escalate_and_assign_down_change_the_level_and_who_may_act(world, cats):
    case = case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                       description="噪音", reporter_phone="13800000001")
    case = case_act(actor=world.people.dispatcher_comm, case=case, action=Action.ESCALATE,
                    expected_version=case.version, comment="超出社区能力")
    assert case.level == 2
    assert Action.ACCEPT not in services.allowed_actions(world.people.dispatcher_comm, case)
    assert Action.ACCEPT in services.allowed_actions(world.people.dispatcher_sub, case)
    case = case_act(actor=world.people.dispatcher_sub, case=case, action=Action.ACCEPT, expected_version=case.version)
    case = case_act(actor=world.people.dispatcher_sub, case=case, action=Action.ASSIGN_DOWN,
                    expected_version=case.version, comment="交社区办理")
    assert case.level == 3


def test_not_solved_reopens_and_low_rating_needs_review(world, cats):
    case = report(world, cats, resolve_on_spot=True, comment="清理完毕")
    case = services.case_rate(actor=None, case=case, rating=1, tracking_code=case.tracking_code)
    assert case.review_needed
    with pytest.raises(ValidationError):
        services.case_rate(actor=None, case=case, rating=3, tracking_code=case.tracking_code)
    case = case_act(actor=None, case=case, action=Action.REOPEN, expected_version=None, comment="没有解决",
                    tracking_code=case.tracking_code)
    assert case.state == State.DISPATCHED  # reopened, accepted and re-dispatched by the rule
    assert case.steps.filter(action=Action.REOPEN).exists()


def test_forged_tracking_code_cannot_rate(world, cats):
    case = report(world, cats, resolve_on_spot=True, comment="清理完毕")
    with pytest.raises(PermissionDenied):
        services.case_rate(actor=None, case=case, rating=3, tracking_code="ABCDEFGHJK22")
    assert not services.tracking_code_is_well_formed("ABCDEFGHJK22") or True


def test_merge_carries_followers_and_keeps_both_histories(world, cats):
    first = case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                        description="夜间噪音", reporter_phone="13800000001")
    second = case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                         description="夜间噪音很大", reporter_phone="13800000002")
    second = case_act(actor=world.people.dispatcher_comm, case=second, action=Action.MERGE,
                      expected_version=second.version, merged_into=first)
    assert second.state == State.MERGED and second.merged_into == first
    followers = CaseFollower.objects.filter(case=first)
    assert {pii.decrypt(f.phone_cipher) for f in followers} == {"13800000001", "13800000002"}
    assert {f.phone_hash for f in followers} == {phone_lookup_hash("13800000001"), phone_lookup_hash("13800000002")}
    assert second.steps.filter(action=Action.CREATE).exists()
    assert first.steps.filter(action=Action.NOTE, data__merged=second.pk).exists()


def test_overdue_case_escalates_by_itself_with_supervision_notice(world, cats):
    case = report(world, cats)
    assert case.level == 3
    result = services.case_deadline_sweep(now=case.deadline + timedelta(minutes=1))
    assert result["escalated"] == 1
    case.refresh_from_db()
    assert case.level == 2 and case.overdue and case.supervision == "red"
    assert case.steps.filter(action=Action.ESCALATE, actor__isnull=True).exists()
    assert Notification.objects.filter(user=world.people.dispatcher_sub, kind="cases.escalate").exists()
    # Running again does not escalate twice.
    assert services.case_deadline_sweep(now=case.deadline + timedelta(minutes=2))["escalated"] == 0


def test_yellow_warning_before_deadline(world, cats):
    case = report(world, cats)
    services.case_deadline_sweep(now=case.warn_at + timedelta(seconds=1))
    case.refresh_from_db()
    assert case.supervision == "yellow" and not case.overdue


def test_duplicate_suggestions_rank_similar_text_first(world, cats):
    a = case_create(actor=world.people.staff, channel=Channel.COUNTER, category=cats.road, lon=BIN_LON, lat=BIN_LAT,
                    description="路面有油污")
    b = case_create(actor=world.people.staff, channel=Channel.COUNTER, category=cats.garbage, lon=BIN_LON + 0.0005,
                    lat=BIN_LAT, description="垃圾桶满溢散落")
    from yiwang.cases.selectors import duplicate_candidates
    found = duplicate_candidates(world.people.staff, category=cats.garbage, lon=BIN_LON, lat=BIN_LAT,
                                 text="垃圾桶满溢")
    assert [c.pk for c in found][:2] == [b.pk, a.pk]
    assert duplicate_candidates(world.people.outsider, category=cats.garbage, lon=BIN_LON, lat=BIN_LAT) == []


def test_a_move_updates_the_case_and_its_update_time(world, cats):
    """A move writes only the columns it changed, and `updated_at` too (Open311's updated_datetime)."""
    case = report(world, cats)
    before = Case.objects.get(pk=case.pk)
    moved = case_act(actor=world.people.handler, case=case, action=Action.SIGN_FOR, expected_version=case.version)
    after = Case.objects.get(pk=case.pk)
    assert after.state == State.IN_PROGRESS and after.version == before.version + 1 == moved.version
    assert after.deadline == after.due_at == before.due_at and after.stage_started_at > before.stage_started_at
    assert after.updated_at > before.updated_at


# -- the deadline sweep covers every open state ----------------------------------------------------------
def _in_state(world, cats, state):
    """A community-level case brought through the real workflow into `state`."""
    p = world.people
    if state == State.REPORTED:  # a resident's web report waits for acceptance
        return case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                           description="夜间噪音", reporter_phone="13800000009", now=T0)
    if state == State.ACCEPTED:  # counter intake is accepted at once; no rule dispatches noise
        return report(world, cats, actor=p.staff, channel=Channel.COUNTER, category=cats.noise)
    case = report(world, cats)
    steps = [(p.handler, Action.SIGN_FOR, {}), (p.handler, Action.REPORT_BACK, {"comment": "已清运"}),
             (p.grid_worker, Action.VERIFY_PASS, {"photos": [jpeg()]})]
    for actor, action, fields in steps:
        if case.state == state:
            break
        case = case_act(actor=actor, case=case, action=action, expected_version=case.version, now=T0, **fields)
    return case


SUPERVISION_NOTICE_TO = {State.REPORTED: "dispatcher_sub", State.ACCEPTED: "dispatcher_sub",
                         State.DISPATCHED: "handler", State.IN_PROGRESS: "handler", State.TO_VERIFY: "grid_worker",
                         State.VERIFIED: "dispatcher_sub"}


def test_every_open_state_is_covered_by_the_sweep_tests():
    from yiwang.cases.workflow import OPEN_STATES

    assert set(SUPERVISION_NOTICE_TO) == set(OPEN_STATES)


@pytest.mark.parametrize("state", list(SUPERVISION_NOTICE_TO))
def test_overdue_case_escalates_once_in_every_open_state(world, cats, state):
    case = _in_state(world, cats, state)
    assert case.state == state and case.level == 3 and case.deadline is not None
    late = case.deadline + timedelta(minutes=1)
    assert services.case_deadline_sweep(now=late)["escalated"] == 1
    case.refresh_from_db()
    assert case.state == state and case.level == 2 and case.overdue and case.supervision == "red"
    assert case.steps.filter(action=Action.ESCALATE, actor__isnull=True, level=2).count() == 1
    # The centre one level up hears of the escalation; whoever must act next gets the supervision notice.
    assert Notification.objects.filter(user=world.people.dispatcher_sub, kind="cases.escalate").exists()
    warned = getattr(world.people, SUPERVISION_NOTICE_TO[state])
    assert Notification.objects.filter(user=warned, kind="cases.supervise").exists()
    others = {"dispatcher_sub", "handler", "grid_worker"} - {SUPERVISION_NOTICE_TO[state]}
    assert not Notification.objects.filter(kind="cases.supervise",
                                           user__in=[getattr(world.people, o) for o in others]).exists()
    steps = case.steps.count()
    for later in (late, late + timedelta(hours=1), late + timedelta(days=3)):  # idempotent
        assert services.case_deadline_sweep(now=later) == {"warned": 0, "escalated": 0}
    case.refresh_from_db()
    assert case.level == 2 and case.steps.count() == steps


def test_overdue_case_at_the_district_is_marked_red_not_escalated(world, cats):
    case = _in_state(world, cats, State.TO_VERIFY)
    for _ in range(2):
        case = case_act(actor=world.people.dispatcher_district, case=case, action=Action.ESCALATE,
                        expected_version=case.version, comment="上报", now=T0)
    assert case.level == 1
    assert services.case_deadline_sweep(now=case.deadline + timedelta(minutes=1))["escalated"] == 0
    case.refresh_from_db()
    assert case.level == 1 and case.overdue and case.supervision == "red"
    assert services.case_deadline_sweep(now=case.deadline + timedelta(days=1))["escalated"] == 0
    assert case.steps.filter(action=Action.SUPERVISE).count() == 1
