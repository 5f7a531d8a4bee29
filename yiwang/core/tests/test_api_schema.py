import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


@pytest.mark.django_db
def test_openapi_schema_validates_and_is_served(client):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert "/api/v1/areas/" in schema["paths"]
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200


@pytest.mark.django_db
def test_api_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


@pytest.mark.django_db
def test_api_errors_share_one_body_in_the_callers_language(api_for, world):
    api = api_for(world.people.staff)
    missing = api.get("/api/v1/areas/999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert missing.status_code == 404
    assert set(missing.json()["error"]) >= {"status", "code", "message"}
    bad = api_for(world.people.admin).patch(f"/api/v1/areas/{world.tree.grid_a1.pk}/", {"households_estimate": -1},
                                            format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 400
    body = bad.json()["error"]
    assert body["code"] == "invalid" and "households_estimate" in body["fields"]
    assert body["message"] == "提交的数据无效。"
    anonymous = api_for(None).get("/api/v1/areas/", HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["error"]["message"]
