"""Idempotent intake without a probe on every request: a new request goes straight to the insert and the
unique (scope, key) index finds a replay there; a replay still returns the first result in every case."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.cases import services
from yiwang.cases.models import Attachment, Case, CaseStep, Channel
from yiwang.cases.services import case_create

from .factories import BIN_LAT, BIN_LON, OUTSIDE, jpeg

T0 = datetime(2026, 9, 29, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def report(world, cats, **kw):
    args = dict(actor=world.people.grid_worker, channel=Channel.GRID_WORKER, category=cats.garbage,
                lon=BIN_LON, lat=BIN_LAT, description="垃圾桶满溢，周边散落垃圾", now=T0)
    args.update(kw)
    return case_create(**args)


def _probes(queries) -> int:
    return sum(q["sql"].startswith('SELECT "cases_case"."id"') and '"idempotency_key" =' in q["sql"] for q in queries)


def test_a_new_request_is_not_probed_and_a_replay_returns_the_first_case(world, cats):
    with CaptureQueriesContext(connection) as ctx:
        first = report(world, cats, idempotency_key="k-1")
    assert not first.replayed and _probes(ctx.captured_queries) == 0
    again = report(world, cats, idempotency_key="k-1", description="另一段描述")
    assert again.replayed and again.pk == first.pk and again.description == first.description
    assert Case.objects.count() == 1 and CaseStep.objects.filter(case=first).count() == 3


def test_a_replay_that_would_now_fail_still_returns_the_first_case(world, cats):
    """The request was valid when first made: its replay answers with that case, not with today's error."""
    first = report(world, cats, idempotency_key="k-2")
    cats.garbage.active = False
    cats.garbage.save()
    assert report(world, cats, idempotency_key="k-2").pk == first.pk  # category retired since
    assert report(world, cats, idempotency_key="k-2", lon=OUTSIDE[0], lat=OUTSIDE[1]).pk == first.pk
    assert report(world, cats, idempotency_key="k-2", resolve_on_spot=True, category=cats.noise).pk == first.pk
    assert Case.objects.count() == 1
    with pytest.raises(services.ValidationError):  # a fresh key gets the error
        report(world, cats, idempotency_key="k-3")
    with pytest.raises(services.PermissionDenied):  # and so does someone who may not report in that grid
        report(world, cats, idempotency_key="k-4", category=cats.noise, actor=world.people.outsider,
               channel=Channel.COUNTER)


def test_a_replay_with_photos_is_answered_before_reencoding_them(world, cats, monkeypatch):
    first = report(world, cats, idempotency_key="k-5", photos=[jpeg()])
    calls = []
    real = services.process_photos
    monkeypatch.setattr(services, "process_photos", lambda photos: (calls.append(photos), real(photos))[1])
    again = report(world, cats, idempotency_key="k-5", photos=[jpeg()])
    assert again.replayed and again.pk == first.pk and calls == []
    assert Attachment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_makes_one_case(world, cats):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    results, errors = [], []

    def worker():
        try:
            results.append(report(world, cats, idempotency_key="k-race"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Case.objects.count() == 1
    assert {c.pk for c in results} == {Case.objects.get().pk}
    assert sorted(c.replayed for c in results) == [False, True, True, True]
