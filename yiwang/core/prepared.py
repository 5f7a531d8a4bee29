"""ORM queries compiled to SQL once per process, for the few that run on every request.

Building a queryset's SQL costs more CPU than running a small indexed query (measured: the
memberships read behind every scoped request took 1.6 ms to compile and 0.1 ms to run). A
PreparedQuery builds the queryset once per database vendor from marker values, finds where the markers
landed among the SQL parameters, and afterwards only swaps in the real values (prepared by the same
model fields), so the database receives exactly what the ORM would have sent. Only for `values()`
querysets whose shape does not depend on the values, and only for lookups that send the value as it is
(exact, in a list of one, comparisons): a lookup that rewrites it (startswith sends "value%") is refused
when compiled, never answered wrongly, unless its marker says so: a marker given as (field, value,
"startswith") is looked for, and sent, as the ORM's own LIKE pattern (the value with its wildcards
escaped, then "%"). Tests: yiwang/core/tests/test_prepared.py.

`hot_cursor(connection)` is the cursor that core.inserts (batches of up to 1,000 values) and the queries
made with `prepare=True` run on. Django's PostgreSQL backend binds parameters on the client (psycopg
quotes every value into the SQL text), and PostgreSQL parses and plans each statement anew: for an
intake's nine statements that was a tenth of the request's CPU and a third of PostgreSQL's. On PostgreSQL
the hot cursor binds on the server instead (values sent apart from the SQL) and, when the connection
allows prepared statements (settings: DATABASES OPTIONS "prepare_threshold", on unless
YIWANG_DB_PREPARE=0, which a transaction-mode pooler without prepared-statement support needs), prepares
each statement once per connection. Only these few statements, whose SQL we control, run this way: the
ORM's own queries keep Django's client-side binding. Elsewhere it is the ordinary cursor.
"""

from collections.abc import Callable
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model, QuerySet
from django.db.models.base import DEFERRED

# Marker kinds: how the ORM turns the field's value into the SQL parameter (see PatternLookup).
_PATTERNS = {"exact": None, "startswith": "%s%%"}


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], *, prepare: bool = False, **markers: tuple):
        """`build(**markers)` returns a values() queryset; each marker is (model field, unusual value) or
        (model field, unusual value, "startswith") for a value used only in a startswith lookup.

        `prepare=True` runs it on hot_cursor: for lookups by equality on every request (a token, a key),
        whose plan does not depend on the values. Not for prefixes, ranges or anything a generic plan
        could answer worse than a plan made for the values (PostgreSQL may switch a prepared statement to
        one generic plan after five runs; a LIKE prefix cannot use its index in a generic plan)."""
        self.build = build
        self.prepare = prepare
        if prepare and any(kind for _field, _marker, *kind in markers.values()):
            raise ValueError("a prepared query takes its values by equality only")
        self.markers = {name: (field, marker, _PATTERNS[kind[0] if kind else "exact"])
                        for name, (field, marker, *kind) in markers.items()}
        self._compiled: dict[str, tuple] = {}

    @staticmethod
    def _param(field: Field, value, pattern: str | None, connection=connection):
        prepared = field.get_db_prep_value(value, connection, prepared=False)
        return prepared if pattern is None else pattern % connection.ops.prep_for_like_query(prepared)

    def _compile(self) -> tuple:
        queryset = self.build(**{name: marker for name, (_field, marker, _pattern) in self.markers.items()})
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        positions = {}
        for name, (field, marker, pattern) in self.markers.items():
            prepared = self._param(field, marker, pattern)
            positions[name] = [i for i, value in enumerate(params)
                               if type(value) is type(prepared) and value == prepared]
            if not positions[name]:
                raise RuntimeError(f"{name} is not a parameter of the compiled query")
            # The marker used in another form too (exact and startswith, or inside a longer value) would
            # stay in the query there: refuse rather than answer with it.
            stray = [i for i, value in enumerate(params) if i not in positions[name]
                     and isinstance(value, str) and str(marker) in value]
            if stray:
                raise RuntimeError(f"{name} is also sent in another form than {pattern or 'the value'}")
        columns = [*queryset.query.values_select, *queryset.query.annotation_select]
        # The same conversions the ORM applies to what the driver returns (SQLite's dates, booleans...).
        converters = compiler.get_converters([expression for expression, _sql, _alias in compiler.select])
        return sql, list(params), positions, columns, converters

    def rows(self, **values) -> list[dict]:
        # The connection itself: reading attributes through django.db.connection looks it up every time.
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile()
        sql, params, positions, columns, converters = compiled
        params = list(params)
        for name, value in values.items():
            field, _marker, pattern = self.markers[name]
            prepared = self._param(field, value, pattern, connection)
            for i in positions[name]:
                params[i] = prepared
        with hot_cursor(connection) if self.prepare else connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        result = []
        for row in rows:
            row = list(row)
            for i, (functions, expression) in converters.items():
                for convert in functions:
                    row[i] = convert(row[i], expression, connection)
            result.append(dict(zip(columns, row, strict=True)))
        return result


def instance_from_row(model: type[Model], row: dict, prefix: str = ""):
    """A model instance from the `prefix`-ed columns of a row (by attname), as if the ORM had loaded it;
    fields not in the row are deferred (read from the database if used)."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        key = prefix + field.attname
        if key in row:
            names.append(field.attname)
            values.append(row[key])
        else:
            values.append(DEFERRED)
    return model.from_db(connection.alias, names, values)


try:
    from psycopg import Cursor
except ImportError:  # SQLite only, or psycopg 2
    _ServerBindingCursor = None
else:
    class _Sent(NamedTuple):
        query: bytes

    class _ServerBindingCursor(Cursor):
        """psycopg's server-binding cursor, which also leaves the text of a prepared statement where Django's
        query log reads it (psycopg sets it only for statements it sends unprepared)."""

        def execute(self, query, params=None, **kwargs):
            result = super().execute(query, params, **kwargs)
            if self._query is None:
                self._query = _Sent(query.encode() if isinstance(query, str) else query)
            return result


def hot_cursor(connection):
    """Django's cursor (wrappers, query logging, error translation, time zone) over a server-binding psycopg
    cursor on PostgreSQL; the ordinary cursor elsewhere. See the module's docstring."""
    if connection.vendor != "postgresql" or _ServerBindingCursor is None:
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if not hasattr(raw, "cursor_factory"):  # psycopg 2
        return connection.cursor()
    factory = raw.cursor_factory
    raw.cursor_factory = _ServerBindingCursor  # a connection belongs to one thread: nobody else sees this
    try:
        return connection.cursor()
    finally:
        raw.cursor_factory = factory
