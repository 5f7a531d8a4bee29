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
"""

from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, Model, QuerySet
from django.db.models.base import DEFERRED

# Marker kinds: how the ORM turns the field's value into the SQL parameter (see PatternLookup).
_PATTERNS = {"exact": None, "startswith": "%s%%"}


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], **markers: tuple):
        """`build(**markers)` returns a values() queryset; each marker is (model field, unusual value) or
        (model field, unusual value, "startswith") for a value used only in a startswith lookup."""
        self.build = build
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
        with connection.cursor() as cursor:
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
