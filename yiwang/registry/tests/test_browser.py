"""The create form in a real Chromium, on a desktop and a phone screen. Screenshots go to
test-artifacts/registry/."""

import os
from pathlib import Path

import pytest
from django.test import Client

from yiwang.registry.models import Organisation

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "registry"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reseed_reference_data")]


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


def _registry_pages(world) -> dict:
    """A household of three in a dwelling with a rental: the pages a community worker opens most."""
    import datetime as dt

    from yiwang.geography.tests.factories import BuildingFactory
    from yiwang.registry import services
    from yiwang.registry.models import HouseholdMember
    from yiwang.registry.tests.factories import make_dwelling, make_household, make_resident

    grid = world.tree.grid_a1
    dwelling = make_dwelling(BuildingFactory(grid=grid, name="幸福小区3号楼"), unit=2, room="501")
    head = make_resident(grid, "张建国", dwelling=dwelling, phone="13812345678", occupation="退休教师",
                         address="幸福小区3号楼2单元501室")
    spouse = make_resident(grid, "李秀英", dwelling=dwelling, gender="F")
    household = make_household(grid, head, number="XF-0301")
    HouseholdMember.objects.create(household=household, resident=spouse, relation="spouse")
    services.record_update(actor=world.people.staff, target=household, changes={"dwelling": dwelling.pk})
    rental = services.rental_create(actor=world.people.staff, dwelling=dwelling, landlord_name="王房东",
                                    start_date=dt.date(2026, 3, 1), monthly_rent="1500", tenants=[spouse],
                                    registration_no="LS-2026-0088")
    services.record_update(actor=world.people.staff, target=rental, changes={"monthly_rent": "1600"})
    return {"resident": f"/registry/residents/{head.pk}/", "resident-edit": f"/registry/residents/{head.pk}/edit/",
            "household": f"/registry/households/{household.pk}/", "dwelling": f"/registry/dwellings/{dwelling.pk}/",
            "rental-edit": f"/registry/rentals/{rental.pk}/edit/"}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("screen,viewport", [("desktop", {"width": 1280, "height": 900}),
                                             ("phone", {"width": 390, "height": 844})])
def test_registry_pages_fit_the_screen_and_speak_the_language(live_server, world, browser, screen, viewport,
                                                               language):
    """Resident, household, dwelling and rental pages: nothing wider than a phone's screen, no
    untranslated English on the Chinese pages (nor Chinese labels on the English ones)."""
    import re

    pages = _registry_pages(world)
    client = Client()
    client.force_login(world.people.staff)
    context = browser.new_context(viewport=viewport, is_mobile=screen == "phone", locale=language)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
                         {"name": "django_language", "value": "en" if language == "en" else "zh-hans",
                          "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in pages.items():
        page.goto(live_server.url + path)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{screen}-{language}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} is {overflow}px wider than the {screen} screen"
        # Headings and choice labels hold names and addresses (data); the rest are the UI's words.
        labels = page.eval_on_selector_all("main th, main label:not(:has(input)), main summary, main h3, main button",
                                           "els => els.map(e => e.innerText.trim()).filter(Boolean)")
        if language == "zh-CN":
            english = [t for t in labels if re.fullmatch(r"[A-Za-z][A-Za-z ()/'’-]*:?", t)]
            assert not english, f"{name}: untranslated {english}"
        else:
            chinese = [t for t in labels if re.search(r"[\u4e00-\u9fff]", t)]
            assert not chinese, f"{name}: Chinese labels on the English page {chinese}"
    context.close()
