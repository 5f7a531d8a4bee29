import pytest
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.core import pii
from yiwang.registry.models import ChangeRequest
from yiwang.registry.tests.factories import id_number, make_resident

pytestmark = pytest.mark.django_db


def test_api_lists_masked_and_filters_like_the_page(world, api_for):
    r = make_resident(world.tree.grid_a1, "刘洋", phone="13812345678")
    make_resident(world.tree.grid_b1, "刘洋洋")
    body = api_for(world.people.staff).get(reverse("api:resident-list"), {"q": "ly"}).json()
    assert [x["name"] for x in body["results"]] == ["刘洋"]
    assert body["results"][0]["id_masked"] == r.id_masked
    assert pii.decrypt(r.id_cipher) not in str(body) and "13812345678" not in str(body)


def test_api_exact_id_search_is_scoped(world, api_for):
    r = make_resident(world.tree.grid_a1, "刘洋")
    number = pii.decrypt(r.id_cipher)
    assert api_for(world.people.staff).get(reverse("api:resident-search"), {"q": number}).json()[0]["id"] == r.pk
    assert api_for(world.people.outsider).get(reverse("api:resident-search"), {"q": number}).json() == []


def test_api_reveal_needs_reason(world, api_for):
    r = make_resident(world.tree.grid_a1)
    url = reverse("api:resident-reveal", args=[r.pk])
    assert api_for(world.people.staff).post(url, {}, format="json").status_code == 400
    assert api_for(world.people.grid_worker).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api_for(world.people.outsider).post(url, {"reason": "xx"}, format="json").status_code == 404
    ok = api_for(world.people.staff).post(url, {"reason": "核实身份"}, format="json")
    assert ok.json()["id_number"] == pii.decrypt(r.id_cipher)
    assert AuditEvent.objects.filter(action="resident.reveal").count() == 1


