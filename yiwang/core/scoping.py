"""Area scoping for querysets, enforced in the data layer.

Every model owned by an area declares `scope_path_lookup`: the ORM lookup that yields the
materialized path of its area (for example "path" on Area, "grid__path" on Building, or a
denormalized "area_path" column on large tables). `visible_to(actor, perm)` keeps the rows whose
path starts with one of the paths where the actor holds `perm`.

The actor supplies `scope_paths(perm)` (see accounts.User): None means unrestricted, a list of
path prefixes otherwise (empty: nothing). Core knows no app; it only calls that method.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404


def scope_q(lookup: str, paths: list[str]) -> Q:
    """Rows under any of these paths (none: no rows)."""
    prefixes = scope_prefixes(paths)
    if not prefixes:
        return Q(pk__in=[])
    return Q(*(Q(**{f"{lookup}__startswith": prefix}) for prefix in prefixes), _connector=Q.OR)


def scope_prefixes(paths: list[str]) -> list[str]:
    """The prefixes scope_q tests, in its order: paths already covered by a shorter one are dropped so
    the SQL stays small."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(prefix) for prefix in kept):
            kept.append(path)
    return kept


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, actor, perm: str):
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        paths = actor.scope_paths(perm)
        if paths is None:
            return self
        if not paths:
            return self.none()
        return self.filter(scope_q(self.model.scope_path_lookup, paths))

    def within(self, path: str):
        """Narrow to one subtree (the area switcher); never widens visibility."""
        return self.filter(**{f"{self.model.scope_path_lookup}__startswith": path})


def holds_perm_at(actor, perm: str, area_path: str) -> bool:
    """Whether the actor holds `perm` in the area with this path (directly or from an area above it)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    paths = actor.scope_paths(perm)
    return paths is None or any(area_path.startswith(p) for p in paths)


def require_perm_at(actor, perm: str, area_path: str) -> None:
    """Services call this before writing in an area; views turn the exception into 403."""
    if not holds_perm_at(actor, perm, area_path):
        raise PermissionDenied


def require_perm_anywhere(user, perm: str) -> None:
    """For pages that list across the user's areas: the role must grant `perm` somewhere."""
    if not (getattr(user, "is_authenticated", False) and user.has_perm_anywhere(perm)):
        raise PermissionDenied


def get_visible_or_404(queryset: ScopedQuerySet, actor, perm: str, **lookup):
    """Fetch one object the actor may see; anything else (missing or out of scope) is a 404."""
    try:
        return queryset.visible_to(actor, perm).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
