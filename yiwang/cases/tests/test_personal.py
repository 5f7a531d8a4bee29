"""Personal data in the case loop: phones sealed at rest, looked up by keyed hash, masked on every page and
API, revealed only with a permission and a reason (audited), and the migration that sealed old rows."""

import importlib
import logging
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from yiwang.accounts.models import ApiToken
from yiwang.audit.models import AuditEvent
from yiwang.cases import personal, services
from yiwang.cases.models import Case, CaseFollower, Channel, PhoneVerification
from yiwang.cases.services import case_act, case_create
from yiwang.cases.workflow import Action
from yiwang.core import pii
from yiwang.notifications.backends import ConsoleSMS
from yiwang.notifications.models import DeliveryStatus, Notification, NotificationDelivery
from yiwang.notifications.services import deliver, due_delivery_ids

from .factories import BIN_LAT, BIN_LON

PHONE, MASKED, NAME = "13912345678", "139****5678", "王小明"


def staff_intake(world, cats, **kw):
    """A counter clerk records a resident's request on their behalf."""
    args = dict(actor=world.people.staff, channel=Channel.COUNTER, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                description="楼上夜间装修噪音", reporter_name=NAME, reporter_phone="+86 139 1234 5678")
    args.update(kw)
    return case_create(**args)


def raw_row(table: str, pk: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} WHERE id = %s", [pk])
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def assert_no_plain_phone(row: dict) -> None:
    assert not any(PHONE in str(value) for value in row.values()), row


# -- at rest ----------------------------------------------------------------------------------------
def test_reporter_and_follower_phones_are_ciphertext_in_the_database(world, cats):
    case = staff_intake(world, cats)
    row = raw_row("cases_case", case.pk)
    assert_no_plain_phone(row)
    assert row["reporter_phone_cipher"].startswith(pii.TOKEN_PREFIX)
    assert pii.decrypt(row["reporter_phone_cipher"]) == PHONE  # normalised: +86 and spaces dropped
    assert row["reporter_phone_hash"] == personal.phone_lookup_hash(PHONE)
    assert row["reporter_phone_masked"] == MASKED
    follower = CaseFollower.objects.get(case=case, user__isnull=True)
    assert_no_plain_phone(raw_row("cases_casefollower", follower.pk))
    assert pii.decrypt(follower.phone_cipher) == PHONE and follower.phone_masked == MASKED


def test_the_keyed_hash_finds_the_case_for_any_spelling_of_the_phone(world, cats):
    case = staff_intake(world, cats)
    staff_intake(world, cats, reporter_phone="13800000000")
    for typed in ("13912345678", "139 1234 5678", "+8613912345678", "0086-139-1234-5678"):
        assert list(Case.objects.filter(reporter_phone_hash=personal.phone_lookup_hash(typed))) == [case]


def test_a_malformed_reporter_phone_is_refused_and_nothing_saved(world, cats):
    with pytest.raises(ValidationError) as exc:
        staff_intake(world, cats, reporter_phone="12ab")
    assert "reporter_phone" in exc.value.message_dict
    assert not Case.objects.exists()


def test_sms_notifications_keep_the_phone_sealed_and_log_it_masked(world, cats, caplog):
    case = case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                       description="噪音", reporter_phone=PHONE)
    case_act(actor=world.people.dispatcher_comm, case=case, action=Action.REJECT, expected_version=case.version,
             comment="不属于本平台", responsible="小区物业公司")
    sent = Notification.objects.filter(kind="cases.public_step", phone_hash=personal.phone_lookup_hash(PHONE))
    assert sent.count() == 2  # creation and rejection, each once
    for notification in sent:
        assert_no_plain_phone(raw_row("cases_notification", notification.pk))  # dedupe_key included
        assert notification.phone == PHONE  # what an SMS backend reads
    with caplog.at_level(logging.WARNING, logger="yiwang.notify"):
        ConsoleSMS().send(sent.first())
    assert MASKED in caplog.text and PHONE not in caplog.text


# -- phone verification and public intake ---------------------------------------------------------------
def test_verification_codes_keep_only_a_hash_of_the_phone_and_limit_by_it(world, sms):
    code = sms.code_for(PHONE, lambda: services.phone_code_send(phone=PHONE))
    record = PhoneVerification.objects.get()
    assert_no_plain_phone(raw_row("cases_phoneverification", record.pk))
    assert record.phone_hash == personal.phone_lookup_hash(PHONE) and record.phone_masked == MASKED
    with pytest.raises(ValidationError) as exc:  # one code a minute per phone, whatever the spelling
        services.phone_code_send(phone="+86 13912345678 ")
    assert "phone" in exc.value.message_dict
    services.phone_code_send(phone="13800000000")  # another phone is not limited
    with pytest.raises(ValidationError):
        services.phone_code_check(phone="13800000000", code=code)  # the code belongs to the other phone
    services.phone_code_check(phone="+86 139 1234 5678", code=code)
    record.refresh_from_db()
    assert record.used_at is not None


