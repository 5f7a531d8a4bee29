"""Area scoping for querysets, enforced in the data layer.

Every model owned by an area declares `scope_path_lookup`: the ORM lookup that yields the
materialized path of its area (for example "path" on Area, "grid__path" on Building, or a
denormalized "area_path" column on large tables). `visible_to(actor, perm)` keeps the rows whose
path starts with one of the paths where the actor holds `perm`.

The actor supplies `scope_paths(perm)` (see accounts.User): None means unrestricted, a list of
path prefixes otherwise (empty: nothing). Core knows no app; it only calls that method.
"""

from django.db import models
from django.db.models import Q
from django.http import Http404


def scope_q(lookup: str, paths: list[str]) -> Q:
    condition = Q(pk__in=[])
    for prefix in _collapse(paths):
        condition |= Q(**{f"{lookup}__startswith": prefix})
    return condition


def _collapse(paths: list[str]) -> list[str]:
    """Drop paths already covered by a shorter prefix so the SQL stays small."""
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


def get_visible_or_404(queryset: ScopedQuerySet, actor, perm: str, **lookup):
    """Fetch one object the actor may see; anything else (missing or out of scope) is a 404."""
    try:
        return queryset.visible_to(actor, perm).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc
