"""Reads over the registry, always scoped with visible_to(actor, perm)."""

import datetime as dt
import functools
import operator
import re
import time
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.audit.models import AuditEvent
from yiwang.core import pii
from yiwang.core.prepared import PreparedQuery, instance_from_row
from yiwang.core.scoping import get_visible_or_404, scope_prefixes, scope_q

from . import records
from .models import (
    ChangeRequest,
    Component,
    Dwelling,
    Household,
    HouseholdMember,
    ImportJob,
    Organisation,
    Rental,
    Resident,
    ResidentStatus,
    ResidentTag,
    SituationLog,
    SpecialGroup,
)
from .permissions import (
    ADD_SITUATION,
    APPROVE_CHANGE,
    REVEAL_PII,
    VIEW_COMPONENT,
    VIEW_ORGANISATION,
    VIEW_RESIDENT,
    VIEW_RESTRICTED_GROUP,
    VIEW_SPECIAL_GROUP,
)
from .services import can


def resident_list_visible_to(actor, *, within: str | None = None):
    residents = Resident.objects.visible_to(actor, VIEW_RESIDENT)
    return residents.within(within) if within else residents


def resident_get_visible(actor, pk: int) -> Resident:
    return get_visible_or_404(Resident.objects.select_related("grid", "dwelling__building"), actor, VIEW_RESIDENT,
                              pk=pk)


def tag_list_visible_to(actor):
    """Special-group tags the actor may see: restricted groups only with that permission or as helper."""
    tags = ResidentTag.objects.visible_to(actor, VIEW_SPECIAL_GROUP).select_related("group", "helper")
    restricted_paths = actor.scope_paths(VIEW_RESTRICTED_GROUP)
    if restricted_paths is None:
        return tags
    condition = Q(group__sensitivity__lt=SpecialGroup.Sensitivity.RESTRICTED) | Q(helper=actor)
    if restricted_paths:
        condition |= scope_q("area_path", restricted_paths)
    return tags.filter(condition)


def resident_tags_visible(actor, resident: Resident, *, current_only: bool = True):
    tags = tag_list_visible_to(actor).filter(resident=resident)
    return tags.filter(until__isnull=True) if current_only else tags


def may_reveal(actor, obj) -> bool:
    return can(actor, REVEAL_PII, obj.area_path)


def household_list_visible_to(actor):
    return Household.objects.visible_to(actor, VIEW_RESIDENT).select_related("grid", "dwelling__building")


def household_get_visible(actor, pk: int) -> Household:
    return get_visible_or_404(household_list_visible_to(actor), actor, VIEW_RESIDENT, pk=pk)


def household_members(household: Household, *, current_only: bool = True):
    members = HouseholdMember.objects.filter(household=household).select_related("resident")
    return members.filter(left_on__isnull=True) if current_only else members.order_by("-joined_on", "-id")


def resident_household_history(resident: Resident):
    return HouseholdMember.objects.filter(resident=resident).select_related("household").order_by("-joined_on", "-id")


def dwelling_list_visible_to(actor):
    return Dwelling.objects.visible_to(actor, VIEW_RESIDENT).select_related("building")


def dwelling_get_visible(actor, pk: int) -> Dwelling:
    return get_visible_or_404(dwelling_list_visible_to(actor), actor, VIEW_RESIDENT, pk=pk)


def rental_list_visible_to(actor):
    return Rental.objects.visible_to(actor, VIEW_RESIDENT).select_related("dwelling__building")


def rental_get_visible(actor, pk: int) -> Rental:
    return get_visible_or_404(rental_list_visible_to(actor).select_related("grid"), actor, VIEW_RESIDENT, pk=pk)


def dwelling_choices_for(actor, area_path: str):
    """Dwellings of one grid the actor may see: what a person or household there may be placed in."""
    return (Dwelling.objects.visible_to(actor, VIEW_RESIDENT).filter(area_path=area_path)
            .select_related("building").order_by("building__name", "unit", "room"))


def organisation_list_visible_to(actor):
    return Organisation.objects.visible_to(actor, VIEW_ORGANISATION).select_related("grid", "party_organisation")


def organisation_get_visible(actor, pk: int) -> Organisation:
    return get_visible_or_404(organisation_list_visible_to(actor), actor, VIEW_ORGANISATION, pk=pk)


def component_list_visible_to(actor):
    return Component.objects.visible_to(actor, VIEW_COMPONENT).select_related("category", "department", "grid")


