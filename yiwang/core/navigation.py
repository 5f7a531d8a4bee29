"""Navigation registry: apps add their menu entries in AppConfig.ready(), core renders them.

An entry is shown when the user holds `perm` somewhere (see accounts.User.has_perm_anywhere).
Entries with a `group` are shown together in one drop-down menu labelled by NAV_GROUPS.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

NAV_GROUPS = {
    "registry": _("Base data"),
    "fieldwork": _("Field work"),
    "system": _("System"),
}


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str  # lazy-translated
    url_name: str
    perm: str | None
    order: int = 100
    group: str | None = None


_entries: dict[str, NavEntry] = {}
_sorted: tuple[int, tuple[NavEntry, ...]] = (-1, ())
_version = 0


def register_nav(key: str, label, url_name: str, perm: str | None = None, order: int = 100,
                 group: str | None = None) -> None:
    global _version
    _entries[key] = NavEntry(key, label, url_name, perm, order, group)
    _version += 1


def nav_version() -> int:
    """Changes whenever an entry is registered or replaced (menus built from the entries key on it)."""
    return _version


def nav_entries() -> tuple[NavEntry, ...]:
    global _sorted
    version, entries = _sorted
    if version != _version:
        entries = tuple(sorted(_entries.values(), key=lambda e: (e.order, e.key)))
        _sorted = (_version, entries)
    return entries
