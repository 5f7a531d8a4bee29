"""core.inserts.insert_new(skip_conflicts_on=...): the rows whose unique value is taken are left out (and
unsaved), the others inserted with their keys, in one statement and without a savepoint; psycopg keeps the
binding template of its many-parameter INSERTs."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.core.inserts import insert_new

pytestmark = pytest.mark.django_db


def test_taken_values_are_skipped_and_the_others_inserted_with_their_keys():
    taken = Group.objects.create(name="taken")
    rows = [Group(name="new-1"), Group(name="taken"), Group(name="new-2")]
    with CaptureQueriesContext(connection) as queries:
        inserted = insert_new(rows, skip_conflicts_on="name")
    assert len(queries.captured_queries) == 1 and "ON CONFLICT" in queries.captured_queries[0]["sql"]
    assert inserted == [rows[0], rows[2]] and rows[1].pk is None and rows[1]._state.adding
    assert {g.pk: g.name for g in Group.objects.all()} == {taken.pk: "taken", rows[0].pk: "new-1",
                                                           rows[2].pk: "new-2"}
    assert insert_new([Group(name="taken")], skip_conflicts_on="name") == []


def test_a_repeated_value_or_a_field_that_is_not_unique_is_refused():
    with pytest.raises(ValueError, match="repeated"):
        insert_new([Group(name="x"), Group(name="x")], skip_conflicts_on="name")
    with pytest.raises(ValueError, match="not unique"):  # unique only with the content type
        insert_new([Permission(codename="y", name="y", content_type_id=1)], skip_conflicts_on="codename")
    assert not Group.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's client-side binding")
def test_psycopg_keeps_the_template_of_a_query_with_many_parameters():
    """An intake's multi-row INSERTs have more than psycopg's default 50 parameters; CoreConfig.ready raises the
    limit so their text is not split again on every request. Fails if psycopg renames or drops the setting."""
    from unittest import mock

    from psycopg import _queries

    from yiwang.core.inserts import PSYCOPG_CACHED_PARAMS

    assert _queries.MAX_CACHED_STATEMENT_PARAMS == PSYCOPG_CACHED_PARAMS
    sql = "SELECT " + ", ".join(["%s::int"] * 120)
    with mock.patch.object(_queries, "_query2pg_client_nocache", side_effect=AssertionError("split again")):
        for first in (1, 2):
            with connection.cursor() as cursor:
                cursor.execute(sql, [first] + list(range(119)))
                assert cursor.fetchone()[:2] == (first, 0)


def test_many_rows_past_the_protocols_parameter_limit_are_inserted_and_not_prepared():
    """Server-side binding takes at most 65,535 values per statement; a batch larger than the hot shapes (an
    audit of a bulk action, a notice to every grid worker) goes the ordinary way, unprepared."""
    from yiwang.audit.models import AuditEvent
    from yiwang.audit.services import audit_event

    events = [audit_event(actor=None, action="test.bulk", object_repr=f"#{i}", area_path="141102") for i in range(6000)]
    assert len(insert_new(events)) == 6000 and all(event.pk for event in events)
    assert AuditEvent.objects.filter(action="test.bulk").count() == 6000
    from yiwang.core import inserts

    assert not any(key[1] is AuditEvent and key[2] == 6000 for key in inserts._statements)  # its text not kept
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ['%"audit_auditevent"%'])
            assert cursor.fetchone()[0] == 0
