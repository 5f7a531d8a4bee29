"""core.prepared.PreparedQuery: a query compiled once must answer exactly what the ORM answers."""

import pytest
from django.db.models import Q

from yiwang.core.prepared import PreparedQuery, instance_from_row
from yiwang.geography.models import Area, AreaLevel

pytestmark = pytest.mark.django_db

PATH = Area._meta.get_field("path")
PARENT = Area._meta.get_field("parent")
LEVEL = Area._meta.get_field("level")

CHILDREN_AT_LEVEL = PreparedQuery(
    lambda parent, level: Area.objects.filter(parent_id=parent, level=level).order_by("path")
    .values("id", "path", "name", "level", "created_at"),
    parent=(PARENT, -7_777_777), level=(LEVEL, 31_999))


def _orm(parent, level):
    return list(Area.objects.filter(parent_id=parent, level=level).order_by("path")
                .values("id", "path", "name", "level", "created_at"))


@pytest.fixture
def tree():
    district = Area.objects.create(level=AreaLevel.DISTRICT, name="离石区", division_code="141102")
    streets = [Area.objects.create(level=AreaLevel.SUBDISTRICT, name=f"街道{i}", division_code="141102",
                                   street_no=i, parent=district) for i in (1, 2)]
    for street in streets:
        for n in (1, 2, 3):
            Area.objects.create(level=AreaLevel.COMMUNITY, name=f"{street.name}社区{n}", division_code="141102",
                                street_no=street.street_no, community_no=n, parent=street)
    return district, streets


def test_rows_equal_the_orm_for_every_value_bound(tree):
    district, streets = tree
    for parent, level in [(district.pk, AreaLevel.SUBDISTRICT), (streets[0].pk, AreaLevel.COMMUNITY),
                          (streets[1].pk, AreaLevel.COMMUNITY), (district.pk, AreaLevel.COMMUNITY), (0, 1)]:
        assert CHILDREN_AT_LEVEL.rows(parent=parent, level=level) == _orm(parent, level)
    # The second street's communities, not the first's: the values really are swapped in each call.
    names = [r["name"] for r in CHILDREN_AT_LEVEL.rows(parent=streets[1].pk, level=AreaLevel.COMMUNITY)]
    assert names == ["街道2社区1", "街道2社区2", "街道2社区3"]


def test_values_are_converted_like_the_orm(tree):
    row = CHILDREN_AT_LEVEL.rows(parent=tree[0].pk, level=AreaLevel.SUBDISTRICT)[0]
    created = Area.objects.get(pk=row["id"]).created_at
    assert row["created_at"] == created and row["created_at"].tzinfo is not None  # SQLite returns text


def test_a_marker_that_is_not_a_parameter_is_refused():
    query = PreparedQuery(lambda level: Area.objects.filter(level=1).values("id"), level=(LEVEL, 31_998))
    with pytest.raises(RuntimeError):
        query.rows(level=2)


def test_a_lookup_that_rewrites_its_value_is_refused_not_answered_wrongly():
    # startswith sends "<escaped value>%", not the value: it cannot be swapped in, so it must not compile.
    query = PreparedQuery(lambda prefix: Area.objects.filter(path__startswith=prefix).values("id"),
                          prefix=(PATH, "\x1fprefix\x1f"))
    with pytest.raises(RuntimeError):
        query.rows(prefix="141102")


def test_instance_from_row_defers_missing_fields(tree):
    district, _streets = tree
    row = {"a__id": district.pk, "a__path": district.path, "a__name": district.name}
    area = instance_from_row(Area, row, prefix="a__")
    assert (area.pk, area.path, area.name) == (district.pk, district.path, district.name)
    assert "level" in area.get_deferred_fields()
    assert area.level == AreaLevel.DISTRICT  # a deferred field is read from the database when used


CHILDREN_UNDER = PreparedQuery(
    lambda prefix, level: Area.objects.filter(path__startswith=prefix, level=level).order_by("path")
    .values("id", "path", "name"),
    prefix=(PATH, "\x1fprefix\x1f", "startswith"), level=(LEVEL, 31_997))


