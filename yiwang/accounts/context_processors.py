from django.conf import settings
from django.urls import reverse

from yiwang.core.navigation import NAV_GROUPS, nav_entries

from .selectors import current_area, switchable_areas


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items, groups, seen = [], {}, set()
    for entry in nav_entries():
        if entry.perm is not None and not user.has_perm_anywhere(entry.perm):
            continue
        url = reverse(entry.url_name)
        if url in seen:  # two roles may register the same page
            continue
        seen.add(url)
        item = {"label": entry.label, "url": url, "active": request.path.startswith(url) and url != "/"}
        if entry.group is None:
            items.append(item)
            continue
        if entry.group not in groups:
            groups[entry.group] = {"label": NAV_GROUPS.get(entry.group, entry.group), "children": [],
                                   "active": False}
            items.append(groups[entry.group])
        groups[entry.group]["children"].append(item)
        groups[entry.group]["active"] |= item["active"]
    return {
        "nav_items": items,
        "current_area": current_area(request),
        "switchable_areas": switchable_areas(user),
        "require_2fa": settings.YIWANG_REQUIRE_2FA,
    }
