"""core.refcache.RefCache: loaded once, re-validated by its signature at most every N seconds, forgotten at
once on a save or delete of a watched model, and never keeping a load that raced with a change."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from yiwang.core import refcache
from yiwang.core.refcache import RefCache


class Source:
    """What a loader reads (the data and its signature), counting the reads."""

    def __init__(self):
        self.data, self.version, self.loads, self.checks = "v1", 1, 0, 0

    def load(self):
        self.loads += 1
        return self.data

    def signature(self):
        self.checks += 1
        return self.version


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(refcache, "monotonic", lambda: now[0])
    return now


def test_the_signature_is_checked_only_after_the_interval_and_a_change_reloads(clock):
    source = Source()
    cache = RefCache("test.interval", source.load, source.signature, recheck_seconds=2)
    assert cache.get() == "v1" and (source.loads, source.checks) == (1, 1)
    source.data, source.version = "v2", 2  # changed elsewhere, no signal
    clock[0] += 1.5
    assert cache.get() == "v1" and (source.loads, source.checks) == (1, 1)  # within the interval: kept
    clock[0] += 1
    assert cache.get() == "v2" and (source.loads, source.checks) == (2, 2)
    clock[0] += 3
    assert cache.get() == "v2" and (source.loads, source.checks) == (2, 3)  # same signature: no reload
    clock[0] += 1
    assert cache.get() == "v2" and source.checks == 3  # the check restarted the interval


def test_forget_reloads_at_once(clock):
    source = Source()
    cache = RefCache("test.forget", source.load, source.signature)
    cache.get()
    source.data = "v2"  # same signature: only forget() can tell
    cache.forget()
    assert cache.get() == "v2" and source.loads == 2


def test_a_load_that_raced_with_a_change_is_not_kept(clock):
    source = Source()
    cache = RefCache("test.race", source.load, source.signature)

    def load_then_changed():
        value = source.load()
        source.data = "v2"
        cache.forget()  # the change's signal arrives while the old data is being read
        return value

    cache.load = load_then_changed
    assert cache.get() == "v1"
    cache.load = source.load
    assert cache.get() == "v2"


@pytest.mark.django_db
def test_saving_or_deleting_a_watched_model_forgets_at_once(clock):
    source = Source()
    cache = RefCache("test.watch", source.load, source.signature, watch=(Group,))
    cache.get()
    group = Group.objects.create(name="g")
    cache.get()
    assert source.loads == 2
    group.delete()
    cache.get()
    assert source.loads == 3
    cache.get()
    assert source.loads == 3


@pytest.mark.django_db
def test_a_change_is_forgotten_again_when_its_transaction_commits(clock, django_capture_on_commit_callbacks):
    """Another thread may read the old rows between the signal and the commit; the commit drops them."""
    source = Source()
    cache = RefCache("test.commit", source.load, source.signature, watch=(Group,))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Group.objects.create(name="g")
        cache.get()  # as another thread would, before the commit
        assert source.loads == 1
    cache.get()
    assert source.loads == 2
