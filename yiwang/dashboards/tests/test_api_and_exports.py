"""Bad input, scope and exports."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from yiwang.audit.models import AuditEvent
from yiwang.dashboards import selectors as S

from .factories import T0, report


def test_area_outside_scope_is_404_and_no_figures_leak(world, api_for):
    outsider = api_for(world.people.outsider)
    for url in ("indicators", "trend", "categories", "rankings", "map", "cases", "population"):
        response = outsider.get(f"/api/v1/dashboards/{url}/?area={world.tree.comm_a.path}")
        assert response.status_code == 404, url
        assert "error" in response.json()
    own = outsider.get(f"/api/v1/dashboards/indicators/?area={world.tree.comm_b.path}")
    assert own.status_code == 200
    # The district is above the outsider's community: also 404.
    assert outsider.get(f"/api/v1/dashboards/indicators/?area={world.tree.district.path}").status_code == 404


def test_ten_year_period_is_refused_with_a_clear_message(world, api_for):
    response = api_for(world.people.admin).get("/api/v1/dashboards/indicators/?start=2016-01-01&end=2026-01-01",
                                               HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    message = " ".join(response.json()["error"]["fields"]["period"])
    assert "366" in message and "3654" in message
    bad = api_for(world.people.admin).get("/api/v1/dashboards/trend/?start=yesterday")
    assert bad.status_code == 400 and "period" in bad.json()["error"]["fields"]


def test_period_with_no_data_answers_zeros_and_says_so(world, api_for):
    response = api_for(world.people.admin).get("/api/v1/dashboards/indicators/?month=2020-02")
    body = response.json()
    assert response.status_code == 200 and body["empty"] is True
    assert body["counts"]["intake"] == 0 and body["rates"]["response_rate"] is None
    trend = api_for(world.people.admin).get("/api/v1/dashboards/trend/?month=2020-02").json()
    assert len(trend["days"]) == 29 and trend["empty"]


def test_dashboard_page_shows_period_error(world, client_for):
    page = client_for(world.people.admin).get(f"/dashboards/area/{world.tree.district.path}/?start=2010-01-01")
    assert page.status_code == 200 and "period-error" in page.content.decode()


def test_default_dashboard_is_the_viewers_highest_area(world):
    assert S.dashboard_area(world.people.dispatcher_sub).pk == world.tree.sub1.pk
    assert S.dashboard_area(world.people.staff).pk == world.tree.comm_a.pk


def test_overdue_export_is_scoped_watermarked_formula_safe_and_audited(world, cats, client_for,
                                                                       django_capture_on_commit_callbacks):
    from yiwang.cases.models import Case

    with django_capture_on_commit_callbacks(execute=True):
        mine = report(world, cats, at=T0)
        theirs = report(world, cats, at=T0, actor=world.people.admin, where=(111.125, 37.505))  # community B
    Case.objects.filter(pk__in=[mine.pk, theirs.pk]).update(overdue=True, address="=HYPERLINK(\"http://x\")")
    response = client_for(world.people.staff).get(f"/dashboards/area/{world.tree.comm_a.path}/export/overdue.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert world.people.staff.username in values[1][0]
    codes = [row[0] for row in values[3:]]
    assert codes == [mine.tracking_code]  # community B's case is not exported to community A's staff
    assert values[3][8].startswith("'=")
    assert world.people.staff.username in ws.oddHeader.center.text
    event = AuditEvent.objects.get(action="dashboards.export")
    assert event.changes["rows"] == 1 and event.area_path == world.tree.comm_a.path
    outsider = client_for(world.people.outsider).get(f"/dashboards/area/{world.tree.comm_a.path}/export/overdue.xlsx")
    assert outsider.status_code == 404


@pytest.mark.parametrize("which", ["areas", "departments", "workers", "supervised"])
def test_every_list_exports(world, client_for, which):
    response = client_for(world.people.admin).get(f"/dashboards/area/{world.tree.district.path}/export/{which}.xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).active.max_row >= 3


def test_period_label():
    assert S.Period(dt.date(2026, 9, 1), dt.date(2026, 9, 30)).days == 30
