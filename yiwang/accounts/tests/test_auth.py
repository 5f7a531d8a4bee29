import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.accounts.middleware import LOGIN_AT_KEY
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.accounts.tests.factories import PASSWORD
from yiwang.audit.models import AuditEvent


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_sign_in_is_audited_with_the_client_ip(world, client):
    response = sign_in(client, "staff_a", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.login")
    assert event.actor == world.people.staff and event.ip == "10.1.2.3"
    assert event.area_path == world.tree.comm_a.path


def test_wrong_password_says_so_in_chinese(world, client):
    response = sign_in(client, "staff_a", "wrong-password-1")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_repeated_failures_lock_the_account_even_for_the_right_password(world, client):
    for _ in range(5):
        sign_in(client, "staff_a", "wrong-password-1")
    response = sign_in(client, "staff_a")
    assert response.status_code == 403
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # another account is not affected
    assert sign_in(client, "staff_b").status_code == 302


@pytest.mark.parametrize("password,fragment", [
    ("short1", "10"), ("12345678901234", "只包含数字"), ("onlyletterslong", "字母和数字"),
])
def test_password_policy_explains_what_is_wrong(password, fragment):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert any(fragment in m for m in exc.value.messages), exc.value.messages


def test_idle_expired_session_tells_the_user_why(world, client):
    sign_in(client, "staff_a")
    client.session.flush()  # what Django does when the idle timeout passes: the session is gone
    client.cookies.pop("sessionid", None)
    response = client.get("/geo/map/", follow=True)
    assert "会话已过期" in response.content.decode()


def test_sessions_end_after_the_absolute_lifetime(world, client, settings):
    sign_in(client, "staff_a")
    session = client.session
    session[LOGIN_AT_KEY] = time.time() - settings.YIWANG_SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/geo/map/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@override_settings(YIWANG_REQUIRE_2FA=True)
def test_dispatchers_must_enrol_and_pass_totp(world, client):
    sign_in(client, "ddy_a")
    response = client.get("/geo/map/")
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]
    page = client.get("/accounts/2fa/")
    assert "<svg" in page.content.decode()  # QR code for enrolment
    device = TOTPDevice.objects.get(user=world.people.dispatcher_comm)
    bad = client.post("/accounts/2fa/", {"token": "000000", "next": "/geo/map/"})
    assert "不正确" in bad.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # django-otp delays the next try after a failure
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    response = client.post("/accounts/2fa/", {"token": f"{totp.token():06d}", "next": "/geo/map/"})
    assert response.status_code == 302 and response["Location"] == "/geo/map/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/geo/map/").status_code == 200


@override_settings(YIWANG_REQUIRE_2FA=True)
def test_community_staff_do_not_need_totp(world, client):
    sign_in(client, "staff_a")
    assert client.get("/geo/map/").status_code == 200


@override_settings(YIWANG_REQUIRE_2FA=True)
def test_api_refuses_unverified_dispatcher_sessions(world, client):
    sign_in(client, "ddy_a")
    response = client.get("/api/v1/areas/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "two_factor_required"


def test_api_token_works_until_revoked(world):
    from rest_framework.test import APIClient

    token, key = api_token_create(actor=world.people.staff, name="对接系统")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/areas/")
    assert response.status_code == 200 and response.json()["count"] == 3  # community A and its two grids
    api_token_revoke(actor=world.people.staff, token=token)
    response = api.get("/api/v1/areas/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    assert "撤销" in response.json()["error"]["message"]
    api.credentials(HTTP_AUTHORIZATION="Token forged-key")
    assert api.get("/api/v1/areas/").status_code == 401


def test_only_a_hash_of_the_token_is_stored(world):
    token, key = api_token_create(actor=world.people.staff, name="x")
    assert key not in (token.digest, token.prefix) and len(token.digest) == 64


def test_token_page_creates_shows_once_and_revokes(world, client_for):
    client = client_for(world.people.staff)
    html = client.post("/accounts/tokens/", {"name": "数据对接"}).content.decode()
    assert 'data-testid="new-key"' in html
    token = world.people.staff.api_tokens.get()
    assert 'data-testid="new-key"' not in client.get("/accounts/tokens/").content.decode()
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    # someone else cannot revoke it
    other = world.people.outsider
    token2, _ = api_token_create(actor=world.people.staff, name="y")
    assert client_for(other).post(f"/accounts/tokens/{token2.pk}/revoke/").status_code == 404


def test_argon2_is_the_production_hasher():
    from config import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_a_persons_name_is_labelled_xingming_and_a_departments_mingcheng():
    from django.utils import translation

    from yiwang.accounts.models import Department, User

    with translation.override("zh-hans"):
        assert str(User._meta.get_field("display_name").verbose_name) == "姓名"
        assert str(Department._meta.get_field("name").verbose_name) == "名称"
    with translation.override("en"):
        assert str(User._meta.get_field("display_name").verbose_name) == "name"
