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
    """Search joins the grid (no query per hit) and loads only displayed columns: a fixed number of
    queries however many people match: one per search stage (initials, then full pinyin; special-group
    name, then name prefix, then address prefix; phone hash), none per hit."""
    grids = [world.tree.grid_a1, world.tree.grid_a2]
    for i in range(6):
        make_resident(grids[i % 2], "刘洋", phone="13812345678")
    api = api_for(world.people.staff)
    url = reverse("api:resident-search")
    api.get(url, {"q": query})  # warm per-process caches (content types, grid lookup)
    expected = {"ly": 2, "刘洋": 3, "13812345678": 1}[query]
    with django_assert_num_queries(expected):
        body = api.get(url, {"q": query}).json()
    assert len(body) == 6
    assert {x["grid_code"] for x in body} == {world.tree.grid_a1.code, world.tree.grid_a2.code}
    assert all(x["phone_masked"] == "138****5678" for x in body)


def test_api_list_search_query_count(world, api_for, django_assert_num_queries):
    """?q= on the list: search ids (one query per stage, keys only), COUNT over those ids, one page."""
    for _i in range(6):
        make_resident(world.tree.grid_a1, "刘洋")
    make_resident(world.tree.grid_b1, "刘洋")
    api = api_for(world.people.staff)
    api.get(reverse("api:resident-list"), {"q": "刘洋"})
    with django_assert_num_queries(5):
        body = api.get(reverse("api:resident-list"), {"q": "刘洋"}).json()
    assert body["count"] == 6 and all(x["grid_code"] == world.tree.grid_a1.code for x in body["results"])