def component_get_visible(actor, pk: int) -> Component:
    return get_visible_or_404(component_list_visible_to(actor), actor, VIEW_COMPONENT, pk=pk)


def situation_list_visible_to(actor):
    return SituationLog.objects.visible_to(actor, ADD_SITUATION).select_related("grid", "author")


def situation_get_visible(actor, pk: int) -> SituationLog:
    return get_visible_or_404(situation_list_visible_to(actor), actor, ADD_SITUATION, pk=pk)


def change_request_list_visible_to(actor):
    """Requests in areas where the actor reviews, plus the actor's own."""
    reviewable = ChangeRequest.objects.visible_to(actor, APPROVE_CHANGE)
    own = ChangeRequest.objects.visible_to(actor, VIEW_RESIDENT).filter(submitted_by=actor)
    return (reviewable | own).select_related("submitted_by", "reviewed_by").distinct()


def change_request_get_visible(actor, pk: int) -> ChangeRequest:
    from django.http import Http404

    request = change_request_list_visible_to(actor).filter(pk=pk).first()
    if request is None:
        raise Http404
    return request


def import_job_list_for(actor):
    return ImportJob.objects.filter(created_by=actor)


def record_get_visible(actor, target_type: str, pk: int):
    model, _fields, _change, view_perm = records.EDITABLE[target_type]
    return get_visible_or_404(model.objects.all(), actor, view_perm, pk=pk)


def record_history(obj):
    """Audit events and change requests of one record, newest first (a readable history)."""
    events = AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("-at", "-id")
    requests = ChangeRequest.objects.filter(target_type=records.target_type_of(obj), target_id=obj.pk)
    return events, requests.select_related("submitted_by", "reviewed_by")


# -- search ------------------------------------------------------------------------------------

@dataclass
class SearchHit:
    kind: str
    kind_label: str
    pk: int
    title: str
    subtitle: str
    url_name: str


ID_LIKE = re.compile(r"^\d{15}$|^\d{17}[\dXx]$")
PHONE_LIKE = re.compile(r"^\+?[\d\- ]{7,16}$")


# What search results show (ResidentOutput, SearchHit): the masked columns, never the ciphertexts. The
# grid is not joined: its code is the resident's area_path zero-filled (see ResidentOutput).
SEARCH_FIELDS = ("id", "grid", "area_path", "name", "gender", "birth_date", "ethnicity", "id_type", "id_masked",
                 "phone_masked", "hukou_type", "education", "occupation", "political_status", "dwelling", "address",
                 "status", "version", "updated_at")

# Special-group names, read once a minute per process instead of once per search (reference data; a
# change made in this process clears it at once, see apps.py).
_GROUP_NAMES_TTL = 60.0
_group_names: tuple[float, frozenset[str]] = (0.0, frozenset())


def special_group_names() -> frozenset[str]:
    global _group_names
    read_at, names = _group_names
    now = time.monotonic()
    if now - read_at > _GROUP_NAMES_TTL:
        names = frozenset(SpecialGroup.objects.values_list("name", flat=True))
        _group_names = (now, names)
    return names


def forget_special_group_names(**_kwargs) -> None:
    global _group_names
    _group_names = (0.0, frozenset())


def _starts_with(field: str, prefix: str) -> Q:
    """`field` begins with `prefix`, answered from the field's index on every backend. SQLite cannot use
    an index for LIKE (case-insensitive there), so it gets the equivalent range of its binary order:
    prefix <= value < prefix + the highest code point. PostgreSQL keeps LIKE (pattern-ops indexes)."""
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _TOP})
    return Q(**{f"{field}__startswith": prefix})


_TOP = "\U0010ffff"


@dataclass(frozen=True)
class _Stage:
    """One search stage: `field` equal to (exact) or beginning with (prefix) `value`; a special-group
    stage keeps its predicate as a subquery."""

    kind: str  # "exact", "prefix" or "group"
    field: str
    value: str
    q: Q | None = None

    def as_q(self) -> Q:
        if self.kind == "group":
            return self.q
        if self.kind == "prefix":
            return _starts_with(self.field, self.value)
        condition = Q(**{self.field: self.value})
        # The unique index on id_hash is partial (id_hash <> ''); saying so lets SQLite use it too.
        return condition & ~Q(id_hash="") if self.field == "id_hash" else condition


