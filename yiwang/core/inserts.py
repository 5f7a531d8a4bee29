"""New rows written with one INSERT whose SQL is built once per process, for the writes on every intake.

`QuerySet.bulk_create` compiles its INSERT anew on every call, and on PostgreSQL (Django 5.2) packs the
values into arrays for `INSERT ... SELECT * FROM UNNEST(...)`: for the handful of rows a case intake writes
(the case, its follower, three steps, their audit rows and notifications) that compilation cost several
times more CPU than the database spent on the rows. `insert_new` writes the same rows as bulk_create
would: each field's `pre_save(obj, add=True)` (auto_now, auto_now_add, files), then `get_db_prep_save`
(JSON, dates, booleans as the backend wants them), unsaved related objects resolved to their new keys,
the primary keys read back with RETURNING and set on the instances, which are marked saved. Only the
statement text is kept, per (database vendor, model, row count). Like bulk_create it sends no pre_save
or post_save signals unless asked to (`send_save_signals`, as Model.save() would send them).
Tests: yiwang/cases/tests/test_outbox_inserts.py compare its rows with the ORM's for every model it writes.
"""

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

_statements: dict[tuple, tuple[str, list]] = {}


def _statement(connection, model: type[Model], rows: int) -> tuple[str, list]:
    key = (connection.vendor, model, rows)
    found = _statements.get(key)
    if found is None:
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if not f.primary_key and not f.generated]
        if any(hasattr(f, "get_placeholder") for f in fields):
            raise TypeError(f"{meta.label}: a field with its own SQL placeholder is not supported")
        ops = connection.ops
        columns = ", ".join(ops.quote_name(f.column) for f in fields)
        values = ops.bulk_insert_sql(fields, [["%s"] * len(fields)] * rows)
        returning, _params = ops.return_insert_columns([meta.pk])
        sql = f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) {values} {returning}"
        found = _statements[key] = (sql, [(f, _passes_text_through(f)) for f in fields])
    return found


_TEXT_METHODS = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")


def _passes_text_through(field) -> bool:
    """Whether the field sends a `str` value as it is (Django's own CharField and TextField methods, which
    only turn lazy strings and non-strings into strings): most of the values an intake writes, and
    preparing them one by one was a tenth of its CPU."""
    return any(all(getattr(type(field), m) is getattr(base, m) for m in _TEXT_METHODS)
               for base in (models.CharField, models.TextField))


def insert_new(objs: list[Model], *, send_save_signals: bool = False) -> list[Model]:
    """Insert unsaved instances of one model (without primary keys) with one statement, as
    `Model.objects.bulk_create(objs)` would, and return them with their keys set."""
    if not objs:
        return objs
    # The connection itself, not django.db.connection: every attribute read through that proxy looks the
    # connection up again, and the fields read a few for each value.
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    meta = model._meta
    if (not connection.features.can_return_rows_from_bulk_insert or meta.parents
            or meta.db_returning_fields != [meta.pk]):  # not worth a second path: the ORM's own
        if send_save_signals:
            for obj in objs:
                obj.save(force_insert=True)
        else:
            model._default_manager.bulk_create(objs)
        return objs
    sql, fields = _statement(connection, model, len(objs))
    params = []
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert_new takes new instances of one model")
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        if send_save_signals:
            pre_save.send(sender=model, instance=obj, raw=False, using=connection.alias, update_fields=None)
        for field, text in fields:
            value = getattr(obj, field.attname) if text else field.pre_save(obj, True)
            params.append(value if text and type(value) is str else field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    pk = meta.pk.attname
    for obj, (key,) in zip(objs, keys, strict=True):
        setattr(obj, pk, key)
        obj._state.adding = False
        obj._state.db = connection.alias
        if send_save_signals:
            post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False,
                           using=connection.alias)
    return objs
