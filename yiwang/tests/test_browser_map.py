"""Chromium signs in through the real login form and finds the grid polygons drawn on the map."""

import pytest
from django.test import override_settings

from yiwang.demo.generate import DEMO_PASSWORD
from yiwang.demo.loader import demo_load
from yiwang.geography.models import Area, AreaLevel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_district(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_load(scale=0.3, progress=lambda *_: None)


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/geo/map/")
    page.wait_for_selector("#map[data-loaded='1']", timeout=15000)


@override_settings(YIWANG_REQUIRE_2FA=False)
def test_district_administrator_sees_every_grid_drawn(browser, live_server, demo_district, screenshot_dir):
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    sign_in(page, live_server, "qu_admin")
    grids = Area.objects.filter(level=AreaLevel.GRID).count()
    assert page.locator("path.yw-grid").count() == grids
    assert page.locator("path.yw-community").count() == 27
    assert page.locator("[data-testid=grid-count] b").inner_text() == str(grids)
    assert "地图" in page.content()
    page.locator("path.yw-grid").first.click(force=True)
    page.wait_for_selector("[data-testid=area-panel]")
    assert "网格员" in page.locator("[data-testid=area-panel]").inner_text()
    page.screenshot(path=str(screenshot_dir / "map-district-admin.png"))
    page.close()


@override_settings(YIWANG_REQUIRE_2FA=False)
def test_community_staff_see_only_their_community_on_a_phone(browser, live_server, demo_district, screenshot_dir):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    sign_in(page, live_server, "sq01_02")
    community = Area.objects.get(level=AreaLevel.COMMUNITY, name="丽景街社区")
    assert page.locator("path.yw-grid").count() == community.children.count()
    assert page.locator("path.yw-community").count() == 1
    page.screenshot(path=str(screenshot_dir / "map-community-staff-phone.png"), full_page=True)
    page.close()
