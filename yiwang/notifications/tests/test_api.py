"""/api/v1/notifications/: the caller's own inbox."""

from yiwang.notifications.services import notify


def test_the_api_lists_my_notifications_newest_first_and_marks_them_read(world, api_for):
    me = world.people.grid_worker
    first = notify(user=me, kind="k", title="第一条", dedupe_key="a:1")
    notify(user=me, kind="k", title="第二条", body="详情", link="/x/", dedupe_key="a:2")
    notify(user=world.people.staff, kind="k", title="别人的", dedupe_key="a:3")
    api = api_for(me)
    assert api.get("/api/v1/notifications/").status_code == 200
    rows = api.get("/api/v1/notifications/").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert [r["title"] for r in rows] == ["第二条", "第一条"]
    assert set(rows[0]) == {"id", "kind", "title", "body", "link", "created_at", "read_at"}

    assert api.post("/api/v1/notifications/mark_read/", {"id": first.pk}, format="json").json() == {"marked": 1}
    assert api.post("/api/v1/notifications/mark_read/", {}, format="json").json() == {"marked": 1}
    assert not me.notifications.filter(read_at__isnull=True).exists()
    assert world.people.staff.notifications.get().read_at is None