def _columns_of(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return [str(value) for row in cursor.fetchall() for value in row]


def test_verification_code_reaches_the_sms_backend_but_is_stored_nowhere_in_clear(world, sms):
    code = sms.code_for(PHONE, lambda: services.phone_code_send(phone=PHONE))
    [(title, body, to)] = sms.backend.sent
    assert to == PHONE and code in title and body  # the resident gets the code and its validity
    notification = Notification.objects.get(kind="cases.phone_code")
    assert code not in notification.title + notification.body and "******" in notification.title
    assert notification.title == title.replace(code, "******")
    delivery = NotificationDelivery.objects.get(notification=notification)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    for table in ("cases_notification", "cases_notificationdelivery", "cases_phoneverification",
                  "audit_auditevent"):
        assert not any(code in value for value in _columns_of(table)), table
    # The digest is keyed: the same code under another secret key does not match the stored digest.
    record = PhoneVerification.objects.get()
    assert record.code_digest == services._code_digest(PHONE, code)
    with override_settings(SECRET_KEY="another-secret-key"):
        assert services._code_digest(PHONE, code) != record.code_digest
    services.phone_code_check(phone=PHONE, code=code)


def test_a_failed_code_sms_is_not_retried_from_the_records(world, sms, django_capture_on_commit_callbacks):
    sms.backend.fail = True
    with django_capture_on_commit_callbacks(execute=True):
        services.phone_code_send(phone=PHONE)
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == DeliveryStatus.GAVE_UP and "gateway down" in delivery.last_error
    assert due_delivery_ids(now=timezone.now() + timedelta(days=1)) == []
    sms.backend.fail = False
    assert deliver(delivery.pk) == "skipped" and sms.backend.sent == []  # never the redacted text


def test_verification_code_expires_and_allows_five_tries(world, sms):
    now = timezone.now()
    code = sms.code_for(PHONE, lambda: services.phone_code_send(phone=PHONE, now=now))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError):  # expired after 10 minutes
        services.phone_code_check(phone=PHONE, code=code, now=now + timedelta(minutes=10, seconds=1))
    for _ in range(5):
        with pytest.raises(ValidationError) as exc:
            services.phone_code_check(phone=PHONE, code=wrong, now=now + timedelta(minutes=1))
        assert "code" in exc.value.message_dict
    with pytest.raises(ValidationError):  # the sixth try fails even with the right code
        services.phone_code_check(phone=PHONE, code=code, now=now + timedelta(minutes=1))
    assert PhoneVerification.objects.get().used_at is None


def test_public_replay_is_recognised_by_the_phone_hash(world, cats):
    args = dict(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT,
                description="噪音", reporter_phone=PHONE, idempotency_key="k-1")
    first = case_create(**args)
    again = case_create(**args | {"reporter_phone": "+86 139 1234 5678"})
    other = case_create(**args | {"reporter_phone": "13800000000"})
    assert again.pk == first.pk and again.replayed and other.pk != first.pk
    assert first.idempotency_scope == "p" + personal.phone_lookup_hash(PHONE)[:personal.SCOPE_HASH_LENGTH]
    assert PHONE not in first.idempotency_scope


# -- masked on pages and in the API -----------------------------------------------------------------------
def test_case_page_and_queue_show_the_reporter_masked(world, cats, client_for):
    case = staff_intake(world, cats)
    client = client_for(world.people.dispatcher_comm)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert MASKED in page and "王*明" in page and PHONE not in page and NAME not in page
    assert reverse("cases:reporter_reveal", args=[case.pk]) in page  # the dispatcher is offered the reveal
    assert "反映人" in page and "查看反映人完整姓名和电话" in page  # in Chinese by default
    queue = client.get(reverse("cases:queue")).content.decode()
    assert case.tracking_code in queue and PHONE not in queue and NAME not in queue
    page = client_for(world.people.grid_worker).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert MASKED in page and reverse("cases:reporter_reveal", args=[case.pk]) not in page


def test_public_tracking_page_shows_no_reporter_at_all(world, cats, client):
    case = staff_intake(world, cats)
    page = client.get(reverse("cases:track_detail", args=[case.tracking_code])).content.decode()
    assert case.category.name in page
    for secret in (PHONE, MASKED, NAME, "王*明"):
        assert secret not in page