def _search_stages(actor, query: str) -> list[_Stage]:
    """What a query is matched against, in order of preference; each predicate is index-backed."""
    text = re.sub(r"\s+", "", query or "")
    if not text:
        return []
    if ID_LIKE.match(text):
        return [_Stage("exact", "id_hash", pii.search_hash(pii.normalize_id_number(text), kind="id"))]
    if PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return [_Stage("exact", "phone_hash", pii.search_hash(pii.normalize_phone(text), kind="phone"))]
    lowered = text.lower()
    if re.fullmatch(r"[a-z]+", lowered):
        if len(lowered) <= 4:
            return [_Stage("prefix", "name_initials", lowered), _Stage("prefix", "name_pinyin", lowered)]
        return [_Stage("prefix", "name_pinyin", lowered)]
    if text in special_group_names():
        tags = tag_list_visible_to(actor).filter(group__name=text, until__isnull=True)
        return [_Stage("group", "", text, Q(pk__in=tags.values("resident_id")))]
    return [_Stage("prefix", "name", text), _Stage("prefix", "address", text)]


def resident_search_q(actor, query: str) -> Q:
    """All of a query's matches as one predicate (the list filter `?q=`); nothing for an empty query."""
    stages = [stage.as_q() for stage in _search_stages(actor, query)]
    return functools.reduce(operator.or_, stages) if stages else Q(pk__in=[])


# Search runs on every keystroke of the search box and its SQL took the ORM longer to build than the
# database to answer (about 0.6 ms per stage against 0.1-0.5 ms), so each shape of stage query is
# compiled once per process (core.prepared): the stage's field and kind, how many scope prefixes, a
# `within` or not, the limit. The SQL is the ORM's own, only the values are swapped in; tests compare
# the two (tests/test_search.py). Special-group stages keep the ORM (a subquery over tags).
_SEARCH_COLUMNS = tuple(Resident._meta.get_field(name).attname for name in SEARCH_FIELDS)
_MARK = "\x1fsearch\x1f"
_search_queries: dict[tuple, PreparedQuery] = {}


def _stage_query(stage: _Stage, prefixes: int | None, within: bool, limit: int) -> PreparedQuery:
    vendor = connection.vendor
    key = (vendor, stage.kind, stage.field, prefixes, within, limit)
    query = _search_queries.get(key)
    if query is not None:
        return query
    path = Resident._meta.get_field("area_path")
    # Each marker ends with the separator too, so that none is part of another (p1 of p10).
    markers = {f"p{i}": (path, f"{_MARK}p{i}\x1f", "startswith") for i in range(prefixes or 0)}
    if within:
        markers["within"] = (path, f"{_MARK}within\x1f", "startswith")
    field = Resident._meta.get_field(stage.field)
    if stage.kind == "exact":
        markers["value"] = (field, f"{_MARK}value\x1f")
    elif vendor == "sqlite":  # the binary range of _starts_with, its two ends as two values
        markers["low"], markers["high"] = (field, f"{_MARK}low\x1f"), (field, f"{_MARK}high\x1f")
    else:
        markers["value"] = (field, f"{_MARK}value\x1f", "startswith")

    def build(**values):
        residents = Resident.objects.all()
        if prefixes is not None:
            residents = residents.filter(Q(*(Q(area_path__startswith=values[f"p{i}"]) for i in range(prefixes)),
                                           _connector=Q.OR))
        if within:
            residents = residents.within(values["within"])
        if "low" in values:
            predicate = Q(**{f"{stage.field}__gte": values["low"], f"{stage.field}__lt": values["high"]})
        else:
            predicate = _Stage(stage.kind, stage.field, values["value"]).as_q()
        return residents.filter(predicate).order_by().values(*_SEARCH_COLUMNS)[:limit]

    query = _search_queries[key] = PreparedQuery(build, **markers)
    return query


def _stage_hits(actor, stage: _Stage, *, limit: int, within: str | None) -> list[Resident]:
    """One stage's residents, scoped as resident_list_visible_to(actor, within=within)."""
    if stage.kind == "group":
        residents = resident_list_visible_to(actor, within=within).only(*SEARCH_FIELDS).order_by()
        return list(residents.filter(stage.q)[:limit])
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    paths = actor.scope_paths(VIEW_RESIDENT)
    prefixes = None if paths is None else scope_prefixes(paths)
    if prefixes == []:
        return []
    values = {f"p{i}": prefix for i, prefix in enumerate(prefixes or ())}
    if within:
        values["within"] = within
    if stage.kind == "prefix" and connection.vendor == "sqlite":
        values["low"], values["high"] = stage.value, stage.value + _TOP
    else:
        values["value"] = stage.value
    rows = _stage_query(stage, None if prefixes is None else len(prefixes), bool(within), limit).rows(**values)
    return [instance_from_row(Resident, row) for row in rows]


