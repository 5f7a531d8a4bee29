"""Reference data kept per process, re-validated by a cheap signature query.

For data that administrators edit rarely and hot paths read on every request (the case categories and
dispatch rules intake reads, the grid index...): `RefCache(load, signature)` keeps what `load()` returned
and, at most every `recheck_seconds`, runs `signature()` (a cheap query that changes whenever the data
does: count and last change of the rows, a version row) and loads again when it differs. A change
made in another process therefore counts within `recheck_seconds`; one made in this process counts at
once: `watch=(Model, ...)` forgets the value on every save and delete of those models (and again when
the transaction that made it commits, so no other thread keeps what it loaded in between).

The signature is read before the data, so a change landing between the two is seen at the next check.
A load that raced with a `forget()` is returned to its caller but not kept. Callers must not change
what `get()` returns: it is shared by every request of the process.
Tests: yiwang/core/tests/test_refcache.py; `forget_all()` clears every cache (between tests).
"""

import threading
import weakref
from collections.abc import Callable, Hashable
from time import monotonic
from typing import Generic, TypeVar

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")
_caches: "weakref.WeakSet[RefCache]" = weakref.WeakSet()


class RefCache(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T], signature: Callable[[], Hashable], *,
                 recheck_seconds: float | Callable[[], float] = 2.0, watch: tuple = ()):
        """`recheck_seconds` may be a function (a setting read on each call)."""
        self.name = name
        self.load = load
        self.signature = signature
        self.recheck_seconds = recheck_seconds
        # (value, signature, checked_at), replaced as a whole so that readers in other threads see one state.
        self._entry: tuple | None = None
        self._generation = 0
        self._lock = threading.Lock()
        for model in watch:
            for signal in (post_save, post_delete):
                signal.connect(self._changed, sender=model, weak=False,
                               dispatch_uid=f"refcache:{name}:{signal is post_save}:{model._meta.label}")
        _caches.add(self)

    def get(self) -> T:
        entry = self._entry
        now = monotonic()
        if entry is not None:
            interval = self.recheck_seconds() if callable(self.recheck_seconds) else self.recheck_seconds
            if now - entry[2] < interval:
                return entry[0]
        generation = self._generation
        signature = self.signature()
        if entry is not None and entry[1] == signature:
            with self._lock:
                if generation == self._generation:
                    self._entry = (entry[0], signature, now)
                    return entry[0]
        value = self.load()
        with self._lock:
            if generation == self._generation:
                self._entry = (value, signature, now)
        return value

    def _changed(self, **kwargs) -> None:
        self.forget(using=kwargs.get("using"))

    def _drop(self) -> None:
        with self._lock:
            self._generation += 1
            self._entry = None

    def forget(self, *, using: str | None = None) -> None:
        """Drop the value now and when the current transaction commits."""
        self._drop()
        if transaction.get_connection(using).in_atomic_block:
            transaction.on_commit(self._drop, using=using)


def forget_all() -> None:
    for cache in list(_caches):
        cache._drop()


def count_and_last_change(*models) -> tuple:
    """A signature for reference data read from these models: each one's row count and latest `updated_at`
    (an insert or delete changes the count, an update the time), read with one query."""
    parts = []
    for model in models:
        table = connection.ops.quote_name(model._meta.db_table)
        parts += [f"(SELECT COUNT(*) FROM {table})", f"(SELECT MAX(updated_at) FROM {table})"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}")
        return tuple(cursor.fetchone())
