"""Reads for accounts: scoped user and department lists, and the current area of a request."""

from django.db.models import Prefetch, Q

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


def switchable_areas(user) -> list[Area]:
    """Areas a user can focus on with the area switcher: their own areas and, below them, every
    subdistrict and community (grids are reached from the map). Ordered as a tree."""
    cached = getattr(user, "_switchable_cache", None)
    if cached is not None:
        return cached
    areas = Area.objects.visible_to(user, VIEW_AREA)
    tops = set(user.scope_paths(VIEW_AREA) or [])
    options = list(areas.filter(Q(level__lte=AreaLevel.COMMUNITY) | Q(path__in=tops))
                   .only("id", "name", "level", "path", "division_code", "street_no", "community_no", "grid_no")
                   .order_by("path"))
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
