from django.conf import settings
from django.urls import reverse

from yiwang.core.navigation import nav_entries

from .selectors import current_area, switchable_areas


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for entry in nav_entries():
        if entry.perm is None or user.has_perm_anywhere(entry.perm):
            url = reverse(entry.url_name)
            items.append({"label": entry.label, "url": url, "active": request.path.startswith(url)})
    return {
        "nav_items": items,
        "current_area": current_area(request),
        "switchable_areas": switchable_areas(user),
        "require_2fa": settings.YIWANG_REQUIRE_2FA,
    }
