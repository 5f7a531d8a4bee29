"""What every authenticated request costs (query counts), and that the cheap paths stay exact: a revoked
token, a disabled account or a removed membership counts from the very next request in the process that
saved it (and within seconds in the others: accounts/tests/test_token_cache.py). Driven through the
registry's search (an accounts-level check of a real scoped endpoint), hence here rather than in accounts."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from yiwang.accounts.middleware import SEEN_AT_KEY
from yiwang.accounts.models import ApiToken, Membership
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.registry.tests.factories import make_resident

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def token_client(user) -> tuple[APIClient, ApiToken]:
    token, key = api_token_create(actor=user, name="对接系统")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api, token


def search(api):
    return api.get(reverse("api:resident-search"), {"q": PHONE})


def test_token_request_is_token_memberships_and_the_work(world, django_assert_num_queries, monkeypatch):
    """Token, user and active memberships in one query (kept per process after the first request, behind
    the cache's signature), then the endpoint's own (one search stage); "last used" is written at most once
    a minute."""
    from yiwang.accounts import authentication

    mine = make_resident(world.tree.grid_a1, "刘洋", phone=PHONE)
    api, token = token_client(world.people.staff)
    with django_assert_num_queries(4):  # first use: the cache's signature, the token, last_used_at written
        assert [r["id"] for r in search(api).json()] == [mine.pk]
    with django_assert_num_queries(1) as captured:  # the search stage only
        assert [r["id"] for r in search(api).json()] == [mine.pk]
    assert not any(q["sql"].startswith("UPDATE") for q in captured.captured_queries)
    later = timezone.now() + dt.timedelta(minutes=2)
    monkeypatch.setattr(authentication.timezone, "now", lambda: later)
    with django_assert_num_queries(2):  # a minute on: last_used_at written again
        search(api)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_token_user_is_fully_loaded(world):
    from yiwang.accounts.authentication import token_with_user

    token, _key = api_token_create(actor=world.people.dispatcher_sub, name="x")
    found = token_with_user(token.digest)
    user = found.user
    assert (found.pk, user.pk, user.username, user.is_active) == (token.pk, world.people.dispatcher_sub.pk,
                                                                   "ddy_jd1", True)
    assert user.get_deferred_fields() == set() and user.date_joined.tzinfo is not None
    assert token_with_user(token.digest + "0") is None


def test_token_user_comes_with_its_active_memberships_only(world, django_assert_num_queries):
    """The memberships read with the token are those User.active_memberships() reads: active ones only, in
    order, with area and department; a user without any has none (and no second query)."""
    from yiwang.accounts.authentication import token_with_user
    from yiwang.accounts.models import User

    user = world.people.dispatcher_sub
    Membership.objects.create(user=user, area=world.tree.comm_b, role="grid_worker", active=False)
    Membership.objects.create(user=user, area=world.tree.grid_a1, role="grid_worker")
    token, _key = api_token_create(actor=user, name="x")
    token_with_user(token.digest + "0")  # the token cache's signature read, out of the count below
    with django_assert_num_queries(1):
        found = token_with_user(token.digest).user.active_memberships()
    expected = User.objects.get(pk=user.pk).active_memberships()
    assert len(expected) == 2
    assert ([(m.pk, m.role, m.area.path, m.area.name, m.department_id, m.user_id) for m in found]
            == [(m.pk, m.role, m.area.path, m.area.name, m.department_id, m.user_id) for m in expected])
    handler = token_with_user(api_token_create(actor=world.people.handler, name="y")[0].digest).user
    assert [m.department.name for m in handler.active_memberships()] == ["城管局"]
    Membership.objects.filter(user=user).delete()  # signals: the kept rows are dropped
    token_with_user(token.digest + "0")
    with django_assert_num_queries(1):
        assert token_with_user(token.digest).user.active_memberships() == []


def test_memberships_come_with_area_and_department(world, django_assert_num_queries):
    from yiwang.accounts.models import User

    handler = User.objects.get(pk=world.people.handler.pk)
    with django_assert_num_queries(1):
        memberships = handler.active_memberships()
        assert [(m.role, m.area.path, m.area.name, m.department.name, m.user is handler)
                for m in memberships] == [("handler", world.tree.district.path, "测试区", "城管局", True)]
        assert handler.scope_paths("geography.view_area") == [world.tree.district.path]


def _set_active(memberships, active: bool) -> None:
    for membership in memberships:
        membership.active = active
        membership.save()


def test_removed_membership_counts_from_the_next_token_request(world):
    mine = make_resident(world.tree.grid_a1, "刘洋", phone=PHONE)
    api, _token = token_client(world.people.staff)
    assert [r["id"] for r in search(api).json()] == [mine.pk]
    memberships = list(Membership.objects.filter(user=world.people.staff))
    _set_active(memberships, False)
    assert search(api).json() == []
    _set_active(memberships, True)
    assert [r["id"] for r in search(api).json()] == [mine.pk]
    Membership.objects.filter(user=world.people.staff).delete()
    assert search(api).json() == []
    # The outsider never saw it.
    assert search(token_client(world.people.outsider)[0]).json() == []


def test_revoked_token_and_disabled_account_fail_on_the_next_request(world):
    make_resident(world.tree.grid_a1, "刘洋", phone=PHONE)
    api, token = token_client(world.people.staff)
    assert search(api).status_code == 200
    api_token_revoke(actor=world.people.staff, token=token)
    assert search(api).status_code == 401
    api, _token = token_client(world.people.staff)
    assert search(api).status_code == 200
    staff = type(world.people.staff).objects.get(pk=world.people.staff.pk)
    staff.is_active = False
    staff.save()
    assert search(api).status_code == 401


def test_removed_membership_counts_from_the_next_page_view(world, client):
    mine = make_resident(world.tree.grid_a1, "刘洋", phone=PHONE)
    client.force_login(world.people.staff)
    url = reverse("registry:search")
    assert f"/registry/residents/{mine.pk}/" in client.get(url, {"q": PHONE}).content.decode()
    Membership.objects.filter(user=world.people.staff).update(active=False)
    assert client.get(url, {"q": PHONE}).status_code == 403


def test_session_page_reads_session_user_memberships_once(world, client, django_assert_max_num_queries):
    """A signed-in page: session, user, memberships, the area switcher's options and the page's own four
    (residents, organisations, components, households); the session is written once a minute (idle
    expiry), not on every request."""
    make_resident(world.tree.grid_a1, "刘洋", phone=PHONE)
    client.force_login(world.people.staff)
    url = reverse("registry:search")
    client.get(url, {"q": PHONE})
    with django_assert_max_num_queries(8) as captured:
        assert "刘洋" in client.get(url, {"q": PHONE}).content.decode()
    sqls = [q["sql"] for q in captured.captured_queries]
    assert sum("accounts_membership" in sql for sql in sqls) == 1
    assert not any("django_session" in sql and not sql.startswith("SELECT") for sql in sqls)


def test_active_session_is_saved_once_a_minute_so_idle_expiry_moves(world, client):
    from django.contrib.sessions.models import Session

    client.force_login(world.people.staff)
    client.get(reverse("geography:map"))
    key = client.cookies["sessionid"].value
    first = Session.objects.get(pk=key).expire_date
    client.get(reverse("geography:map"))
    assert Session.objects.get(pk=key).expire_date == first  # not saved again within the minute
    session = client.session
    session[SEEN_AT_KEY] = time.time() - 61
    session.save()
    saved = Session.objects.get(pk=key).expire_date
    time.sleep(0.01)
    client.get(reverse("geography:map"))
    assert Session.objects.get(pk=key).expire_date > saved
    assert client.session[SEEN_AT_KEY] > time.time() - 5