def test_api_create_with_bad_id_number_is_a_clear_400(world, api_for):
    response = api_for(world.people.staff).post(reverse("api:resident-list"), {
        "grid": world.tree.grid_a1.pk, "name": "钱七", "id_number": "141102198001010010"}, format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "id_number" in response.json()["error"]["fields"]
    created = api_for(world.people.staff).post(reverse("api:resident-list"), {
        "grid": world.tree.grid_a1.pk, "name": "钱七", "id_number": id_number()}, format="json")
    assert created.status_code == 201


def test_api_grid_worker_patch_becomes_change_request_and_version_conflict(world, api_for):
    r = make_resident(world.tree.grid_a1)
    url = reverse("api:resident-detail", args=[r.pk])
    pending = api_for(world.people.grid_worker).patch(url, {"changes": {"occupation": "厨师"}}, format="json")
    assert pending.status_code == 202 and pending.json()["status"] == "pending"
    cr = ChangeRequest.objects.get()
    approve = api_for(world.people.staff).post(reverse("api:change-request-approve", args=[cr.pk]), {}, format="json")
    assert approve.json()["state"] == "approved"
    r.refresh_from_db()
    stale = api_for(world.people.staff).patch(url, {"changes": {"occupation": "司机"}, "version": r.version - 1},
                                              format="json")
    assert stale.status_code == 409


def test_household_list_query_count_does_not_grow_with_rows(world, api_for, django_assert_max_num_queries):
    from yiwang.registry.tests.factories import make_household

    for i in range(6):
        make_household(world.tree.grid_a1, make_resident(world.tree.grid_a1, f"户主{i}"), number=f"N{i}")
    api = api_for(world.people.staff)
    with django_assert_max_num_queries(8):
        body = api.get(reverse("api:household-list")).json()
    assert len(body["results"]) == 6 and all(h["members"][0]["relation"] == "head" for h in body["results"])


@pytest.mark.parametrize("query", ["ly", "刘洋", "13812345678"])
def test_api_search_query_count_does_not_grow_with_hits(world, api_for, django_assert_num_queries, query):
    """A fixed number of queries however many people match: one per search stage taken (initials, then
    full pinyin; name prefix, then address prefix; phone hash), none per hit, no grid join."""
    grids = [world.tree.grid_a1, world.tree.grid_a2]
    for i in range(6):
        make_resident(grids[i % 2], "刘洋", phone="13812345678")
    api = api_for(world.people.staff)
    url = reverse("api:resident-search")
    api.get(url, {"q": query})  # warm per-process caches (special-group names)
    expected = {"ly": 2, "刘洋": 2, "13812345678": 1}[query]
    with django_assert_num_queries(expected) as captured:
        body = api.get(url, {"q": query}).json()
    assert len(body) == 6
    assert {x["grid_code"] for x in body} == {world.tree.grid_a1.code, world.tree.grid_a2.code}
    assert all(x["phone_masked"] == "138****5678" for x in body)
    # Each stage stops at the limit while walking its index: no ORDER BY over the matches, no join.
    assert all("ORDER BY" not in q["sql"] and "JOIN" not in q["sql"] for q in captured.captured_queries)


def test_api_search_stops_at_the_first_stage_that_fills_the_limit(world, api_for, django_assert_num_queries):
    for _i in range(3):
        make_resident(world.tree.grid_a1, "刘洋")
    make_resident(world.tree.grid_a1, "王五", address="刘洋路1号")
    api = api_for(world.people.staff)
    url = reverse("api:resident-search")
    api.get(url, {"q": "刘洋"})
    with django_assert_num_queries(1):
        assert len(api.get(url, {"q": "刘洋", "limit": 3}).json()) == 3
    names = [x["name"] for x in api.get(url, {"q": "刘洋", "limit": 10}).json()]
    assert names == ["刘洋", "刘洋", "刘洋", "王五"]  # name matches first, then addresses
    assert api.get(url, {"q": "刘洋", "limit": "x"}).status_code == 200  # a bad limit falls back to 20


def test_api_search_by_special_group_name_is_scoped(world, api_for):
    from yiwang.registry.models import ResidentTag, SpecialGroup

    group = SpecialGroup.objects.get(code="elderly_alone")
    mine = make_resident(world.tree.grid_a1, "赵老")
    theirs = make_resident(world.tree.grid_b1, "钱老")
    for r in (mine, theirs):
        ResidentTag.objects.create(resident=r, group=group, area_path=r.area_path, visit_interval_days=7)
    url = reverse("api:resident-search")
    assert [x["id"] for x in api_for(world.people.staff).get(url, {"q": group.name}).json()] == [mine.pk]
    assert [x["id"] for x in api_for(world.people.outsider).get(url, {"q": group.name}).json()] == [theirs.pk]


def test_api_list_search_is_one_query_with_a_count(world, api_for, django_assert_num_queries):
    """?q= on the list: the search predicate goes into the list query itself (scope + predicate + order +
    limit), beside one count of the matches; the outsider's list finds none of them."""
    for _i in range(6):
        make_resident(world.tree.grid_a1, "刘洋")
    make_resident(world.tree.grid_a1, "王五", address="刘洋路1号")
    make_resident(world.tree.grid_b1, "刘洋")
    api = api_for(world.people.staff)
    api.get(reverse("api:resident-list"), {"q": "刘洋"})
    with django_assert_num_queries(2):
        body = api.get(reverse("api:resident-list"), {"q": "刘洋"}).json()
    assert body["count"] == 7 and body["count_capped"] is False
    assert all(x["grid_code"] == world.tree.grid_a1.code for x in body["results"])
    assert [x["id"] for x in body["results"]] == sorted(x["id"] for x in body["results"])  # the list's order
    outsider = api_for(world.people.outsider).get(reverse("api:resident-list"), {"q": "刘洋"}).json()
    assert outsider["count"] == 1 and outsider["results"][0]["grid_code"] == world.tree.grid_b1.code


def test_api_list_search_count_stops_at_the_cap_and_pages_still_work(world, api_for, monkeypatch):
    from yiwang.registry.filtersets import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    made = [make_resident(world.tree.grid_a1, "刘洋").pk for _i in range(6)]
    api = api_for(world.people.staff)
    first = api.get(reverse("api:resident-list"), {"q": "ly", "page_size": 2}).json()
    assert first["count"] == 4 and first["count_capped"] is True and first["next"]
    second = api.get(reverse("api:resident-list"), {"q": "ly", "page_size": 2, "page": 2}).json()
    assert [x["id"] for x in first["results"] + second["results"]] == made[:4]
    # Without a search the count is exact.
    plain = api.get(reverse("api:resident-list"), {"page_size": 2}).json()
    assert plain["count"] == 6 and plain["count_capped"] is False


def test_resident_output_reads_fields_as_the_model_serializer_would(world):
    """ResidentOutput reads its fields directly (speed); the generic ModelSerializer representation
    is the reference, for a full row and for a search row (only SEARCH_FIELDS loaded)."""
    import datetime as dt

    from rest_framework import serializers

    from yiwang.geography.tests.factories import BuildingFactory
    from yiwang.registry.api.serializers import ResidentOutput
    from yiwang.registry.models import Resident
    from yiwang.registry.selectors import SEARCH_FIELDS
    from yiwang.registry.tests.factories import make_dwelling

    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1))
    full = make_resident(world.tree.grid_a1, "刘洋", phone="13812345678", dwelling=dwelling, occupation="教师",
                         birth=dt.date(1990, 2, 3))
    bare = make_resident(world.tree.grid_a2, "王五", id_no="", birth=None)
    for resident in (full, bare):
        for row in (Resident.objects.get(pk=resident.pk), Resident.objects.only(*SEARCH_FIELDS).get(pk=resident.pk)):
            generic = serializers.ModelSerializer.to_representation(ResidentOutput(), row)
            assert ResidentOutput(row).data == generic
            assert list(ResidentOutput(row).data) == ResidentOutput.Meta.fields
    assert ResidentOutput(full).data["birth_date"] == full.birth_date.isoformat()
    assert ResidentOutput(full).data["updated_at"].startswith(str(full.updated_at.year))


def test_prefix_search_is_a_prefix_on_every_backend(world, api_for):
    """Name, pinyin and initials match as prefixes (SQLite by index range, PostgreSQL by LIKE), and
    wildcard characters in the query are literal."""
    for name in ("刘洋", "刘洋洋", "刘", "王刘洋"):
        make_resident(world.tree.grid_a1, name)
    api = api_for(world.people.staff)

    def names(q):
        return sorted(x["name"] for x in api.get(reverse("api:resident-search"), {"q": q}).json())

    assert names("刘洋") == ["刘洋", "刘洋洋"]
    assert names("刘") == ["刘", "刘洋", "刘洋洋"]
    assert names("ly") == ["刘洋", "刘洋洋"] and names("LY") == ["刘洋", "刘洋洋"]
    assert names("liuyang") == ["刘洋", "刘洋洋"]
    assert names("刘%") == [] and names("刘_") == []
