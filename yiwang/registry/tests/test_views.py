"""The issue's "done when" walk-through, through the pages."""

import pytest
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.core import pii
from yiwang.registry.models import ChangeRequest, Resident, SpecialGroup
from yiwang.registry.tests.factories import make_resident

pytestmark = pytest.mark.django_db


def test_find_by_pinyin_initials_and_outsider_finds_nothing(world, client_for):
    make_resident(world.tree.grid_a1, "张晓明", phone="13812345678")
    make_resident(world.tree.grid_b1, "张小梅")
    page = client_for(world.people.staff).get(reverse("registry:search"), {"q": "zxm"}).content.decode()
    assert "张晓明" in page and "张小梅" not in page
    assert "138****5678" in page and "13812345678" not in page
    by_phone = client_for(world.people.staff).get(reverse("registry:search"), {"q": "138 1234 5678"}).content.decode()
    assert "张晓明" in by_phone
    outsider = client_for(world.people.outsider).get(reverse("registry:search"), {"q": "zxm"}).content.decode()
    assert "张晓明" not in outsider


def test_detail_masks_and_reveal_with_reason_is_audited(world, client_for):
    r = make_resident(world.tree.grid_a1, "李明", phone="13812345678")
    number = pii.decrypt(r.id_cipher)
    client = client_for(world.people.staff)
    page = client.get(reverse("registry:resident_detail", args=[r.pk])).content.decode()
    assert r.id_masked in page and number not in page
    refused = client.post(reverse("registry:resident_reveal", args=[r.pk]), {"reason": ""})
    assert refused.status_code == 400 and number not in refused.content.decode()
    shown = client.post(reverse("registry:resident_reveal", args=[r.pk]), {"reason": "核实身份办理证明"})
    assert number in shown.content.decode() and "13812345678" in shown.content.decode()
    event = AuditEvent.objects.get(action="resident.reveal")
    assert event.actor_label == "staff_a" and event.reason == "核实身份办理证明"


def test_grid_worker_may_not_reveal(world, client_for):
    r = make_resident(world.tree.grid_a1)
    response = client_for(world.people.grid_worker).post(reverse("registry:resident_reveal", args=[r.pk]),
                                                          {"reason": "看看"})
    assert response.status_code == 403
    assert pii.decrypt(r.id_cipher) not in response.content.decode()


def test_opening_a_special_group_record_is_audited(world, client_for):
    from yiwang.registry import services

    r = make_resident(world.tree.grid_a1)
    services.tag_add(actor=world.people.staff, resident=r, group=SpecialGroup.objects.get(code="disabled"))
    client_for(world.people.grid_worker).get(reverse("registry:resident_detail", args=[r.pk]))
    assert AuditEvent.objects.filter(action="resident.view_sensitive", actor=world.people.grid_worker).exists()


def test_grid_worker_edit_waits_for_approval_then_staff_approves(world, client_for):
    r = make_resident(world.tree.grid_a1, "王芳")
    data = {"name": "王芳", "id_type": "id_card", "hukou_type": "registered", "status": "active",
            "occupation": "护士", "ethnicity": "汉族", "political_status": "masses"}
    response = client_for(world.people.grid_worker).post(reverse("registry:resident_edit", args=[r.pk]), data)
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.occupation == ""
    cr = ChangeRequest.objects.get()
    assert cr.state == "pending" and set(cr.changes) == {"occupation"}
    staff = client_for(world.people.staff)
    page = staff.get(reverse("registry:change_request_detail", args=[cr.pk])).content.decode()
    assert "护士" in page and 'data-testid="diff"' in page
    staff.post(reverse("registry:change_request_detail", args=[cr.pk]), {"action": "approve", "note": "核实无误"})
    r.refresh_from_db()
    assert r.occupation == "护士"
    history = staff.get(reverse("registry:history", args=["resident", r.pk])).content.decode()
    assert "护士" in history and "change_request.approve" in history


