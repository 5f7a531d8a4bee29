"""accounts.sessions: the database session store whose read is compiled once per process answers as
Django's own store does (present, absent, expired, deleted) and is the one in use."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from yiwang.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_compiled_store_is_the_one_in_use():
    assert settings.SESSION_ENGINE == "yiwang.accounts.sessions"


def test_reads_what_djangos_store_reads():
    first, second = SessionStore(), SessionStore()
    first["who"], first["n"] = "王小明", 1
    second["who"] = "李娜"
    first.create()
    second.create()
    for store in (first, second):
        mine, django = SessionStore(store.session_key), DjangoStore(store.session_key)
        assert mine.load() == django.load() == dict(store.items())
        assert mine.session_key == django.session_key == store.session_key
    assert SessionStore(second.session_key)["who"] == "李娜"  # each key gets its own row


def test_absent_and_expired_sessions_read_as_empty_and_drop_the_key():
    store = SessionStore()
    store["who"] = "x"
    store.create()
    missing = SessionStore("a" * 32)
    assert missing.load() == {} and missing.session_key is None
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    assert DjangoStore(store.session_key).load() == {}


def test_sign_in_and_sign_out_go_through_it(world, client):
    client.force_login(world.people.staff)
    assert client.get("/geo/map/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert "_auth_user_id" in SessionStore(key).load()
    Session.objects.filter(session_key=key).delete()  # revoked elsewhere: the next request is signed out
    assert client.get("/geo/map/").status_code == 302
