"""New rows written with one INSERT whose SQL is built once per process, for the writes on every intake.

`QuerySet.bulk_create` compiles its INSERT anew on every call, and on PostgreSQL (Django 5.2) packs the
values into arrays for `INSERT ... SELECT * FROM UNNEST(...)`: for the handful of rows a case intake writes
(the case, its follower, three steps, their audit rows and notifications) that compilation cost several
times more CPU than the database spent on the rows. `insert_new` writes the same rows as bulk_create
would: each field's `pre_save(obj, add=True)` (auto_now, auto_now_add, files), then `get_db_prep_save`
(JSON, dates, booleans as the backend wants them), unsaved related objects resolved to their new keys,
the primary keys read back with RETURNING and set on the instances, which are marked saved (values a field
provably gives back unchanged skip get_db_prep_save: see _converter). Only the statement text and the
per-field converters are kept, per (database vendor, model, row count). Like bulk_create it sends no pre_save
or post_save signals unless asked to (`send_save_signals`, as Model.save() would send them).
Tests: yiwang/cases/tests/test_outbox_inserts.py compare its rows with the ORM's for every model it writes.

`insert_new(objs, skip_conflicts_on="field")` adds `ON CONFLICT (field) DO NOTHING` (PostgreSQL, SQLite >=
3.35) for rows whose unique `field` is taken, without the savepoint a caught IntegrityError needs: it returns
the rows it inserted, and leaves the others unsaved (tests: yiwang/core/tests/test_inserts.py).
"""

import warnings
from datetime import UTC, date, datetime

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

from .prepared import hot_cursor

_statements: dict[tuple, tuple[str, list]] = {}
HOT_MAX_PARAMS = 1000


def _statement(connection, model: type[Model], rows: int, conflict_field=None) -> tuple[str, list]:
    key = (connection.vendor, model, rows, conflict_field)
    found = _statements.get(key)
    if found is None:
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
        if any(hasattr(f, "get_placeholder") for f in fields):
            raise TypeError(f"{meta.label}: a field with its own SQL placeholder is not supported")
        ops = connection.ops
        columns = ", ".join(ops.quote_name(f.column) for f in fields)
        values = ops.bulk_insert_sql(fields, [["%s"] * len(fields)] * rows)
        conflict = ""
        returned = [meta.pk]
        if conflict_field is not None:
            conflict = f"ON CONFLICT ({ops.quote_name(conflict_field.column)}) DO NOTHING "
            returned.append(conflict_field)
        returning, _params = ops.return_insert_columns(returned)
        sql = f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) {values} {conflict}{returning}"
        found = (sql, [_converter(connection, f) for f in fields])
        if rows * len(fields) <= HOT_MAX_PARAMS:  # a large batch is a one-off shape: not kept
            _statements[key] = found
    return found


# Preparing each value through its field (`get_db_prep_save`: five or six calls) was a tenth of an intake's
# CPU, though for most values the field gives the value back as it is. A field's converter lists the exact
# value types it gives back unchanged, for Django's own field classes only, where the source shows it:
#   CharField, TextField (and subclasses such as EmailField that change none of the methods below):
#       to_python returns every str (str subclasses too: TextChoices members, SafeString) and None as is;
#   BooleanField: bool(v) is v for a bool;  FloatField: float(v) is v for a float;
#   IntegerField family: int(v) is v for an int, then the backend's adapt_integerfield_value (PostgreSQL
#       with psycopg 3 wraps it in Int2/Int4/Int8, so there ints are not given back and take the long way);
#   DateField: a date (not a datetime) as is, then adapt_datefield_value (PostgreSQL: as is; SQLite: str);
#   DateTimeField: an *aware* datetime as is, then adapt_datetimefield_value (naive ones are made aware
#       with a warning: always the long way);
#   ForeignKey/OneToOneField: None as is, an int as its target field (an auto key) gives it back.
# Whether the backend's adapt_* step keeps each type is checked once per field and connection vendor by
# probing get_db_prep_save with a value of that type. Anything else (another type, a subclass of int or
# datetime, a lazy string, an expression, JSON, IP addresses, decimals, a custom field) takes
# get_db_prep_save. Tests: yiwang/core/tests/test_inserts_params.py compare both for every field.
_NONE = type(None)
_BY_CLASS = {
    models.CharField: (str, _NONE),
    models.TextField: (str, _NONE),
    models.BooleanField: (bool, _NONE),
    models.FloatField: (float, _NONE),
    models.IntegerField: (int, _NONE),
    models.DateTimeField: (datetime, _NONE),  # aware ones only; see _AWARE
    models.DateField: (date, _NONE),
    models.ForeignKey: (int, _NONE),
}
_FIELD_METHODS = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")
_TEXT, _AWARE = "text", "aware"


def _converter(connection, field) -> tuple:
    """(field, attname to read or None for pre_save, exact types given back as they are, _TEXT | _AWARE | None)."""
    base = next((c for c in type(field).__mro__ if c in _BY_CLASS), None)
    if base is not None and any(getattr(type(field), m) is not getattr(base, m) for m in _FIELD_METHODS):
        base = None  # a subclass that changes how values are prepared: always the field's own way
    auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    attname = None if auto or type(field).pre_save not in (Field.pre_save, models.DateField.pre_save,
                                                          models.DateTimeField.pre_save) else field.attname
    kept = frozenset(t for t in _BY_CLASS.get(base, ()) if _kept(connection, field, t))
    kind = None
    if base in (models.CharField, models.TextField) and str in kept:
        kind = _TEXT
    elif base is models.DateTimeField and datetime in kept:
        kept, kind = kept - {datetime}, _AWARE
    return field, attname, kept, kind