def resident_search(actor, query: str, *, limit: int = 20, within: str | None = None) -> list[Resident]:
    """Residents matching a query, scoped. Exact by ID number or phone (keyed hash), else prefix by
    name, full pinyin, pinyin initials or address, or by special-group name.

    One query per stage (scope + predicate + LIMIT, only SEARCH_FIELDS, no join), a later stage only
    while earlier ones found fewer than `limit`. No ORDER BY: the database walks the
    stage's index (key, area_path) and stops at `limit`, so the cost does not grow with the number of
    matches (sorting them, even just for LIMIT, would read every match: thousands for two initials
    in a district). Hits come back in index order.
    """
    hits, seen = [], set()
    for stage in _search_stages(actor, query):
        for hit in _stage_hits(actor, stage, limit=limit, within=within):
            if hit.pk not in seen:
                seen.add(hit.pk)
                hits.append(hit)
        if len(hits) >= limit:
            break
    return hits[:limit]


def registry_search(actor, query: str, *, limit: int = 20) -> list[SearchHit]:
    """One search box across people, households, organisations and components."""
    hits = []
    for r in resident_search(actor, query, limit=limit):
        hits.append(SearchHit("resident", str(_("Resident")), r.pk, r.name,
                              " · ".join(x for x in (r.id_masked, r.phone_masked, r.address) if x),
                              "registry:resident_detail"))
    text = (query or "").strip()
    if text and not ID_LIKE.match(text):
        organisations = organisation_list_visible_to(actor)
        org_q = Q(name__startswith=text) | Q(name_initials__startswith=text.lower()) | Q(credit_code=text.upper())
        for o in organisations.filter(org_q)[:limit]:
            hits.append(SearchHit("organisation", str(_("Organisation")), o.pk, o.name, o.address,
                                  "registry:organisation_detail"))
        for c in component_list_visible_to(actor).filter(Q(code__startswith=text) | Q(name__startswith=text))[:limit]:
            hits.append(SearchHit("component", str(_("Component")), c.pk, c.code, f"{c.name} {c.location}",
                                  "registry:component_detail"))
        for h in household_list_visible_to(actor).filter(Q(number=text) | Q(address__startswith=text))[:limit]:
            hits.append(SearchHit("household", str(_("Household")), h.pk, str(h), h.address,
                                  "registry:household_detail"))
    return hits


# -- needs at a glance ----------------------------------------------------------------------------

AGE_BANDS = [(0, 2, _("0-2")), (3, 8, _("3-8")), (9, 13, _("9-13")), (14, 17, _("14-17")), (18, 34, _("18-34")),
             (35, 59, _("35-59")), (60, 79, _("60-79")), (80, 200, _("80 and over"))]


