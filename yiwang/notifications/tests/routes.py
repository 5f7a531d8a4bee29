"""Permission specs for the inbox page and API (see yiwang/tests/test_route_permissions.py).

Every signed-in user has an inbox, so no role is refused; each sees only their own notifications.
"""

from yiwang.core.testing import RouteSpec

EVERYONE = ("staff", "grid_worker", "dispatcher_comm", "dispatcher_sub", "admin", "handler", "resident")
MARKER = "甲社区收件箱通知"


def with_notices(w) -> dict:
    """Notify every user but the outsider (once per world), so each in-scope user has the marker in their
    inbox and the outsider must not see it. Returns no URL kwargs."""
    if not hasattr(w, "_inbox_seeded"):
        from yiwang.notifications.services import notify

        for role in EVERYONE:
            user = getattr(w.people, role)
            notify(user=user, kind="test.inbox", title=MARKER, dedupe_key=f"test:inbox:{user.pk}")
        w._inbox_seeded = True
    return {}


ROUTES = [
    RouteSpec("notifications:inbox", kwargs=with_notices, allowed=EVERYONE, denied=(), outsider="hidden",
              marker=lambda w: MARKER),
    RouteSpec("api:notification-list", kwargs=with_notices, api=True, allowed=EVERYONE, denied=(),
              outsider="hidden", marker=lambda w: MARKER),
    RouteSpec("api:notification-mark-read", api=True, allowed=(), denied=()),  # POST only
]
