import pytest
from django.test import override_settings


@pytest.mark.django_db
def test_healthz_reports_database_and_unconfigured_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["broker"].startswith("not configured")


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_fails_when_configured_broker_is_unreachable(client):
    from config.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = ""
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_heartbeat_task_is_reported_by_healthz(client):
    from yiwang.core.tasks import heartbeat

    stamp = heartbeat()  # the task body; .get() on a result is refused if a task context leaked
    assert client.get("/healthz").json()["periodic_last_run"] == stamp