def test_api_shows_the_reporter_masked(world, cats, api_for):
    case = staff_intake(world, cats)
    data = api_for(world.people.dispatcher_comm).get(f"/api/v1/cases/{case.pk}/").json()
    assert data["reporter_phone_masked"] == MASKED and data["reporter_name_masked"] == "王*明"
    assert PHONE not in str(data) and NAME not in str(data)


def test_open311_never_returns_the_phone_or_the_name(world, cats):
    key = ApiToken.new_key()
    ApiToken.objects.create(user=world.people.staff, name="311", prefix=key[:8], digest=ApiToken.digest_of(key))
    client = Client()
    created = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "900101", "lat": BIN_LAT, "long": BIN_LON, "description": "广场舞噪音",
        "first_name": "小明", "last_name": "王", "phone": PHONE, "attribute[request_type]": "complaint"})
    assert created.status_code == 200, created.content
    code = created.json()[0]["service_request_id"]
    case = Case.objects.get(tracking_code=code)
    assert case.reporter_phone_hash == personal.phone_lookup_hash(PHONE) and case.reporter_name == "王 小明"
    case_act(actor=world.people.dispatcher_comm, case=case, action=Action.ACCEPT, expected_version=case.version)
    answers = [created.content]
    for path in ("requests.json", "requests.xml", f"requests/{code}.json", f"requests/{code}.xml",
                 f"tokens/{code}.json", "servicerequestupdates.json", "servicerequestupdates.xml"):
        response = client.get(f"/open311/v2/{path}")
        assert response.status_code == 200, path
        answers.append(response.content)
    assert code in answers[1].decode()
    ET.fromstring(answers[2])
    for body in answers:
        text = body.decode()
        for secret in (PHONE, MASKED, "王 小明", "小明"):
            assert secret not in text


def test_open311_refuses_a_malformed_phone(world, cats):
    key = ApiToken.new_key()
    ApiToken.objects.create(user=world.people.staff, name="311", prefix=key[:8], digest=ApiToken.digest_of(key))
    response = Client().post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "200102", "lat": BIN_LAT, "long": BIN_LON, "phone": "call me"})
    assert response.status_code == 400 and "call me" in response.json()[0]["description"]
    assert not Case.objects.exists()


# -- the reveal -------------------------------------------------------------------------------------------
def reveals():
    return AuditEvent.objects.filter(action="cases.reporter_reveal")


