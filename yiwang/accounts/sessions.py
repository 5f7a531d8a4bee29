"""The database session store with its one read compiled once per process.

Every signed-in page reads its session first; the ORM took longer to build that SELECT than the database
to answer it (core.prepared). The query, its values and what an absent or expired session gives are
Django's own (django.contrib.sessions.backends.db): only the SQL is built once. Writes are unchanged.
Tests: tests/test_sessions.py.
"""

import datetime as dt

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from yiwang.core.prepared import PreparedQuery, instance_from_row

_SESSION = PreparedQuery(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now)
    .values("session_key", "session_data", "expire_date"),
    key=(Session._meta.get_field("session_key"), "\x1fsession\x1f"),
    now=(Session._meta.get_field("expire_date"), dt.datetime(1901, 1, 2, tzinfo=dt.UTC)), prepare=True)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        if self.model is not Session:  # a subclass with its own model reads it the ORM's way
            return super()._get_session_from_db()
        rows = _SESSION.rows(key=self.session_key, now=timezone.now())
        if not rows:
            self._session_key = None
            return None
        return instance_from_row(Session, rows[0])
