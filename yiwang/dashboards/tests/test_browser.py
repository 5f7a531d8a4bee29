"""The dashboards in a real Chromium: each level, drill-down, and the 1920x1080 big screen.

Screenshots go to test-artifacts/dashboards/.
"""

import os
from datetime import timedelta

import pytest
from django.test import Client

from yiwang.cases.workflow import Action

from .factories import GRID_A2, GRID_C1, act, full_loop, report

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _cases(world, cats):
    """Cases in the current month so the default (last 30 days) period shows them."""
    from django.utils import timezone

    p = world.people
    now = timezone.now().replace(microsecond=0)
    base = now - timedelta(days=10)
    for i in range(6):
        full_loop(world, cats, at=base + timedelta(days=i, hours=i), rating=(3, 2, 1)[i % 3], late=i == 4)
    full_loop(world, cats, at=base + timedelta(days=2), where=GRID_C1, reporter=p.admin,
              verifier=p.dispatcher_district)
    for i in range(3):
        c = report(world, cats, at=now - timedelta(days=i, hours=1), where=GRID_A2, actor=p.staff)
        if i == 0:
            act(c, p.admin, Action.SUPERVISE, now - timedelta(minutes=30), mark="red")
    report(world, cats, at=now - timedelta(hours=2), category=cats.noise)
    from yiwang.cases.services import case_deadline_sweep

    case_deadline_sweep(now=now + timedelta(days=2))  # the open garbage cases are overdue by then



def _page(browser, live_server, user, viewport):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def _wait_loaded(page):
    page.wait_for_selector("#dash[data-loaded]", timeout=20000)
    page.wait_for_timeout(600)  # let ECharts finish its animation
    assert page.locator("#dash").get_attribute("data-loaded") == "1"


def test_each_level_and_drill_down(live_server, world, cats, browser, screenshot_dir):
    from yiwang.dashboards.rollups import rollup_rebuild, step_day_range

    _cases(world, cats)
    rollup_rebuild(*step_day_range())
    out = screenshot_dir / "dashboards"
    out.mkdir(exist_ok=True)
    errors = []
    context, page = _page(browser, live_server, world.people.admin, {"width": 1600, "height": 1000})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/dashboards/")
    _wait_loaded(page)
    assert page.locator("[data-testid=area-name]").inner_text() == world.tree.district.name
    assert page.locator("#tiles [data-key=intake] b").inner_text() == "11"
    assert page.locator("#tiles [data-key=overdue_now] b").inner_text() != "0"
    page.screenshot(path=str(out / "district.png"), full_page=True)
    # Drill down through the ranking table: district -> subdistrict -> community -> grid.
    for name, shot in ((world.tree.sub1.name, "subdistrict"), (world.tree.comm_a.name, "community"),
                       (world.tree.grid_a1.name, "grid")):
        page.locator("#rank-areas a", has_text=name).first.click()
        page.wait_for_load_state()
        _wait_loaded(page)
        assert page.locator("[data-testid=area-name]").inner_text() == name
        page.screenshot(path=str(out / f"{shot}.png"), full_page=True)
    assert page.locator("#tiles [data-key=intake] b").inner_text() == "7"  # 6 loops + 1 noise report
    assert not errors, errors
    context.close()


def test_big_screen_fits_1920x1080_and_refreshes(live_server, world, cats, browser, screenshot_dir):
    from yiwang.dashboards.rollups import rollup_rebuild, step_day_range

    _cases(world, cats)
    rollup_rebuild(*step_day_range())
    out = screenshot_dir / "dashboards"
    out.mkdir(exist_ok=True)
    context, page = _page(browser, live_server, world.people.dispatcher_district, {"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/dashboards/bigscreen/?refresh=10")
    _wait_loaded(page)
    sizes = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert sizes[0] <= 1920 and sizes[1] <= 1080, sizes
    first = page.locator("#updated").inner_text()
    page.screenshot(path=str(out / "bigscreen.png"))
    page.wait_for_function(f"document.getElementById('updated').textContent !== {first!r}", timeout=15000)
    context.close()
