"""The create form in a real Chromium, on a desktop and a phone screen. Screenshots go to
test-artifacts/registry/."""

import os
from pathlib import Path

import pytest
from django.test import Client

from yiwang.registry.models import Organisation

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "registry"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("screen,viewport", [("desktop", {"width": 1280, "height": 900}),
                                             ("phone", {"width": 390, "height": 844})])
def test_organisation_create_form_shows_errors_then_saves(live_server, world, browser, screen, viewport):
    client = Client()
    client.force_login(world.people.staff)
    context = browser.new_context(viewport=viewport, is_mobile=screen == "phone", locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/registry/organisations/")
    page.click("text=登记单位组织")
    page.select_option("#id_grid", str(world.tree.grid_a1.pk))
    page.select_option("#id_kind", "shop")
    page.fill("#id_credit_code", "91141102MA0XXXXX1A")
    page.click("form:has(#id_name) button[type=submit]")  # no name yet
    assert page.locator(".errorlist").first.is_visible()
    assert not Organisation.objects.exists()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"organisation-create-{screen}.png"), full_page=True)
    assert page.input_value("#id_credit_code") == "91141102MA0XXXXX1A"  # what was typed is kept
    page.fill("#id_name", "甲便利店")
    page.click("form:has(#id_name) button[type=submit]")
    page.wait_for_selector("h2:has-text('甲便利店')")
    assert Organisation.objects.get().area_path == world.tree.grid_a1.path
    context.close()