def test_reveal_needs_a_reason_and_is_audited(world, cats, client_for):
    case = staff_intake(world, cats)
    client = client_for(world.people.dispatcher_comm)
    url = reverse("cases:reporter_reveal", args=[case.pk])
    response = client.post(url, {"reason": " "})
    assert response.status_code == 400 and PHONE not in response.content.decode()
    assert not reveals().exists()
    response = client.post(url, {"reason": "回访居民核实噪音时段"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and PHONE in page and NAME in page
    event = reveals().get()
    assert event.actor == world.people.dispatcher_comm and event.reason == "回访居民核实噪音时段"
    assert event.object_id == str(case.pk) and event.area_path == case.area_path
    assert PHONE not in str(event.changes)


@pytest.mark.parametrize("who,status", [("outsider", 404), ("grid_worker", 403), ("handler", 404),
                                        ("resident", 404), ("nobody", 404)])
def test_who_may_not_reveal(world, cats, client_for, who, status):
    case = staff_intake(world, cats)  # accepted at once, not dispatched: the handler cannot see it
    response = client_for(getattr(world.people, who)).post(reverse("cases:reporter_reveal", args=[case.pk]),
                                                           {"reason": "想看看"})
    assert response.status_code == status
    assert PHONE not in response.content.decode() and not reveals().exists()


def test_anonymous_reveal_goes_to_sign_in(world, cats, client):
    case = staff_intake(world, cats)
    response = client.post(reverse("cases:reporter_reveal", args=[case.pk]), {"reason": "想看看"})
    assert response.status_code == 302 and not reveals().exists()


def test_the_handler_may_reveal_only_while_the_case_is_with_their_department(world, cats):
    case = staff_intake(world, cats)
    handler = world.people.handler
    assert not personal.may_reveal_reporter(handler, case)
    case = case_act(actor=world.people.dispatcher_comm, case=case, action=Action.DISPATCH,
                    expected_version=case.version, department=world.people.department)
    assert personal.reporter_reveal(actor=handler, case=case, reason="联系居民上门处理")["phone"] == PHONE
    assert reveals().get().actor == handler
    case.department = None  # e.g. returned: no longer theirs
    with pytest.raises(PermissionDenied):
        personal.reporter_reveal(actor=handler, case=case, reason="联系居民上门处理")
    assert reveals().count() == 1


def test_api_reveal_needs_permission_and_reason(world, cats, api_for):
    case = staff_intake(world, cats)
    url = f"/api/v1/cases/{case.pk}/reporter/reveal/"
    assert api_for(world.people.staff).post(url, {}, format="json").status_code == 400
    assert api_for(world.people.grid_worker).post(url, {"reason": "核实"}, format="json").status_code == 403
    assert api_for(world.people.outsider).post(url, {"reason": "核实"}, format="json").status_code == 404
    assert not reveals().exists()
    response = api_for(world.people.staff).post(url, {"reason": "核实身份"}, format="json")
    assert response.status_code == 200 and response.json() == {"name": NAME, "phone": PHONE}
    assert reveals().get().actor == world.people.staff


# -- the migration that sealed existing rows ---------------------------------------------------------------
SEALING = importlib.import_module("yiwang.cases.migrations.0004_sealed_phones_data")
BEFORE_SEALING = [("cases", "0003_sealed_phones_columns")]


@pytest.mark.django_db(transaction=True)
def test_migration_seals_plain_rows_and_reverses(world):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_SEALING)  # plain and sealed columns side by side
    try:
        old = executor.loader.project_state(BEFORE_SEALING).apps
        OldCase, OldFollower = old.get_model("cases", "Case"), old.get_model("cases", "CaseFollower")
        OldNotification = old.get_model("cases", "Notification")
        OldVerification = old.get_model("cases", "PhoneVerification")
        category = old.get_model("cases", "Category").objects.create(code="900101", kind="request", name="噪声")
        now = timezone.now()
        grid = world.tree.grid_a1
        case = OldCase.objects.create(
            tracking_code="ABCDEFGHJK22", channel="web", category=category, grid_id=grid.pk, area_path=grid.path,
            lon=BIN_LON, lat=BIN_LAT, description="噪音", created_at=now, reporter_name=NAME, reporter_phone=PHONE,
            idempotency_scope=f"p{PHONE}", idempotency_key="k-1")
        OldFollower.objects.create(case=case, phone=PHONE)
        OldFollower.objects.create(case=case, phone="+86 139 1234 5678")  # the same number spelled otherwise
        notice = OldNotification.objects.create(phone=PHONE, kind="cases.public_step", title="t",
                                                dedupe_key=f"case:{case.pk}:step:1:p{PHONE}")
        OldVerification.objects.create(phone=PHONE, code_digest="d", created_at=now,
                                       expires_at=now + timedelta(minutes=10))

        SEALING.seal_plain_phones(old, None)

        hashed = personal.phone_lookup_hash(PHONE)
        row = raw_row("cases_case", case.pk)
        assert row["reporter_phone"] == "" and pii.decrypt(row["reporter_phone_cipher"]) == PHONE
        assert row["reporter_phone_hash"] == hashed and row["reporter_phone_masked"] == MASKED
        assert row["idempotency_scope"] == personal.public_idempotency_scope(PHONE)  # replays still recognised
        followers = list(OldFollower.objects.filter(case=case))
        assert [(f.phone, f.phone_hash) for f in followers] == [("", hashed)]  # one follower per number
        assert pii.decrypt(followers[0].phone_cipher) == PHONE
        notice = OldNotification.objects.get(pk=notice.pk)
        assert notice.phone == "" and notice.dedupe_key == f"case:{case.pk}:step:1:p{hashed}"
        assert pii.decrypt(notice.phone_cipher) == PHONE
        record = OldVerification.objects.get()
        assert record.phone == "" and record.phone_hash == hashed and record.phone_masked == MASKED
        for table in ("cases_case", "cases_casefollower", "cases_notification", "cases_phoneverification"):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {table}")
                assert not any(PHONE in str(value) for r in cursor.fetchall() for value in r), table

        SEALING.unseal_phones(old, None)

        case = OldCase.objects.get(pk=case.pk)
        assert (case.reporter_phone, case.reporter_phone_cipher, case.reporter_phone_hash) == (PHONE, "", "")
        assert case.idempotency_scope == f"p{PHONE}"
        assert list(OldFollower.objects.values_list("phone", "phone_hash")) == [(PHONE, "")]
        notice = OldNotification.objects.get(pk=notice.pk)
        assert notice.phone == PHONE and notice.dedupe_key == f"case:{case.pk}:step:1:p{PHONE}"
        assert not OldVerification.objects.exists()  # only a hash was kept: codes are asked for again
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    # The real migrations ran forward over the restored plain rows: sealed again, plain column gone.
    case = Case.objects.get(tracking_code="ABCDEFGHJK22")
    assert case.reporter_phone_hash == personal.phone_lookup_hash(PHONE) and case.reporter_phone_masked == MASKED
    assert "reporter_phone" not in {f.name for f in connection.introspection.get_table_description(
        connection.cursor(), "cases_case")}