def test_staff_edit_applies_directly(world, client_for):
    r = make_resident(world.tree.grid_a1, "王芳")
    data = {"name": "王芳", "id_type": "id_card", "hukou_type": "floating", "status": "active", "ethnicity": "汉族",
            "version": r.version}
    client_for(world.people.staff).post(reverse("registry:resident_edit", args=[r.pk]), data)
    r.refresh_from_db()
    assert r.hukou_type == "floating" and not ChangeRequest.objects.exists()


def test_create_page_validates_id_number(world, client_for):
    client = client_for(world.people.staff)
    page = client.post(reverse("registry:resident_create"), {
        "grid": world.tree.grid_a1.pk, "name": "赵六", "id_type": "id_card", "id_number": "141102198001010010",
        "hukou_type": "registered", "status": "active"}).content.decode()
    assert "校验位" in page or "check digit" in page
    assert not Resident.objects.exists()


def test_needs_at_a_glance_counts_children_under_9(world, client_for):
    import datetime as dt

    today = dt.date.today()
    for years in (1, 5, 8):
        make_resident(world.tree.grid_a1, birth=today.replace(year=today.year - years) - dt.timedelta(days=3))
    make_resident(world.tree.grid_a1, birth=today.replace(year=today.year - 9) - dt.timedelta(days=3))
    make_resident(world.tree.grid_b1, birth=today.replace(year=today.year - 2))
    page = client_for(world.people.staff).get(reverse("registry:needs", args=[world.tree.comm_a.pk])).content.decode()
    assert 'age_max=8">3</a>' in page
    listing = client_for(world.people.staff).get(reverse("registry:resident_list"),
                                                 {"within": world.tree.comm_a.path, "age_max": 8})
    assert listing.context["page"].paginator.count == 3


def test_area_detail_shows_needs_panel(world, client_for):
    make_resident(world.tree.grid_a1)
    page = client_for(world.people.staff).get(reverse("geography:area_detail", args=[world.tree.comm_a.pk]))
    assert reverse("registry:needs", args=[world.tree.comm_a.pk]) in page.content.decode()


def test_staff_tags_with_helper_and_starts_household(world, client_for):
    from yiwang.registry.models import ResidentTag

    r = make_resident(world.tree.grid_a1)
    group = SpecialGroup.objects.get(code="elderly_alone")
    url = reverse("registry:resident_action", args=[r.pk])
    assert client_for(world.people.grid_worker).post(url, {"action": "add_tag", "group": group.pk}).status_code == 403
    assert client_for(world.people.outsider).post(url, {"action": "add_tag", "group": group.pk}).status_code == 404
    client_for(world.people.staff).post(url, {"action": "add_tag", "group": group.pk,
                                             "helper": world.people.grid_worker.pk, "visit_interval_days": "10"})
    tag = ResidentTag.objects.get(resident=r)
    assert tag.helper == world.people.grid_worker and tag.visit_interval_days == 10
    response = client_for(world.people.staff).post(url, {"action": "new_household", "number": "A-9"})
    assert response.status_code == 302 and r.memberships.get().relation == "head"


def test_resident_list_search_uses_the_shared_filter_and_a_capped_count(world, client_for, monkeypatch):
    """The page filters with the API's FilterSet (every match, not a first batch of ids) and, for a
    search, counts up to the cap and says there are more; the outsider's page finds none of them."""
    from yiwang.registry.filtersets import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 60)
    for _i in range(70):
        make_resident(world.tree.grid_a1, "刘洋")
    make_resident(world.tree.grid_a2, "张三")
    client = client_for(world.people.staff)
    listing = client.get(reverse("registry:resident_list"), {"q": "ly"})
    page = listing.context["page"]
    assert page.paginator.count == 60 and page.paginator.capped and page.paginator.num_pages == 2
    assert "超过 60 条" in listing.content.decode() and "张三" not in listing.content.decode()
    assert len(client.get(reverse("registry:resident_list"), {"q": "ly", "page": 2}).context["page"]) == 10
    plain = client.get(reverse("registry:resident_list")).context["page"].paginator
    assert plain.count == 71 and not getattr(plain, "capped", False)
    outsider = client_for(world.people.outsider).get(reverse("registry:resident_list"), {"q": "ly"})
    assert outsider.context["page"].paginator.count == 0