def _kept(connection, field, value_type) -> bool:
    """Whether the field gives a fresh value of that type back as it is on this connection."""
    probe = {str: lambda: "probe".join("  "), bool: lambda: True, float: lambda: float("2.5"),
             int: lambda: int("1234567890123"), _NONE: lambda: None,
             datetime: lambda: datetime.now(UTC), date: lambda: date.today()}[value_type]()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a field that warns about the value does something with it
            return field.get_db_prep_save(probe, connection) is probe
    except Exception:  # noqa: BLE001 - a field that refuses the type does not keep it
        return False


def insert_new(objs: list[Model], *, send_save_signals: bool = False,
               skip_conflicts_on: str | None = None) -> list[Model]:
    """Insert unsaved instances of one model (without primary keys) with one statement, as
    `Model.objects.bulk_create(objs)` would, and return them with their keys set.

    With `skip_conflicts_on` (a unique field), rows whose value is already taken are left out, and unsaved;
    only the inserted rows are returned. The values must differ within `objs`."""
    if not objs:
        return objs
    # The connection itself, not django.db.connection: every attribute read through that proxy looks the
    # connection up again, and the fields read a few for each value.
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    meta = model._meta
    conflict = None
    if skip_conflicts_on is not None:
        conflict = meta.get_field(skip_conflicts_on)
        if not conflict.unique:
            raise ValueError(f"{meta.label}.{skip_conflicts_on} is not unique")
        if len({getattr(obj, conflict.attname) for obj in objs}) != len(objs):
            raise ValueError(f"insert_new: a repeated {skip_conflicts_on} among the rows")
    if (not connection.features.can_return_rows_from_bulk_insert or meta.parents
            or meta.db_returning_fields != [meta.pk]):  # not worth a second path: the ORM's own
        if conflict is not None:
            raise NotImplementedError(f"insert_new(skip_conflicts_on=...) on {connection.vendor}")
        if send_save_signals:
            for obj in objs:
                obj.save(force_insert=True)
        else:
            model._default_manager.bulk_create(objs)
        return objs
    sql, converters = _statement(connection, model, len(objs), conflict)
    params = _params(connection, model, converters, objs, send_save_signals)
    # The small batches of every request are prepared once per connection (hot_cursor); a large one is a
    # one-off shape, and server-side binding takes at most 65,535 values per statement.
    with hot_cursor(connection) if len(params) <= HOT_MAX_PARAMS else connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    if conflict is None:
        for obj, (key,) in zip(objs, returned, strict=True):
            _saved(connection, obj, key, send_save_signals)
        return objs
    # The rows that were inserted, in the order given (RETURNING says nothing of the skipped ones).
    keys = {conflict.to_python(value): key for key, value in returned}
    saved = []
    for obj in objs:
        key = keys.get(getattr(obj, conflict.attname))
        if key is not None:
            _saved(connection, obj, key, send_save_signals)
            saved.append(obj)
    return saved


def _params(connection, model, converters, objs, send_save_signals) -> list:
    params = []
    append = params.append
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert_new takes new instances of one model")
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        if send_save_signals:
            pre_save.send(sender=model, instance=obj, raw=False, using=connection.alias, update_fields=None)
        for field, attname, kept, kind in converters:
            value = field.pre_save(obj, True) if attname is None else getattr(obj, attname)
            if (type(value) in kept or (kind is _TEXT and isinstance(value, str))
                    or (kind is _AWARE and type(value) is datetime and value.utcoffset() is not None)):
                append(value)
            else:
                append(field.get_db_prep_save(value, connection))
    return params


def _saved(connection, obj, key, send_save_signals) -> None:
    setattr(obj, obj._meta.pk.attname, key)
    obj._state.adding = False
    obj._state.db = connection.alias
    if send_save_signals:
        post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False,
                       using=connection.alias)


# psycopg 3 converts a query into its client-side binding template (splitting it at each placeholder) and keeps
# the result per query text only for queries with at most 50 parameters (MAX_CACHED_STATEMENT_PARAMS; and at
# most 4096 bytes, MAX_CACHED_STATEMENT_LENGTH, which we keep). An intake's multi-row INSERTs have more (three
# steps are 51 values, five notifications 60), so their text was split again on every request: about 4 % of an
# intake's CPU. Its cache holds 128 query texts (LRU); the few intake shapes fit beside the others.
PSYCOPG_CACHED_PARAMS = 256


def cache_long_query_templates() -> None:
    """Let psycopg keep the binding template of queries with up to PSYCOPG_CACHED_PARAMS parameters. Called once
    at startup (CoreConfig.ready); yiwang/core/tests/test_inserts.py fails if psycopg drops the setting."""
    try:
        from psycopg import _queries
    except ImportError:  # SQLite only
        return
    if getattr(_queries, "MAX_CACHED_STATEMENT_PARAMS", PSYCOPG_CACHED_PARAMS) < PSYCOPG_CACHED_PARAMS:
        _queries.MAX_CACHED_STATEMENT_PARAMS = PSYCOPG_CACHED_PARAMS
