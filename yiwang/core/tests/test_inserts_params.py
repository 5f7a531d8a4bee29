"""core.inserts: the values insert_new sends are exactly what each field's get_db_prep_save gives, though plain
values of Django's own fields skip it; on PostgreSQL they also render to the same SQL literals."""

import uuid
import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection, models
from django.db.models.expressions import Value
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from yiwang.core.inserts import _converter, _params, _statement

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


class Colour(models.TextChoices):
    RED = "red", "Red"


class Size(models.IntegerChoices):
    SMALL = 3, "Small"


class Str(str):
    pass


VALUES = [
    None, "", "文本", "12", SafeString("safe"), Str("sub"), Colour.RED, gettext_lazy("system"),
    0, 7, 2**40, -1, Size.SMALL, True, False, 2.5, 0.0, Decimal("1.50"),
    NOW, NOW.astimezone(timezone(timedelta(hours=8))), datetime(2026, 3, 4, 5, 6, 7),  # aware, aware, naive
    date(2026, 3, 4), {"a": [1, None, "数"]}, [1, 2], uuid.UUID(int=7), b"bytes", "127.0.0.1", Value(3),
]
INTAKE = {"cases.Case", "cases.CaseStep", "cases.CaseFollower", "audit.AuditEvent", "notifications.Notification"}


def _render(value):
    """What the database receives: the literal psycopg binds on PostgreSQL, the value and its type on SQLite."""
    if connection.vendor != "postgresql":
        return type(value), value
    import psycopg

    connection.ensure_connection()
    try:
        return psycopg.ClientCursor(connection.connection).mogrify("%s", [value])
    except Exception as error:  # noqa: BLE001 - a value the driver refuses (JSON of a Decimal): the same refusal
        return type(error), type(value), getattr(value, "obj", value)


def _outcome(send):
    """What was sent (its type, rendered) or raised, and the warnings on the way."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value = send()
        except Exception as error:  # noqa: BLE001 - both ways must refuse the same values
            return ("raised", type(error)), []
    return ("sent", type(value), _render(value)), [str(w.message) for w in seen]


def _check(model, converter, value):
    field = converter[0]
    ours_obj, their_obj = model(), model()
    for obj in (ours_obj, their_obj):
        obj.__dict__[model._meta.pk.attname] = None  # insert_new takes rows without keys
        obj.__dict__[field.attname] = value
    ours = _outcome(lambda: _params(connection, model, [converter], [ours_obj], False)[0])
    theirs = _outcome(lambda: field.get_db_prep_save(field.pre_save(their_obj, True), connection))
    assert ours == theirs, f"{model._meta.label}.{field.name} = {value!r}"


def test_every_field_of_every_model_sends_what_get_db_prep_save_gives():
    """Each concrete field of every installed model (intake's, JSON, dates, IPs, files, the contrib apps'),
    for values of every common type: str subclasses (TextChoices, SafeString), lazy text, bool against int,
    aware and naive datetimes, expressions."""
    checked = set()
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            for converter in _statement(connection, model, 1)[1]:
                for value in VALUES:
                    _check(model, converter, value)
            checked.add(model._meta.label)
    assert INTAKE <= checked


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's literals")
def test_a_text_choices_member_binds_as_its_plain_value():
    assert _render(Colour.RED) == _render("red") == _render(SafeString("red")) == "'red'"
    assert _render(Colour.RED) != _render("RED")
    assert _render(Size.SMALL) == _render(3)


def test_plain_values_of_django_fields_skip_get_db_prep_save():
    """The point of the converters: a case's text, keys, floats, booleans, aware times and None go as they are;
    JSON, IP addresses and (on PostgreSQL, which wraps them) integers still go through their field."""
    step = apps.get_model("cases", "CaseStep")
    converters = _statement(connection, step, 1)[1]
    obj = step(case_id=7, action="create", from_state="", to_state=Colour.RED, actor_id=None, actor_label="gw",
               level=3, area_path="141102", at=NOW, deadline=None, on_time=True, comment=SafeString("c"),
               rating=None, public=False, data={"a": 1}, external_id="")
    with mock.patch.object(models.Field, "get_db_prep_save", autospec=True,
                           side_effect=models.Field.get_db_prep_save) as via_field:
        with mock.patch.object(models.ForeignKey, "get_db_prep_save", autospec=True,
                               side_effect=models.ForeignKey.get_db_prep_save) as via_key:
            with mock.patch.object(models.JSONField, "get_db_prep_save", autospec=True,
                                   side_effect=models.JSONField.get_db_prep_save) as via_json:
                _params(connection, step, converters, [obj], False)
    assert via_key.call_count == 0 and via_json.call_count == 1
    postgresql = connection.vendor == "postgresql"  # which wraps integers; SQLite turns times into text
    assert {call.args[0].name for call in via_field.call_args_list} == {"data", "level" if postgresql else "at"}


def test_a_field_subclass_that_prepares_values_its_own_way_is_asked_every_time():
    class Upper(models.CharField):
        def get_prep_value(self, value):
            return super().get_prep_value(value).upper()

    field = Upper(max_length=10)
    field.set_attributes_from_name("shout")
    obj = Group(name="g")
    obj.shout = "quiet"
    converter = _converter(connection, field)
    assert converter[2] == frozenset() and converter[3] is None
    assert _params(connection, Group, [converter], [obj], False) == ["QUIET"]
