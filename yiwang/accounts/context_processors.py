"""The page frame's context: the menu and the area switcher.

Both are on every page, and building them through the template engine cost about 1.5 ms per page
(measured on the dispatcher's queue). What they show is read afresh on every request — the user's
memberships (hence the permissions the menu checks) and the switcher's areas — and only the work of
turning that into HTML is kept, per process (core.fragments), under a key made of everything the HTML
depends on: the entries the user may see, the registry's version, the language, the URL prefix and the
active entry for the menu; the areas shown and the one selected for the switcher. So a membership
removed, a role changed, an area renamed or a menu entry re-registered shows on the next request, and
nothing one user sees can be served to another unless it is the very same HTML.
"""

from django.conf import settings
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

from yiwang.core.fragments import rendered
from yiwang.core.navigation import NAV_GROUPS, nav_entries, nav_version

from .selectors import current_area, switchable_areas

# Menus by key; bounded (a full cache is simply emptied: keys are few in practice, a handful of role
# sets times languages).
CACHE_LIMIT = 256
_menus: dict[tuple, tuple] = {}


def _menu(user) -> tuple[tuple, tuple]:
    """(key, entries as (label, url, group, group label)) of the menu this user may see."""
    perms = user.perms_anywhere()
    entries = nav_entries()
    shown = tuple(e.key for e in entries if e.perm is None or perms is None or e.perm in perms)
    key = (nav_version(), get_language(), get_script_prefix(), shown)
    menu = _menus.get(key)
    if menu is None:
        visible, seen = set(shown), set()
        rows = []
        for entry in entries:
            if entry.key not in visible:
                continue
            url = reverse(entry.url_name)
            if url in seen:  # two roles may register the same page
                continue
            seen.add(url)
            group_label = str(NAV_GROUPS.get(entry.group, entry.group)) if entry.group else None
            rows.append((str(entry.label), url, entry.group, group_label))
        if len(_menus) >= CACHE_LIMIT:
            _menus.clear()
        menu = _menus[key] = tuple(rows)
    return key, menu


def _is_active(url: str, path: str) -> bool:
    return path.startswith(url) and url != "/"


def _nav_items(menu, path: str) -> list[dict]:
    items, groups = [], {}
    for label, url, group, group_label in menu:
        item = {"label": label, "url": url, "active": _is_active(url, path)}
        if group is None:
            items.append(item)
            continue
        if group not in groups:
            groups[group] = {"label": group_label, "children": [], "active": False}
            items.append(groups[group])
        groups[group]["children"].append(item)
        groups[group]["active"] |= item["active"]
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    menu_key, menu = _menu(user)
    items = _nav_items(menu, request.path)
    active = tuple(url for _label, url, _group, _group_label in menu if _is_active(url, request.path))
    area = current_area(request)
    areas = switchable_areas(user)
    options_key = (area.pk if area is not None else None, tuple((a.pk, a.level, a.name) for a in areas))
    return {
        "nav_items": items,
        "nav_html": rendered((menu_key, active), "_nav.html", {"nav_items": items}),
        "current_area": area,
        "switchable_areas": areas,
        "area_options_html": rendered(options_key, "_area_options.html",
                                      {"switchable_areas": areas, "current_area": area}),
        "require_2fa": settings.YIWANG_REQUIRE_2FA,
    }
