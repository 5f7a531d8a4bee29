"""Open311 GeoReport v2 as a third-party client sees it."""

from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from yiwang.accounts.models import ApiToken
from yiwang.cases.models import Case

from .factories import BIN_LAT, BIN_LON


@pytest.fixture
def api_key(world):
    key = ApiToken.new_key()
    ApiToken.objects.create(user=world.people.staff, name="311 client", prefix=key[:8], digest=ApiToken.digest_of(key))
    return key


def post(client, fmt="json", **data):
    return client.post(f"/open311/v2/requests.{fmt}", data)


def test_discovery_lists_the_endpoint_in_both_formats(cats):
    client = Client()
    data = client.get("/open311/v2/discovery.json").json()
    assert data["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    root = ET.fromstring(client.get("/open311/v2/discovery.xml").content)
    assert root.tag == "discovery" and root.find("endpoints/endpoint/formats/format") is not None


def test_services_are_a_bare_json_array_and_xml_services(cats):
    client = Client()
    response = client.get("/open311/v2/services.json")
    assert response["Content-Type"].startswith("application/json")
    services = response.json()
    assert isinstance(services, list)
    noise = next(s for s in services if s["service_code"] == "900101")
    assert noise["metadata"] is True and noise["type"] == "realtime"
    root = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert root.tag == "services" and root.find("service/service_code").text


def test_service_definition_with_attributes(cats):
    data = Client().get("/open311/v2/services/900101.json").json()
    assert data["service_code"] == "900101"
    attr = data["attributes"][0]
    assert attr["code"] == "request_type" and attr["datatype"] == "singlevaluelist" and attr["values"][0]["key"]
    root = ET.fromstring(Client().get("/open311/v2/services/900101.xml").content)
    assert root.tag == "service_definition" and root.find("attributes/attribute/values/value/key") is not None


def test_unknown_service_is_a_spec_404(cats):
    response = Client().get("/open311/v2/services/nope.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404
    root = ET.fromstring(Client().get("/open311/v2/services/nope.xml").content)
    assert root.tag == "errors" and root.find("error/code").text == "404"


def test_post_requires_a_valid_api_key(cats):
    response = post(Client(), service_code="200102", lat=BIN_LAT, long=BIN_LON, description="垃圾")
    assert response.status_code == 403 and response.json()[0]["code"] == 403
    response = post(Client(), api_key="forged", service_code="200102", lat=BIN_LAT, long=BIN_LON)
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_post_then_read_back_in_json_and_xml(cats, api_key):
    client = Client()
    response = post(client, api_key=api_key, service_code="900101", lat=BIN_LAT, long=BIN_LON,
                    description="楼下广场舞噪音", first_name="三", last_name="张", phone="13800000009",
                    **{"attribute[request_type]": "complaint"})
    assert response.status_code == 200, response.content
    request_id = response.json()[0]["service_request_id"]
    case = Case.objects.get(tracking_code=request_id)
    assert case.channel == "open311" and case.grid.path.endswith("001")
    detail = client.get(f"/open311/v2/requests/{request_id}.json").json()
    assert len(detail) == 1 and detail[0]["status"] == "open" and detail[0]["service_code"] == "900101"
    assert "13800000009" not in str(detail) and "张" not in str(detail)
    root = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text == request_id
    listed = client.get("/open311/v2/requests.json?status=open&service_code=900101").json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get("/open311/v2/requests.json?status=closed").json() == []
    token = client.get(f"/open311/v2/tokens/{request_id}.json").json()
    assert token[0]["service_request_id"] == request_id


def test_malformed_posts_get_spec_errors(cats, api_key):
    client = Client()
    assert post(client, api_key=api_key, lat=BIN_LAT, long=BIN_LON).status_code == 400
    assert post(client, api_key=api_key, service_code="nope", lat=BIN_LAT, long=BIN_LON).status_code == 404
    response = post(client, api_key=api_key, service_code="900101", lat=BIN_LAT, long=BIN_LON, description="x")
    assert response.status_code == 400 and "request_type" in response.json()[0]["description"]
    response = post(client, api_key=api_key, service_code="200102", lat="abc", long=BIN_LON)
    assert response.status_code == 400
    response = post(client, api_key=api_key, service_code="200102", lat=38.0, long=112.0, description="x")
    assert response.status_code == 400 and response.json()[0]["description"]
    root = ET.fromstring(post(client, fmt="xml", api_key=api_key, service_code="200102").content)
    assert root.tag == "errors"
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests.json?status=pending").status_code == 400
    assert client.get("/open311/v2/services.json?jurisdiction_id=other.gov").status_code == 404
    assert client.get("/open311/v2/services.json?jurisdiction_id=lishi.gov.cn").status_code == 200
    assert Case.objects.count() == 0


def test_replayed_post_with_idempotency_key_creates_one_request(cats, api_key):
    client = Client()
    first = client.post("/open311/v2/requests.json", {"api_key": api_key, "service_code": "200104", "lat": BIN_LAT,
                                                      "long": BIN_LON, "description": "油污"},
                        HTTP_IDEMPOTENCY_KEY="k-1").json()
    again = client.post("/open311/v2/requests.json", {"api_key": api_key, "service_code": "200104", "lat": BIN_LAT,
                                                      "long": BIN_LON, "description": "油污"},
                        HTTP_IDEMPOTENCY_KEY="k-1").json()
    assert first == again and Case.objects.count() == 1


def test_service_request_updates_extension(world, cats, api_key):
    client = Client()
    request_id = post(client, api_key=api_key, service_code="200104", lat=BIN_LAT, long=BIN_LON,
                      description="路面油污").json()[0]["service_request_id"]
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    assert any(u["service_request_id"] == request_id for u in updates)
    # A dispatcher's back office posts an update; replaying the same update_id adds nothing.
    key = ApiToken.new_key()
    ApiToken.objects.create(user=world.people.dispatcher_comm, name="bo", prefix=key[:8], digest=ApiToken.digest_of(key))
    body = {"api_key": key, "service_request_id": request_id, "update_id": "u-1",
            "updated_datetime": "2026-11-28T10:00:00+08:00", "status": "IN_PROGRESS", "description": "已安排清洗"}
    assert client.post("/open311/v2/servicerequestupdates.json", body).json() == [{"update_id": "u-1"}]
    assert client.post("/open311/v2/servicerequestupdates.json", body).status_code == 200
    assert Case.objects.get(tracking_code=request_id).steps.filter(external_id="u-1").count() == 1
    assert client.post("/open311/v2/servicerequestupdates.json", {"api_key": key}).status_code == 400


def _step(case, action, comment, *, public=True, minutes=1, photo=False):
    import datetime as dt

    from yiwang.cases.models import Attachment, CaseStep

    step = CaseStep.objects.create(case=case, action=action, from_state=case.state, to_state=case.state,
                                   actor_label="t", level=case.level, area_path=case.area_path, public=public,
                                   at=case.created_at + dt.timedelta(minutes=minutes), comment=comment)
    if photo:
        return Attachment.objects.create(case=case, step=step, file="cases/p.jpg", public_file="cases/pp.jpg",
                                         size=1, width=1, height=1, sha256="0" * 64, created_at=step.at)
    return step


def test_listed_requests_carry_their_latest_public_note_and_photo_in_a_fixed_number_of_queries(world, cats):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from yiwang.cases.services import case_create

    def report(n):
        return case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage,
                           lon=BIN_LON, lat=BIN_LAT, description=f"垃圾桶满溢{n}")

    noted = report(1)
    photo = _step(noted, "report_back", "已清运", minutes=5, photo=True)
    _step(noted, "supervise", "内部督办", minutes=9, public=False)  # not public: not the status note
    plain = report(2)
    client = Client()

    def listed():
        with CaptureQueriesContext(connection) as captured:
            rows = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json()}
        return rows, len(captured.captured_queries)

    rows, queries = listed()
    assert rows[noted.tracking_code]["status_notes"] == "已清运"
    assert rows[noted.tracking_code]["media_url"] == "http://testserver" + reverse(
        "cases:public_photo", args=[noted.tracking_code, photo.pk])
    automatic = plain.steps.filter(public=True).exclude(action="create").order_by("-at", "-id").first()
    assert rows[plain.tracking_code]["status_notes"] == (automatic.comment if automatic else "")
    assert rows[plain.tracking_code]["media_url"] == ""
    detail = client.get(f"/open311/v2/requests/{noted.tracking_code}.json").json()
    assert detail == [rows[noted.tracking_code]]
    for n in range(3, 7):
        _step(report(n), "report_back", f"已处理{n}", minutes=5, photo=True)
    rows, more_queries = listed()
    assert len(rows) == 6 and more_queries == queries  # not two more per listed request