def _birth_range(low: int, high: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """Birth dates of people aged low..high (inclusive) today."""
    def years_ago(n):
        try:
            return today.replace(year=today.year - n)
        except ValueError:  # 29 February
            return today.replace(year=today.year - n, day=28)
    return years_ago(high + 1) + dt.timedelta(days=1), years_ago(low)


def needs_at_a_glance(actor, area_path: str, *, today: dt.date | None = None) -> dict:
    """Counts by age band and by special group, for the area and each of its child areas.

    One aggregate query per table (conditional counts grouped by child path), so it stays cheap
    for a community of 10,000 people.
    """
    today = today or timezone.localdate()
    child_len = {6: 9, 9: 12, 12: 15, 15: 15}[len(area_path)]
    from django.db.models.functions import Substr

    residents = resident_list_visible_to(actor, within=area_path).filter(status=ResidentStatus.ACTIVE)
    band_aggs = {}
    for i, (low, high, _label) in enumerate(AGE_BANDS):
        start, end = _birth_range(low, high, today)
        band_aggs[f"b{i}"] = Count("id", filter=Q(birth_date__gte=start, birth_date__lte=end))
    under9_start, _end = _birth_range(0, 8, today)
    band_aggs["under9"] = Count("id", filter=Q(birth_date__gte=under9_start))
    band_aggs["total"] = Count("id")
    by_child = {row["child"]: row for row in residents.annotate(child=Substr("area_path", 1, child_len))
                .values("child").annotate(**band_aggs)}
    totals = {key: sum(row[key] for row in by_child.values()) for key in band_aggs}
    tags = tag_list_visible_to(actor).filter(until__isnull=True, area_path__startswith=area_path)
    tag_rows = list(tags.annotate(child=Substr("area_path", 1, child_len))
                    .values("child", "group_id", "group__name", "group__order").annotate(n=Count("resident_id",
                                                                                                 distinct=True)))
    groups = sorted({(r["group__order"], r["group_id"], r["group__name"]) for r in tag_rows})
    tag_totals = {gid: sum(r["n"] for r in tag_rows if r["group_id"] == gid) for _o, gid, _n in groups}
    tag_by_child = {(r["child"], r["group_id"]): r["n"] for r in tag_rows}
    return {
        "bands": [(str(label), i, low, high) for i, (low, high, label) in enumerate(AGE_BANDS)],
        "totals": totals,
        "by_child": by_child,
        "groups": [(gid, name) for _o, gid, name in groups],
        "tag_totals": tag_totals,
        "tag_by_child": tag_by_child,
    }


def birth_range_for_ages(age_min: int | None, age_max: int | None, today: dt.date | None = None):
    today = today or timezone.localdate()
    start, end = _birth_range(age_min or 0, age_max if age_max is not None else 200, today)
    return start, end


# -- map layers -------------------------------------------------------------------------------

# A district holds ~24,000 buildings: as GeoJSON with their counts that was 8 MB and 2 s for one map load.
# The map asks for the buildings in its view and shows them once the view holds at most this many.
BUILDINGS_IN_VIEW = 2000


def building_extent(actor, *, within: str | None = None) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the buildings the actor sees (where the map opens); None without any."""
    from yiwang.geography.selectors import building_list_visible_to

    found = building_list_visible_to(actor, within=within).aggregate(w=Min("lon"), s=Min("lat"), e=Max("lon"),
                                                                    n=Max("lat"))
    return None if found["w"] is None else (found["w"], found["s"], found["e"], found["n"])


def building_layer(actor, *, within: str | None = None, bbox: tuple[float, float, float, float] | None = None,
                   limit: int | None = None) -> dict:
    """GeoJSON points of visible buildings with dwelling and resident counts, within `bbox` (west, south,
    east, north) if given. More than `limit` (BUILDINGS_IN_VIEW) of them: no features, `"more": <how many>`."""
    from yiwang.geography.selectors import building_list_visible_to

    limit = BUILDINGS_IN_VIEW if limit is None else limit
    buildings = building_list_visible_to(actor, within=within)
    if bbox is not None:
        west, south, east, north = bbox
        buildings = buildings.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)
    chosen = list(buildings.select_related("grid")[:limit + 1])
    if len(chosen) > limit:
        return {"type": "FeatureCollection", "features": [], "more": buildings.count()}
    ids = [b.pk for b in chosen]
    residents = dict(resident_list_visible_to(actor, within=within).filter(dwelling__building_id__in=ids)
                     .values_list("dwelling__building_id").annotate(n=Count("id")).values_list("dwelling__building_id", "n"))
    dwellings = dict(dwelling_list_visible_to(actor).within(within or "").filter(building_id__in=ids)
                     .values_list("building_id").annotate(n=Count("id")).values_list("building_id", "n"))
    features = [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [b.lon, b.lat]},
        "properties": {"id": b.pk, "name": b.name, "address": b.address, "grid": b.grid.name,
                       "dwellings": dwellings.get(b.pk, 0), "residents": residents.get(b.pk, 0)},
    } for b in chosen]
    return {"type": "FeatureCollection", "features": features}


def component_layer(actor, *, within: str | None = None, state: str | None = None) -> dict:
    components = component_list_visible_to(actor)
    if within:
        components = components.within(within)
    if state:
        components = components.filter(state=state)
    features = [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
        "properties": {"id": c.pk, "code": c.code, "name": c.name, "category": c.category.name,
                       "major": c.category.large_name, "state": c.state, "state_label": str(c.get_state_display())},
    } for c in components]
    return {"type": "FeatureCollection", "features": features}
