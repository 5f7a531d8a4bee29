"""Issue 4 "Done when", end to end over HTTP: report → dispatch → report back → verify → close → rate,
an overdue case escalating by itself, the indicators page, and an Open311 client."""

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

from django.test import Client
from django.urls import reverse

from yiwang.accounts.models import ApiToken
from yiwang.cases.models import Case
from yiwang.cases.services import case_deadline_sweep
from yiwang.notifications.models import Notification

from .factories import BIN_LAT, BIN_LON, jpeg


def test_done_when(world, cats, client_for):
    people = world.people
    # 1. A grid worker reports an overflowing bin with a photo from the phone page.
    worker = client_for(people.grid_worker)
    worker.post(reverse("cases:new"), {"channel": "grid_worker", "category": "200102", "lon": BIN_LON, "lat": BIN_LAT,
                                       "description": "小区门口垃圾桶满溢", "idempotency_key": "dw-1",
                                       "photos": jpeg()})
    case = Case.objects.get()
    # It lands in the right grid and category, dispatched to sanitation with a working-day deadline.
    assert case.grid == world.tree.grid_a1 and case.category.code == "200102"
    assert case.state == "dispatched" and case.department == people.department and case.due_at
    assert Notification.objects.filter(user=people.handler, kind="cases.dispatch").exists()

    # 2. The handler signs for it and reports back with a photo.
    handler = client_for(people.handler)
    handler.post(reverse("cases:act", args=[case.pk, "sign_for"]), {"version": case.version})
    case.refresh_from_db()
    handler.post(reverse("cases:act", args=[case.pk, "report_back"]),
                 {"version": case.version, "comment": "已清运完毕", "photos": jpeg()})
    case.refresh_from_db()
    assert case.state == "to_verify"

    # 3. The grid worker verifies on site with a photo; the dispatcher closes.
    worker = client_for(people.grid_worker)
    worker.post(reverse("cases:act", args=[case.pk, "verify_pass"]), {"version": case.version, "photos": jpeg()})
    case.refresh_from_db()
    dispatcher = client_for(people.dispatcher_comm)
    dispatcher.post(reverse("cases:act", args=[case.pk, "close"]), {"version": case.version})
    case.refresh_from_db()
    assert case.state == "closed"

    # 4. The resident rates it in one tap on the public page.
    public = Client()
    page = public.get(reverse("cases:track_detail", args=[case.tracking_code])).content.decode()
    assert "已清运完毕" in page
    public.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": "3"})
    case.refresh_from_db()
    assert case.rating == 3
    actions = list(case.steps.values_list("action", flat=True))
    assert actions == ["create", "accept", "dispatch", "sign_for", "report_back", "verify_pass", "close", "rate"]

    # 5. An overdue case escalates by itself.
    late = Client()
    late.force_login(people.grid_worker)
    late.post(reverse("cases:new"), {"channel": "grid_worker", "category": "200102", "lon": BIN_LON, "lat": BIN_LAT,
                                     "description": "又满了", "idempotency_key": "dw-2"})
    overdue = Case.objects.exclude(pk=case.pk).get()
    case_deadline_sweep(now=overdue.deadline + timedelta(minutes=1))
    overdue.refresh_from_db()
    assert overdue.level == 2 and overdue.supervision == "red" and overdue.overdue

    # 6. The indicators page shows the result.
    page = dispatcher.get(reverse("cases:indicators")).content.decode()
    table = page[page.index('id="indicator-table"'):]
    assert "100.0%" in table  # closure, on-time, satisfaction, resolution of the closed case

    # 7. A third-party Open311 client lists services, reads a definition, posts and reads back.
    key = ApiToken.new_key()
    ApiToken.objects.create(user=people.staff, name="311", prefix=key[:8], digest=ApiToken.digest_of(key))
    client = Client()
    assert any(s["service_code"] == "900101" for s in client.get("/open311/v2/services.json").json())
    assert client.get("/open311/v2/services/900101.json").json()["attributes"]
    posted = client.post("/open311/v2/requests.json", {"api_key": key, "service_code": "900101", "lat": BIN_LAT,
                                                       "long": BIN_LON, "description": "夜间噪音",
                                                       "attribute[request_type]": "complaint"}).json()
    request_id = posted[0]["service_request_id"]
    assert re.fullmatch(r"[A-Z0-9]{12}", request_id)
    assert client.get(f"/open311/v2/requests/{request_id}.json").json()[0]["service_request_id"] == request_id
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert xml.find("request/service_request_id").text == request_id
