"""Query budgets of the two hot paths (see docs/performance.md: dispatcher queue, case intake).

The queue page costs the same few queries whatever the number of rows (no query per row, no COUNT);
an intake request, commit hooks included, writes each table once and adds itself to the rollups in its
transaction, without recounting.
"""

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from yiwang.cases.models import Case

from .factories import BIN_LAT, BIN_LON


def _create(api, key):
    return api.post("/api/v1/cases/", {"channel": "grid_worker", "category": "200102", "lon": BIN_LON,
                                       "lat": BIN_LAT, "description": "垃圾桶满溢", "idempotency_key": key},
                    format="json")


def _queue_queries(client):
    """The page's own queries: the session machinery (read, and saved now and then to push the expiry
    back, inside a savepoint in tests) is the framework's and left out."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/cases/?state=open")
    assert response.status_code == 200
    return [q for q in ctx.captured_queries
            if "django_session" not in q["sql"] and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_queue_page_runs_a_fixed_number_of_queries(world, cats, api_for, client_for):
    api = api_for(world.people.grid_worker)
    assert _create(api, "q-1").status_code == 201
    client = client_for(world.people.dispatcher_district)
    _queue_queries(client)  # warm per-process caches (grid index, content types)
    one = _queue_queries(client)
    for i in range(2, 7):
        assert _create(api, f"q-{i}").status_code == 201
    six = _queue_queries(client)
    assert Case.objects.count() == 6
    assert len(one) == len(six) == QUEUE_QUERIES, [q["sql"][:120] for q in six]
    assert sum("cases_case" in q["sql"] for q in six) == 1  # one SELECT with its joins, no COUNT, no per-row
    # user, memberships (scope), areas (switcher), the rows, departments (bulk dispatch)


def test_intake_request_runs_a_fixed_number_of_queries(world, cats, api_for, django_capture_on_commit_callbacks):
    """A grid worker's report is created, accepted and dispatched by rule (three steps): each table is
    written once, the case in its final state, and the case is added to the rollups in the same
    transaction (one upsert per rollup table) instead of recounting its grid and day after commit."""
    api = api_for(world.people.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):  # warm per-process caches, as a running server has
        assert _create(api, "warm").status_code == 201
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        response = _create(api, "i-1")
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "dispatched"
    sql = [q["sql"] for q in ctx.captured_queries]
    for table in ("cases_case", "cases_casestep", "cases_casefollower", "audit_auditevent", "cases_notification"):
        assert sum(s.startswith(f'INSERT INTO "{table}"') for s in sql) == 1, (table, sql)
    assert not any(s.startswith('UPDATE "cases_case"') for s in sql), sql
    assert not any("COUNT(" in s and "cases_casestep" in s for s in sql), sql
    for table in ("dashboards_dailyrollup", "dashboards_dailytotal", "dashboards_opencount", "dashboards_workerdaily"):
        assert [s.startswith(f'INSERT INTO "{table}"') for s in sql].count(True) == 1, (table, sql)
    statements = [s for s in sql if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(statements) <= INTAKE_QUERIES[connection.vendor], [s[:120] for s in statements]


QUEUE_QUERIES = 5
# Savepoints aside: the chosen dispatch rule (categories and the rules to choose from are kept per process,
# test_reference_cache.py); the case, follower, steps, audit rows, dispatchers and
# handlers to notify, notifications; the rollups (4 upserts; on PostgreSQL one more statement takes the
# refresh's advisory locks). No idempotency probe: the insert finds a replay (test_intake_idempotency.py);
# no grid read: its row is kept with the grid index (test_intake_grid.py). The API client is authenticated.
INTAKE_QUERIES = {"sqlite": 12, "postgresql": 13}


def test_the_idempotency_probe_can_use_the_partial_unique_index(db):
    """The unique (scope, key) index only holds non-empty keys; a probe that does not say its key is
    not empty scans every case on SQLite (a million on the benchmark database) instead of one index entry."""
    from yiwang.cases import services

    probe = services._CASE_BY_IDEMPOTENCY_KEY.build(scope="u1", key="key-1")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # an empty test table would be scanned anyway
            cursor.execute("SET LOCAL enable_seqscan = off")
    assert "case_idempotency" in probe.explain()


@override_settings(YIWANG_ROLLUPS="queued")
def test_intake_request_in_production_mode_only_writes_its_own_rows(world, cats, api_for,
                                                                    django_capture_on_commit_callbacks):
    """With queued rollups (production), the same report writes each of its tables once and one queued row
    for the dashboards, and reads nothing but the caller's token: the categories, rules, departments and
    the people to notify are kept per process (test_reference_cache.py), the grid with the grid index; the
    caller here is signed in by the test client (over HTTP, the API token adds one read)."""
    api = api_for(world.people.grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        assert _create(api, "warm-q").status_code == 201
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        response = _create(api, "q-1")
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "dispatched"
    sql = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    tables = ("cases_case", "cases_casestep", "cases_casefollower", "audit_auditevent", "cases_notification",
              "dashboards_rolluppending")
    for table in tables:
        assert sum(s.startswith(f'INSERT INTO "{table}"') for s in sql) == 1, (table, sql)
    assert len(sql) == len(tables), sql  # no read at all (the test client is signed in; a real one adds its token)