def test_a_startswith_marker_is_sent_as_the_orms_pattern(tree):
    district, streets = tree
    orm = lambda prefix, level: list(Area.objects.filter(path__startswith=prefix, level=level)  # noqa: E731
                                     .order_by("path").values("id", "path", "name"))
    for prefix, level in [(streets[0].path, AreaLevel.COMMUNITY), (streets[1].path, AreaLevel.COMMUNITY),
                          (district.path, AreaLevel.SUBDISTRICT), ("9", AreaLevel.COMMUNITY)]:
        assert CHILDREN_UNDER.rows(prefix=prefix, level=level) == orm(prefix, level)
    assert [r["name"] for r in CHILDREN_UNDER.rows(prefix=streets[1].path, level=AreaLevel.COMMUNITY)] == [
        "街道2社区1", "街道2社区2", "街道2社区3"]
    # Wildcards in the value are literal, as the ORM escapes them: "%" matches no path, "_" no digit.
    assert CHILDREN_UNDER.rows(prefix="%", level=AreaLevel.COMMUNITY) == []
    assert CHILDREN_UNDER.rows(prefix="141102_", level=AreaLevel.COMMUNITY) == []


def test_a_marker_sent_in_two_forms_is_refused():
    both = PreparedQuery(lambda prefix: Area.objects.filter(Q(path__startswith=prefix) | Q(path=prefix)).values("id"),
                         prefix=(PATH, "\x1fprefix\x1f", "startswith"))
    with pytest.raises(RuntimeError):
        both.rows(prefix="141102")
    exact = PreparedQuery(lambda path: Area.objects.filter(Q(path__startswith=path) | Q(path=path)).values("id"),
                          path=(PATH, "\x1fpath\x1f"))
    with pytest.raises(RuntimeError):
        exact.rows(path="141102")


# -- hot_cursor: server-side binding, prepared once per connection (PostgreSQL) ----------------------------------



HOT_CHILDREN_AT_LEVEL = PreparedQuery(
    lambda parent, level: Area.objects.filter(parent_id=parent, level=level).order_by("path")
    .values("id", "path", "name", "level", "created_at"),
    parent=(PARENT, -7_777_777), level=(LEVEL, 31_999), prepare=True)


def test_only_lookups_by_equality_may_be_prepared():
    # A generic plan for "path LIKE $1" cannot use the prefix's index: such queries keep planning per value.
    with pytest.raises(ValueError):
        PreparedQuery(lambda path: Area.objects.filter(path__startswith=path).values("id"),
                      path=(PATH, "\x1fp", "startswith"), prepare=True)


def _prepared_statements() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_hot_queries_are_prepared_once_per_connection_on_postgresql(tree, settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("server-side binding and prepared statements are PostgreSQL's")
    district, streets = tree
    assert connection.connection.prepare_threshold is not None  # settings: prepared unless YIWANG_DB_PREPARE=0
    before = _prepared_statements()
    for _ in range(3):
        assert HOT_CHILDREN_AT_LEVEL.rows(parent=district.pk, level=AreaLevel.SUBDISTRICT) == _orm(
            district.pk, AreaLevel.SUBDISTRICT)
    new = _prepared_statements() - before
    assert len(new) == 1 and '"geography_area"' in new.pop()  # one statement, prepared once, run three times
    # Neither the ORM's own queries nor compiled queries without prepare=True are prepared.
    list(Area.objects.filter(parent_id=district.pk).values("id"))
    assert CHILDREN_AT_LEVEL.rows(parent=district.pk, level=AreaLevel.SUBDISTRICT)
    assert len(_prepared_statements() - before) == 1


def test_hot_queries_bind_on_the_server_without_preparing_when_prepare_is_off(tree):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("server-side binding and prepared statements are PostgreSQL's")
    district, _streets = tree
    connection.ensure_connection()
    saved = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None  # what YIWANG_DB_PREPARE=0 sets (for a pooler)
    try:
        before = _prepared_statements()
        for _ in range(3):
            assert HOT_CHILDREN_AT_LEVEL.rows(parent=district.pk, level=AreaLevel.COMMUNITY) == []
        assert _prepared_statements() == before
    finally:
        connection.connection.prepare_threshold = saved


def test_prepare_setting_follows_the_environment(monkeypatch):
    import importlib

    import config.settings as settings_module

    try:
        for value, expected in (("1", 0), ("0", None)):
            monkeypatch.setenv("YIWANG_DB_PREPARE", value)
            monkeypatch.setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            reloaded = importlib.reload(settings_module)
            assert reloaded.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == expected
            assert reloaded.DATABASES["default"]["OPTIONS"]["options"] == "-c jit=off"
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)


def test_postgresql_connections_run_without_jit():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
