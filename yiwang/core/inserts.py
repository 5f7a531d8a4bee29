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

`insert_new(objs, skip_conflicts_on="field")` adds `ON CONFLICT (field) DO NOTHING` (PostgreSQL, SQLite >=
3.35) for rows whose unique `field` is taken, without the savepoint a caught IntegrityError needs: it returns
the rows it inserted, and leaves the others unsaved (tests: yiwang/core/tests/test_inserts.py).
"""

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

_statements: dict[tuple, tuple[str, list]] = {}


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
        found = _statements[key] = (sql, [(f, _passes_text_through(f)) for f in fields])
    return found


_TEXT_METHODS = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")


def _passes_text_through(field) -> bool:
    """Whether the field sends a `str` value as it is (Django's own CharField and TextField methods, which
    only turn lazy strings and non-strings into strings): most of the values an intake writes, and
    preparing them one by one was a tenth of its CPU."""
    return any(all(getattr(type(field), m) is getattr(base, m) for m in _TEXT_METHODS)
               for base in (models.CharField, models.TextField))


def insert_new(objs: list[Model], *, send_save_signals: bool = False,
               skip_conflicts_on: str | None = None) -> list[Model]:
    """Insert unsaved instances of one model (without primary keys) with one statement, as
    `Model.objects.bulk_create(objs)` would, and return them with their keys set.

    With `skip_conflicts_on` (a unique field), rows whose value is already taken are left out, and unsaved;
    only the inserted rows are returned. The values must differ within `objs`."""
    if not objs:
        return objs
    if skip_conflicts_on is not None:
        return _insert_new_skipping_conflicts(objs, skip_conflicts_on, send_save_signals)
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
    params = _params(connection, model, fields, objs, send_save_signals)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    for obj, (key,) in zip(objs, keys, strict=True):
        _saved(connection, obj, key, send_save_signals)
    return objs


def _insert_new_skipping_conflicts(objs: list[Model], field_name: str, send_save_signals: bool) -> list[Model]:
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    meta = model._meta
    field = meta.get_field(field_name)
    if not field.unique:
        raise ValueError(f"{meta.label}.{field_name} is not unique")
    by_value = {getattr(obj, field.attname): obj for obj in objs}
    if len(by_value) != len(objs):
        raise ValueError(f"insert_new: a repeated {field_name} among the rows")
    if (not connection.features.can_return_rows_from_bulk_insert or meta.parents
            or meta.db_returning_fields != [meta.pk]):
        raise NotImplementedError(f"insert_new(skip_conflicts_on=...) on {connection.vendor}")
    sql, fields = _statement(connection, model, len(objs), field)
    params = _params(connection, model, fields, objs, send_save_signals)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchall()
    # The rows that were inserted, in the order given (RETURNING says nothing of the skipped ones).
    keys = {field.to_python(value): key for key, value in inserted}
    saved = []
    for obj in objs:
        key = keys.get(getattr(obj, field.attname))
        if key is not None:
            _saved(connection, obj, key, send_save_signals)
            saved.append(obj)
    return saved


def _params(connection, model, fields, objs, send_save_signals) -> list:
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
    return params


def _saved(connection, obj, key, send_save_signals) -> None:
    setattr(obj, obj._meta.pk.attname, key)
    obj._state.adding = False
    obj._state.db = connection.alias
    if send_save_signals:
        post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False,
                       using=connection.alias)
