"""The REST API: create with idempotency, actions with 409 on conflicts, filters, scoping."""

from yiwang.cases.models import Case

from .factories import BIN_LAT, BIN_LON


def create(api, **kw):
    body = {"channel": "app", "category": "200102", "lon": BIN_LON, "lat": BIN_LAT, "description": "垃圾桶满溢",
            "idempotency_key": "api-1"}
    body.update(kw)
    return api.post("/api/v1/cases/", body, format="json")


def test_create_is_idempotent(world, cats, api_for):
    api = api_for(world.people.grid_worker)
    first = create(api)
    assert first.status_code == 201, first.content
    again = create(api)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"] and again.json()["replayed"]
    assert Case.objects.count() == 1


def test_bad_input_gets_translated_field_errors(world, cats, api_for):
    api = api_for(world.people.grid_worker)
    response = create(api, category="", idempotency_key="")
    assert response.status_code == 400 and "category" in response.json()["error"]["fields"]
    response = create(api, lon=112.0, lat=38.0, idempotency_key="")
    assert response.status_code == 400 and "location" in response.json()["error"]["fields"]
    assert Case.objects.count() == 0


def test_act_with_stale_version_is_a_409(world, cats, api_for):
    case_id = create(api_for(world.people.grid_worker)).json()["id"]
    api = api_for(world.people.handler)
    version = api.get(f"/api/v1/cases/{case_id}/").json()["version"]
    ok = api.post(f"/api/v1/cases/{case_id}/act/", {"action": "sign_for", "version": version}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "in_progress"
    stale = api.post(f"/api/v1/cases/{case_id}/act/", {"action": "handle", "version": version, "comment": "x"},
                     format="json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    wrong = api.post(f"/api/v1/cases/{case_id}/act/", {"action": "close", "version": ok.json()["version"]},
                     format="json")
    assert wrong.status_code == 400
    steps = api.get(f"/api/v1/cases/{case_id}/steps/").json()
    assert [s["action"] for s in steps] == ["create", "accept", "dispatch", "sign_for"]


def test_list_filters_and_scope(world, cats, api_for):
    create(api_for(world.people.grid_worker))
    api = api_for(world.people.dispatcher_comm)
    assert len(api.get("/api/v1/cases/?state=dispatched").json()["results"]) == 1
    assert api.get("/api/v1/cases/?state=closed").json()["results"] == []
    assert api.get("/api/v1/cases/?overdue=true").json()["results"] == []
    assert api_for(world.people.outsider).get("/api/v1/cases/").json()["results"] == []


def test_categories_and_indicators(world, cats, api_for):
    create(api_for(world.people.grid_worker))
    api = api_for(world.people.dispatcher_comm)
    codes = [c["code"] for c in api.get("/api/v1/case-categories/").json()]
    assert "200102" in codes
    rows = api.get("/api/v1/case-indicators/").json()["rows"]
    assert rows[0]["counts"]["received"] == 1
    assert api_for(world.people.grid_worker).get("/api/v1/case-indicators/").status_code == 403
