"""Pages: intake, queue, actions with conflicts, bulk actions, verification, public report and tracking."""

import re

import pytest
from django.urls import reverse

from yiwang.cases.models import Case, PhoneVerification
from yiwang.cases.personal import phone_lookup_hash
from yiwang.cases.services import case_create
from yiwang.cases.workflow import State
from yiwang.core import pii
from yiwang.notifications.models import Notification

from .factories import BIN_LAT, BIN_LON, jpeg


def make_case(world, cats, **kw):
    args = dict(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON, lat=BIN_LAT,
                description="垃圾桶满溢")
    args.update(kw)
    return case_create(**args)


def test_grid_worker_reports_with_photo_through_the_page(world, cats, client_for):
    client = client_for(world.people.grid_worker)
    page = client.get(reverse("cases:new"))
    assert page.status_code == 200 and 'name="idempotency_key"' in page.content.decode()
    data = {"channel": "grid_worker", "category": "200102", "description": "垃圾桶满溢", "lon": BIN_LON,
            "lat": BIN_LAT, "idempotency_key": "page-1", "photos": jpeg()}
    response = client.post(reverse("cases:new"), data)
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    data["photos"] = jpeg()
    client.post(reverse("cases:new"), data)  # double submit
    assert Case.objects.count() == 1 and case.attachments.count() == 1


def test_intake_page_keeps_input_and_explains_a_location_outside_the_district(world, cats, client_for):
    client = client_for(world.people.staff)
    response = client.post(reverse("cases:new"), {"channel": "counter", "category": "200102",
                                                  "description": "我的描述", "lon": 112.0, "lat": 38.0})
    assert response.status_code == 200
    body = response.content.decode()
    assert "我的描述" in body and "112.00000" in body
    assert Case.objects.count() == 0


def test_queue_filters_and_outsider_sees_nothing(world, cats, client_for):
    case = make_case(world, cats)
    client = client_for(world.people.dispatcher_comm)
    assert case.tracking_code in client.get(reverse("cases:queue") + "?state=dispatched").content.decode()
    assert case.tracking_code not in client.get(reverse("cases:queue") + "?state=closed").content.decode()
    assert case.tracking_code not in client.get(reverse("cases:queue") + "?category=9001").content.decode()
    assert case.tracking_code in client.get(reverse("cases:queue") + "?category=2001").content.decode()
    assert case.tracking_code in client.get(reverse("cases:queue") + "?channel=grid_worker").content.decode()
    outsider = client_for(world.people.outsider)
    assert case.tracking_code not in outsider.get(reverse("cases:queue")).content.decode()


def test_queue_pages_by_keyset(world, cats, client_for, monkeypatch):
    from yiwang.cases import views
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    cases = [make_case(world, cats, description=f"第{i}起") for i in range(3)]
    client = client_for(world.people.dispatcher_comm)
    first = client.get(reverse("cases:queue")).content.decode()
    assert cases[2].tracking_code in first and cases[0].tracking_code not in first
    more = re.search(r'href="\?([^"]*before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    second = client.get(reverse("cases:queue") + "?" + more).content.decode()
    assert cases[0].tracking_code in second and cases[2].tracking_code not in second


def test_action_buttons_and_stale_version_message(world, cats, client_for):
    case = make_case(world, cats)
    handler = client_for(world.people.handler)
    page = handler.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:act", args=[case.pk, "sign_for"]) in page
    assert reverse("cases:act", args=[case.pk, "close"]) not in page
    handler.post(reverse("cases:act", args=[case.pk, "sign_for"]), {"version": case.version})
    response = handler.post(reverse("cases:act", args=[case.pk, "return"]),
                            {"version": case.version, "reason_code": "not_ours", "comment": "不归我们"}, follow=True)
    assert "刚刚" in response.content.decode() or "Someone else" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_bulk_supervise_marks_selected_visible_cases_only(world, cats, client_for):
    mine = make_case(world, cats)
    client = client_for(world.people.dispatcher_comm)
    client.post(reverse("cases:bulk_act"), {"ids": [mine.pk], "action": "supervise", "mark": "red"})
    mine.refresh_from_db()
    assert mine.supervision == "red"
    outsider = client_for(world.people.outsider)
    other = make_case(world, cats)
    outsider.post(reverse("cases:bulk_act"), {"ids": [other.pk], "action": "supervise", "mark": "yellow"})
    other.refresh_from_db()
    assert other.supervision == ""


def test_verify_screen_on_a_phone_posts_pass_with_photo(world, cats, client_for):
    from yiwang.cases.services import case_act
    case = make_case(world, cats)
    case = case_act(actor=world.people.handler, case=case, action="sign_for", expected_version=case.version)
    case = case_act(actor=world.people.handler, case=case, action="report_back", expected_version=case.version,
                    comment="已清运", photos=[jpeg()])
    client = client_for(world.people.grid_worker)
    page = client.get(reverse("cases:verify", args=[case.pk])).content.decode()
    assert "已清运" in page and reverse("cases:act", args=[case.pk, "verify_pass"]) in page
    client.post(reverse("cases:act", args=[case.pk, "verify_pass"]), {"version": case.version, "photos": jpeg()})
    case.refresh_from_db()
    assert case.state == State.VERIFIED


def test_public_report_with_phone_code_then_track_and_no_personal_data(cats, client, sms):
    code = sms.code_for("13912345678", lambda: client.post(reverse("cases:public_send_code"), {"phone": "13912345678"}))
    stored = Notification.objects.get(phone_hash=phone_lookup_hash("13912345678"), kind="cases.phone_code")
    assert code not in stored.title
    bad = client.post(reverse("cases:public_new"), {"category": "900101", "description": "夜间噪音", "lon": BIN_LON,
                                                    "lat": BIN_LAT, "phone": "13912345678", "code": "000000",
                                                    "name": "王五", "idempotency_key": "p1"})
    assert bad.status_code == 200 and Case.objects.count() == 0
    assert "夜间噪音" in bad.content.decode()
    response = client.post(reverse("cases:public_new"), {"category": "900101", "description": "夜间噪音",
                                                         "lon": BIN_LON, "lat": BIN_LAT, "phone": "13912345678",
                                                         "code": code, "name": "王五", "idempotency_key": "p1"})
    case = Case.objects.get()
    assert response["Location"] == reverse("cases:track_detail", args=[case.tracking_code])
    assert case.state == State.REPORTED and pii.decrypt(case.reporter_phone_cipher) == "13912345678"
    page = client.get(response["Location"]).content.decode()
    assert "生活噪声扰民" in page and "13912345678" not in page and "王五" not in page and "139****5678" not in page
    assert PhoneVerification.objects.get().used_at is not None


def test_forged_tracking_code_gets_a_clear_message(client):
    response = client.get(reverse("cases:track_detail", args=["ABCDEFGHJK22"]))
    assert response.status_code == 404
    assert "tracking code" in response.content.decode() or "查询码" in response.content.decode()


@pytest.mark.parametrize("choice,state,review", [("3", State.CLOSED, False), ("1", State.CLOSED, True),
                                                 ("unsolved", State.DISPATCHED, True)])
def test_one_tap_rating(world, cats, client, choice, state, review):
    case = make_case(world, cats, resolve_on_spot=True, comment="清理完毕")
    client.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": choice})
    case.refresh_from_db()
    assert case.state == state and case.review_needed is review
