"""Reads for accounts: scoped user and department lists, and the current area of a request."""

from django.db.models import Prefetch, Q

from yiwang.core.prepared import PreparedQuery, instance_from_row
from yiwang.core.scoping import scope_prefixes, scope_q
from yiwang.geography.models import Area, AreaLevel

from .models import Department, Membership, User
from .roles import VIEW_AREA, VIEW_DEPARTMENT, VIEW_USER

CURRENT_AREA_KEY = "yw_area_path"


def user_list_visible_to(actor):
    """Users holding at least one membership inside an area where the actor may view users."""
    paths = actor.scope_paths(VIEW_USER) if actor.is_authenticated else []
    users = User.objects.filter(is_active=True)
    if paths is None:
        return users.order_by("username").prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("area", "department")))
    visible_memberships = Membership.objects.visible_to(actor, VIEW_USER)
    return (users.filter(pk__in=visible_memberships.values("user_id")).order_by("username")
            .prefetch_related(Prefetch("memberships",
                                       queryset=visible_memberships.select_related("area", "department"))))


def department_list_visible_to(actor):
    """Departments inside the actor's areas, plus those at higher levels that serve those areas."""
    if not actor.is_authenticated:
        return Department.objects.none()
    paths = actor.scope_paths(VIEW_DEPARTMENT)
    if paths is None:
        return Department.objects.select_related("area")
    return Department.objects.serving_paths(paths).select_related("area")


SWITCHER_FIELDS = ("id", "name", "level", "path", "division_code", "street_no", "community_no", "grid_no")
_switcher_queries: dict[tuple, PreparedQuery] = {}


def _switcher_query(prefixes: int | None, tops: int) -> PreparedQuery:
    """The switcher's query for a number of scope prefixes (None: everywhere) and of the user's own
    areas, compiled once per process: it runs behind every page (the menu), and the ORM took longer to
    build it than the database to answer. Tests compare it with the ORM (tests/test_navigation.py)."""
    query = _switcher_queries.get((prefixes, tops))
    if query is None:
        path = Area._meta.get_field("path")
        # Each marker ends with the separator too, so that none is part of another (p1 of p10).
        markers = {f"p{i}": (path, f"\x1fswitch\x1fp{i}\x1f", "startswith") for i in range(prefixes or 0)}
        markers.update({f"t{i}": (path, f"\x1fswitch\x1ft{i}\x1f") for i in range(tops)})

        def build(**values):
            areas = Area.objects.all()
            if prefixes is not None:
                areas = areas.filter(scope_q("path", [values[f"p{i}"] for i in range(prefixes)]))
            offered = Q(level__lte=AreaLevel.COMMUNITY)
            if tops:
                offered |= Q(path__in=[values[f"t{i}"] for i in range(tops)])
            return areas.filter(offered).order_by("path").values(*SWITCHER_FIELDS)

        query = _switcher_queries[(prefixes, tops)] = PreparedQuery(build, **markers)
    return query


_department_queries: dict[tuple, PreparedQuery] = {}


def active_department_choices(actor) -> list[tuple[int, str]]:
    """(id, name) of the active departments in department_list_visible_to(actor), in its order: the
    choices of the queue's bulk dispatch, on every queue page. Its query (DepartmentQuerySet.serving_paths)
    is compiled once per process for each shape of the actor's paths (how long each is: a path's
    ancestors depend on its level); tests/test_selectors.py compares it with the ORM."""
    if not actor.is_authenticated:
        return []
    paths = actor.scope_paths(VIEW_DEPARTMENT)
    if paths is None:
        return list(Department.objects.filter(active=True).values_list("id", "name"))
    if not paths:
        return []
    ancestors = [[path[:n] for n in (6, 9, 12) if n < len(path)] for path in paths]
    shape = tuple(len(a) for a in ancestors)
    query = _department_queries.get(shape)
    if query is None:
        path_field = Area._meta.get_field("path")
        markers = {}
        for i, count in enumerate(shape):
            markers[f"p{i}"] = (path_field, f"\x1fdept\x1fp{i}\x1f", "startswith")
            markers.update({f"a{i}_{j}": (path_field, f"\x1fdept\x1fa{i}_{j}\x1f") for j in range(count)})

        def build(**values):
            condition = Q(pk__in=[])
            for i, count in enumerate(shape):
                condition |= Q(area__path__startswith=values[f"p{i}"]) | Q(
                    area__path__in=[values[f"a{i}_{j}"] for j in range(count)])
            return Department.objects.filter(condition, active=True).values("id", "name")

        query = _department_queries[shape] = PreparedQuery(build, **markers)
    values = {}
    for i, path in enumerate(paths):
        values[f"p{i}"] = path
        values.update({f"a{i}_{j}": ancestor for j, ancestor in enumerate(ancestors[i])})
    return [(row["id"], row["name"]) for row in query.rows(**values)]


def switchable_areas(user) -> list[Area]:
    """Areas a user can focus on with the area switcher: their own areas and, below them, every
    subdistrict and community (grids are reached from the map). Ordered as a tree.

    Read afresh on every request (a new area, a renamed one, a membership removed show at once), through
    a query compiled once per process."""
    cached = getattr(user, "_switchable_cache", None)
    if cached is not None:
        return cached
    options: list[Area] = []
    if user.is_authenticated:
        paths = user.scope_paths(VIEW_AREA)
        prefixes = None if paths is None else scope_prefixes(paths)
        if prefixes is None or prefixes:
            tops = sorted(set(paths or []))
            values = {f"p{i}": p for i, p in enumerate(prefixes or ())}
            values.update({f"t{i}": p for i, p in enumerate(tops)})
            rows = _switcher_query(None if prefixes is None else len(prefixes), len(tops)).rows(**values)
            options = [instance_from_row(Area, row) for row in rows]
    user._switchable_cache = options
    return options


def current_area(request) -> Area | None:
    """The area the user is working in now: their chosen one if still visible, else their first."""
    user = request.user
    if not user.is_authenticated:
        return None
    cached = getattr(request, "_yw_current_area", None)
    if cached is not None:
        return cached
    # The switcher's options are read for the menu anyway; the chosen area is usually one of them.
    options = switchable_areas(user)
    chosen = request.session.get(CURRENT_AREA_KEY)
    area = next((a for a in options if a.path == chosen), None) if chosen else None
    if area is None and chosen:
        area = Area.objects.visible_to(user, VIEW_AREA).filter(path=chosen).first()  # a grid, or gone
    if area is None:
        area = min(options, key=lambda a: (len(a.path), a.path)) if options else None
    request._yw_current_area = area
    return area
