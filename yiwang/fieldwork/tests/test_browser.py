"""The phone app in a real Chromium: offline capture, close and reopen, sync exactly once, resend.

Uses the session-wide `browser` fixture of yiwang/conftest.py. Screenshots of each screen go to
test-artifacts/fieldwork/.
"""

import os
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from yiwang.cases.models import Case
from yiwang.fieldwork.models import Patrol, SyncRecord, Visit
from yiwang.registry.models import ChangeRequest, HouseholdMember
from yiwang.registry.services import record_update

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "fieldwork"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reseed_reference_data")]


def _photo(tmp_path) -> str:
    path = tmp_path / "scene.png"
    Image.new("RGB", (1600, 1200), (90, 140, 60)).save(path)
    return str(path)


def _shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _outbox_count(page) -> int:
    return int(page.locator("#outbox-count").inner_text())


def test_offline_reports_and_visits_arrive_exactly_once(live_server, world, field, browser, tmp_path):
    worker = world.people.grid_worker
    grid = world.tree.grid_a1
    head = HouseholdMember.objects.get(household=field.households[0], relation="head").resident
    record_update(actor=world.people.staff, target=head, changes={"phone": "13800001234"})
    client = Client()
    client.force_login(worker)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", geolocation={"longitude": grid.centroid_lon,
                                                               "latitude": grid.centroid_lat},
                                  permissions=["geolocation"])
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/m/")
    page.wait_for_function("document.querySelectorAll('#f-visit select[name=household_id] option').length >= 4")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    _shot(page, "01-today")

    context.set_offline(True)
    page.wait_for_function("document.querySelector('#net').textContent === '离线'")
    page.click("[data-testid=tab-patrol]")
    page.click("[data-testid=patrol-toggle]")
    page.wait_for_function("document.querySelector('#patrol-state').textContent.includes('巡查中')")
    _shot(page, "02-patrol")
    for n in range(3):
        page.click("[data-testid=new-event]")
        page.select_option("[data-testid=event-category]", "200104")
        page.fill("[data-testid=event-description]", f"离线上报的问题 {n + 1}")
        if n == 0:
            page.set_input_files("[data-testid=event-photo]", _photo(tmp_path))
            _shot(page, "03-event-form")
        page.click("[data-testid=event-save]")
        page.wait_for_function(f"Number(document.querySelector('#outbox-count').textContent) === {n + 1}")
    page.click("[data-testid=patrol-toggle]")  # stop: the patrol joins the outbox
    for n, household in enumerate(field.households[:2]):
        page.click("[data-testid=tab-patrol]")
        page.click("[data-testid=new-visit]")
        page.select_option("[data-testid=visit-household]", str(household.pk))
        page.fill("[data-testid=visit-findings]", f"老人身体尚好 {n}")
        if n == 0:
            _shot(page, "04-visit-form")
            # A registry correction found on this visit: the head's phone and occupation.
            page.click("[data-testid=visit-correct]")
            page.select_option("[data-testid=correct-target]", f"resident:{head.pk}")
            assert page.get_attribute("[data-testid=correct-phone]", "placeholder").startswith("现为 138****")
            assert page.input_value("[data-testid=correct-phone]") == ""  # never the old number
            page.fill("[data-testid=correct-phone]", "13912345678")
            page.fill("[data-testid=correct-occupation]", "退休教师")
            page.fill("[data-testid=correct-reason]", "走访时户主告知")
            page.evaluate("window.scrollTo(0, 0)")
            _shot(page, "04b-correction-form")
            page.click("[data-testid=correct-save]")
            page.wait_for_selector("#f-visit:not([hidden])")
            assert page.input_value("[data-testid=visit-findings]") == "老人身体尚好 0"  # the visit is kept
        page.click("[data-testid=visit-save]")
    page.wait_for_function("Number(document.querySelector('#outbox-count').textContent) === 7")
    _shot(page, "05-records-offline")
    assert Case.objects.count() == 0 and Visit.objects.count() == 0

    # Close the app and open it again, still offline: the service worker serves it, the outbox is intact.
    page.close()
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/m/")
    page.wait_for_function("Number(document.querySelector('#outbox-count').textContent) === 7")
    page.click("[data-testid=tab-people]")
    page.fill("[data-testid=search]", "住户")
    _shot(page, "06-people-offline")
    page.click("[data-testid=tab-map]")
    page.wait_for_selector(".leaflet-interactive")
    _shot(page, "07-map-offline")

    context.set_offline(False)
    if os.environ.get("FW_DEBUG"):
        page.on("response", lambda r: print("RESP", r.status, r.url) if "/api/" in r.url or "/m/" in r.url else None)
        page.on("console", lambda m: print("CONSOLE", m.text))
    page.click("[data-testid=sync-now]")
    page.wait_for_function("Number(document.querySelector('#outbox-count').textContent) === 0", timeout=20000)
    _shot(page, "08-records-synced")
    assert Case.objects.count() == 3
    assert Visit.objects.count() == 2
    assert Patrol.objects.count() == 1
    assert Case.objects.filter(attachments__isnull=False).distinct().count() == 1
    assert set(Visit.objects.values_list("household_id", flat=True)) == {h.pk for h in field.households[:2]}
    assert Patrol.objects.get().track  # mocked GPS samples arrived
    request = ChangeRequest.objects.get()
    assert request.state == "pending" and request.target_id == head.pk and request.submitted_by == worker
    assert set(request.changes) == {"phone", "occupation"} and request.changes["occupation"]["new"] == "退休教师"

    # Resend everything: still exactly those.
    page.evaluate("window.yiwangApp.resendAll()")
    page.wait_for_function("Number(document.querySelector('#outbox-count').textContent) === 0")
    assert Case.objects.count() == 3 and Visit.objects.count() == 2 and Patrol.objects.count() == 1
    assert ChangeRequest.objects.count() == 1 and SyncRecord.objects.count() == 7
    page.click("[data-testid=tab-today]")
    _shot(page, "09-today-after-sync")
    context.close()


def test_first_load_stays_under_500_kb(live_server, world, field, browser, capsys):
    client = Client()
    client.force_login(world.people.grid_worker)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    sizes = []
    context.on("response", lambda r: sizes.append(len(r.body())) if r.request.method == "GET" else None)
    page = context.new_page()
    page.goto(f"{live_server.url}/m/")
    page.wait_for_function("document.querySelectorAll('#f-visit select[name=household_id] option').length >= 4")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(1000)  # let the service worker finish caching the shell
    # The service worker's own downloads (it precaches the shell, Leaflet included) are not page
    # responses; count them from the files it fetches.
    from django.contrib.staticfiles import finders

    from yiwang.fieldwork.views import SHELL_FILES

    precached = sum(Path(finders.find(name)).stat().st_size for name in SHELL_FILES)
    total = sum(sizes) + precached
    with capsys.disabled():
        print(f"\n[fieldwork] first load: page {sum(sizes) / 1024:.0f} KB in {len(sizes)} responses + "
              f"service-worker precache {precached / 1024:.0f} KB = {total / 1024:.0f} KB (uncompressed)")
    assert total < 500 * 1024, total
    context.close()


def test_english_is_shown_when_chosen_also_offline(live_server, world, field, browser):
    """With English chosen (the language switch's cookie), the template's labels and the strings
    app.js draws from the catalog are English, and stay English when the app reopens offline."""
    client = Client()
    client.force_login(world.people.grid_worker)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
                         {"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/m/")
    page.wait_for_function("document.querySelectorAll('#f-visit select[name=household_id] option').length >= 4")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert page.inner_text("#net") == "Online"
    assert page.inner_text("[data-testid=tab-patrol]") == "Patrol"
    assert "to check" in page.inner_text("#today-stats")  # drawn by app.js from the catalog
    _shot(page, "10-today-english")

    context.set_offline(True)
    page.close()
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{live_server.url}/m/")
    page.wait_for_function("document.querySelector('#net').textContent === 'Offline'")
    page.click("[data-testid=tab-patrol]")
    assert page.inner_text("#patrol-state").startswith("Not on patrol.")
    assert page.inner_text("[data-testid=patrol-toggle]") == "Start patrol"
    page.click("[data-testid=new-visit]")
    assert page.inner_text("#f-visit select[name=household_id] option") == "Choose a household"
    _shot(page, "11-visit-form-english-offline")
    context.close()
