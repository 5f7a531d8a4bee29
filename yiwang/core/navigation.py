"""Navigation registry: apps add their menu entries in AppConfig.ready(), core renders them.

An entry is shown when the user holds `perm` somewhere (see accounts.User.has_perm_anywhere).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str  # lazy-translated
    url_name: str
    perm: str | None
    order: int = 100


_entries: dict[str, NavEntry] = {}


def register_nav(key: str, label, url_name: str, perm: str | None = None, order: int = 100) -> None:
    _entries[key] = NavEntry(key, label, url_name, perm, order)


def nav_entries() -> list[NavEntry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.key))
