"""Monthly PDF reports: Chinese text, built once however often requested, scoped."""

import datetime as dt
import threading

import pytest

from yiwang.dashboards.models import MonthlyReport, ReportStatus
from yiwang.dashboards.reports import build_monthly_pdf, monthly_report_request

from .factories import T0, full_loop


def test_monthly_pdf_has_chinese_text_and_is_a_pdf(world, cats, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        full_loop(world, cats, at=T0)
    pdf = build_monthly_pdf(world.tree.sub1, dt.date(2026, 9, 1))
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf and len(pdf) > 3000


def test_report_requested_twice_is_built_once(world, django_capture_on_commit_callbacks, monkeypatch):
    from yiwang.dashboards import reports

    builds = []
    real = reports.build_monthly_pdf
    monkeypatch.setattr(reports, "build_monthly_pdf", lambda *a, **k: builds.append(a) or real(*a, **k))
    with django_capture_on_commit_callbacks(execute=True):
        first, created1 = monthly_report_request(actor=world.people.admin, area=world.tree.comm_a,
                                                 month=dt.date(2026, 9, 1))
    with django_capture_on_commit_callbacks(execute=True):
        second, created2 = monthly_report_request(actor=world.people.staff, area=world.tree.comm_a,
                                                  month=dt.date(2026, 9, 15))
    assert created1 and not created2 and first.pk == second.pk
    assert len(builds) == 1 and second.status == ReportStatus.DONE and second.progress == 100
    reports.monthly_report_run(first.pk)  # a duplicate task finds it claimed and does nothing
    assert len(builds) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_create_one_report(world):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database cannot be shared by threads; runs on PostgreSQL")
    results, errors = [], []

    def ask(user):
        try:
            results.append(monthly_report_request(actor=user, area=world.tree.comm_a, month=dt.date(2026, 8, 1)))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(u,)) for u in (world.people.admin, world.people.staff)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert MonthlyReport.objects.filter(area=world.tree.comm_a).count() == 1
    assert sum(1 for _r, created in results if created) == 1


def test_report_pages_and_api(world, client_for, api_for):
    client = client_for(world.people.staff)
    response = client.post(f"/dashboards/area/{world.tree.comm_a.path}/report/", {"month": "2026-09"})
    report = MonthlyReport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/dashboards/reports/{report.pk}/")
    # On commit the task ran eagerly (no broker in tests): the test client commits per request? Not with
    # a transaction-wrapped test, so run it as the worker would.
    from yiwang.dashboards.reports import monthly_report_run

    monthly_report_run(report.pk)
    status = api_for(world.people.staff).get(f"/api/v1/dashboards/reports/{report.pk}/").json()
    assert status["status"] == "done" and status["download"]
    pdf = client.get(status["download"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert client_for(world.people.outsider).get(status["download"]).status_code == 404
    bad = client_for(world.people.staff).post(f"/dashboards/area/{world.tree.comm_a.path}/report/", {"month": "2099-01"})
    assert bad.status_code == 302 and MonthlyReport.objects.count() == 1
    api = api_for(world.people.outsider).post("/api/v1/dashboards/reports/", {"area": world.tree.comm_a.path,
                                                                             "month": "2026-09"})
    assert api.status_code == 404
