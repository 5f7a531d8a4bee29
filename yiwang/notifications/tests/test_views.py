"""The inbox page, its old address and its menu entry."""

from django.urls import reverse

from yiwang.core.navigation import nav_entries
from yiwang.notifications.services import notify


def test_inbox_lists_only_my_notifications_and_marks_them_read(world, client_for):
    me = world.people.handler
    mine = notify(user=me, kind="k", title="待处理案件", link="/cases/1/", dedupe_key="v:1")
    notify(user=me, kind="k", title="第二条", dedupe_key="v:2")
    notify(user=world.people.staff, kind="k", title="别人的通知", dedupe_key="v:3")
    client = client_for(me)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "待处理案件" in page and 'href="/cases/1/"' in page and "第二条" in page
    assert "别人的通知" not in page

    response = client.post(reverse("notifications:inbox"), {"id": mine.pk})
    assert response.status_code == 302 and response["Location"] == reverse("notifications:inbox")
    assert list(me.notifications.filter(read_at__isnull=True).values_list("title", flat=True)) == ["第二条"]
    client.post(reverse("notifications:inbox"))
    assert not me.notifications.filter(read_at__isnull=True).exists()
    assert world.people.staff.notifications.get().read_at is None


def test_the_old_inbox_address_redirects_permanently(world, client_for):
    response = client_for(world.people.staff).get("/cases/inbox/")
    assert response.status_code == 301 and response["Location"] == reverse("notifications:inbox")
    assert reverse("notifications:inbox") == "/notifications/"


def test_the_menu_entry_leads_to_the_inbox():
    [entry] = [e for e in nav_entries() if e.key == "inbox"]
    assert entry.url_name == "notifications:inbox" and entry.perm is None
