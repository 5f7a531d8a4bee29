"""Registry pages. Views parse input and call services/selectors; every object is fetched scoped
(out-of-scope answers 404)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.accounts.selectors import current_area
from yiwang.core.scoping import require_perm_anywhere
from yiwang.geography.models import Area, AreaLevel
from yiwang.geography.selectors import area_get_visible, area_list_visible_to

from . import excel, records, selectors, services
from .filtersets import (
    ChangeRequestFilterSet,
    ComponentFilterSet,
    HouseholdFilterSet,
    OrganisationFilterSet,
    ResidentFilterSet,
    SituationLogFilterSet,
    resident_paginator_class,
)
from .forms import (
    AddMemberForm,
    ComponentForm,
    ExportForm,
    GridChoiceForm,
    HouseholdForm,
    ImportConfirmForm,
    ImportUploadForm,
    OrganisationForm,
    ResidentForm,
    RevealForm,
    ReviewForm,
    SituationLogForm,
)
from .models import ImportJob, Resident, SpecialGroup
from .permissions import (
    ADD_SITUATION,
    APPROVE_CHANGE,
    CHANGE_COMPONENT,
    CHANGE_ORGANISATION,
    CHANGE_RESIDENT,
    EXPORT,
    IMPORT,
    PROPOSE_CHANGE,
    REVEAL_PII,
    VIEW_COMPONENT,
    VIEW_ORGANISATION,
    VIEW_RESIDENT,
)


def _within(request) -> str | None:
    area = current_area(request)
    return area.path if area else None


def _page(request, queryset, per_page=50):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def _filtered_list(request, perm: str, queryset, filterset_class, template: str, create_perm: str | None = None,
                   edit_perms: tuple[str, ...] = ()):
    """A scoped list page: permission, the area switcher's subtree, the shared FilterSet, paging; a
    "new" link for users holding `create_perm` somewhere, edit links for those holding one of `edit_perms`."""
    require_perm_anywhere(request.user, perm)
    within = _within(request)
    if within:
        queryset = queryset.within(within)
    filterset = filterset_class(request.GET or None, queryset=queryset)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    return render(request, template, {"filter": filterset, "page": _page(request, rows),
                                      "may_create": bool(create_perm) and request.user.has_perm_anywhere(create_perm),
                                      "may_edit": any(request.user.has_perm_anywhere(p) for p in edit_perms)})


def _grids(user, perm):
    """Grids where the user holds `perm` (Area is scoped by any permission string)."""
    return Area.objects.visible_to(user, perm).filter(level=AreaLevel.GRID)


# -- residents ---------------------------------------------------------------------------------

@login_required
def resident_list(request):
    require_perm_anywhere(request.user, VIEW_RESIDENT)
    queryset = selectors.resident_list_visible_to(request.user, within=_within(request)).select_related("grid")
    filterset = ResidentFilterSet(request.GET or None, queryset=queryset, request=request)
    residents = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    paginator = resident_paginator_class(request.GET)(residents.order_by("area_path", "name", "id"), 50)
    page = paginator.get_page(request.GET.get("page"))
    template = "registry/_resident_rows.html" if request.headers.get("HX-Request") else "registry/resident_list.html"
    return render(request, template, {
        "filter": filterset, "page": page, "may_create": request.user.has_perm_anywhere(CHANGE_RESIDENT),
        "may_import": request.user.has_perm_anywhere(IMPORT), "may_export": request.user.has_perm_anywhere(EXPORT),
    })


@login_required
def resident_detail(request, pk: int):
    resident = selectors.resident_get_visible(request.user, pk)
    tags = list(selectors.resident_tags_visible(request.user, resident))
    if tags or resident.is_child:
        services.resident_record_sensitive_view(actor=request.user, resident=resident,
                                                groups=[t.group.code for t in tags])
    memberships = list(selectors.resident_household_history(resident))
    return render(request, "registry/resident_detail.html", {
        "r": resident, "tags": tags, "memberships": memberships,
        "may_reveal": selectors.may_reveal(request.user, resident), "reveal_form": RevealForm(),
        "may_edit": services.can(request.user, CHANGE_RESIDENT, resident.area_path)
        or services.can(request.user, PROPOSE_CHANGE, resident.area_path),
        "pending": selectors.change_request_list_visible_to(request.user).filter(
            target_type="resident", target_id=resident.pk, state="pending"),
        "may_change": services.can(request.user, CHANGE_RESIDENT, resident.area_path),
        "groups": SpecialGroup.objects.all(), "helpers": _helpers_for(resident),
        "in_household": any(m.left_on is None for m in memberships),
    })


def _helpers_for(resident):
    """People who can be assigned as helper (包联人): grid workers of the grid and staff of the community."""
    from yiwang.accounts.models import User

    paths = [resident.area_path, resident.area_path[:12]]
    return User.objects.filter(memberships__active=True, memberships__area__path__in=paths,
                               memberships__role__in=["grid_worker", "staff"]).distinct().order_by("username")


@login_required
@require_POST
def resident_action(request, pk: int):
    """Staff actions from the detail page: add or end a special-group tag, start a household."""
    from .models import ResidentTag, SpecialGroup

    resident = selectors.resident_get_visible(request.user, pk)
    if not services.can(request.user, CHANGE_RESIDENT, resident.area_path):
        raise PermissionDenied
    action = request.POST.get("action")
    try:
        if action == "add_tag":
            group = get_object_or_404(SpecialGroup, pk=request.POST.get("group"))
            helper = _helpers_for(resident).filter(pk=request.POST.get("helper") or None).first()
            interval = request.POST.get("visit_interval_days")
            services.tag_add(actor=request.user, resident=resident, group=group, helper=helper,
                             visit_interval_days=int(interval) if interval and interval.isdigit() else None)
        elif action == "end_tag":
            tag = get_object_or_404(ResidentTag, pk=request.POST.get("tag"), resident=resident)
            services.tag_end(actor=request.user, tag=tag)
        elif action == "new_household":
            household = services.household_create(actor=request.user, grid=resident.grid, head=resident,
                                                  number=request.POST.get("number", ""), dwelling=resident.dwelling)
            return redirect("registry:household_detail", pk=household.pk)
        messages.success(request, _("Saved."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("registry:resident_detail", pk=resident.pk)


@login_required
@require_POST
def resident_reveal(request, pk: int):
    resident = selectors.resident_get_visible(request.user, pk)
    form = RevealForm(request.POST)
    shown, error = None, None
    if form.is_valid():
        try:
            shown = services.resident_reveal(actor=request.user, resident=resident, reason=form.cleaned_data["reason"])
        except PermissionDenied:
            raise
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Say why you need to see the full ID number and phone.")
    return render(request, "registry/_reveal.html", {"r": resident, "shown": shown, "error": error,
                                                     "reveal_form": form}, status=200 if shown else 400)


def _resident_initial(resident: Resident) -> dict:
    return {f: getattr(resident, f) for f in records.RESIDENT_FIELDS if f not in records.PII_FIELDS} | {
        "version": resident.version, "relation": records.current_relation(resident), "dwelling": resident.dwelling_id}


@login_required
def resident_create(request):
    require_perm_anywhere(request.user, CHANGE_RESIDENT)
    grids = _grids(request.user, CHANGE_RESIDENT)
    form = ResidentForm(request.POST or None)
    grid_form = GridChoiceForm(request.POST or None, grids=grids)
    if request.method == "POST" and form.is_valid() and grid_form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k not in ("version", "reason")}
        try:
            resident = services.resident_create(actor=request.user, grid=grid_form.cleaned_data["grid"], **values)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("%(name)s was registered.") % {"name": resident.name})
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(request, "registry/resident_form.html", {"form": form, "grid_form": grid_form, "creating": True})


def _attach(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def resident_edit(request, pk: int):
    resident = selectors.resident_get_visible(request.user, pk)
    direct = services.can(request.user, CHANGE_RESIDENT, resident.area_path)
    if not direct and not services.can(request.user, PROPOSE_CHANGE, resident.area_path):
        raise PermissionDenied
    initial = _resident_initial(resident)
    form = ResidentForm(request.POST or None, initial=initial, relation=bool(initial["relation"]),
                        dwellings=selectors.dwelling_choices_for(request.user, resident.area_path))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {}
        for field in records.EDITABLE["resident"][1]:
            if field not in request.POST or field not in data:  # only what the client sent counts as an edit
                continue
            if field in records.PII_FIELDS:
                if data.get(field):  # blank means "keep"
                    changes[field] = data[field]
                continue
            new, old = data[field], initial[field]
            if field == "dwelling":
                new = new.pk if new else None
            if new != old and not (new in (None, "") and old in (None, "")):
                changes[field] = data[field]
        try:
            outcome, result = services.record_edit(actor=request.user, target=resident, changes=changes,
                                                   reason=data.get("reason", ""),
                                                   expected_version=data.get("version") if direct else None)
        except services.ConflictError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _attach(form, exc)
        else:
            if outcome == "pending":
                messages.info(request, _("Your change waits for approval by community staff."))
            else:
                messages.success(request, _("Saved."))
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(request, "registry/resident_form.html", {"form": form, "r": resident, "direct": direct})


@login_required
def record_history(request, target_type: str, pk: int):
    if target_type not in records.EDITABLE:
        raise Http404
    obj = selectors.record_get_visible(request.user, target_type, pk)
    events, change_requests = selectors.record_history(obj)
    return render(request, "registry/history.html", {"obj": obj, "events": events[:200],
                                                     "change_requests": change_requests})


# -- households --------------------------------------------------------------------------------

@login_required
def household_list(request):
    return _filtered_list(request, VIEW_RESIDENT, selectors.household_list_visible_to(request.user),
                          HouseholdFilterSet, "registry/household_list.html")


@login_required
def household_detail(request, pk: int):
    household = selectors.household_get_visible(request.user, pk)
    may_change = services.can(request.user, CHANGE_RESIDENT, household.area_path)
    may_edit = may_change or services.can(request.user, PROPOSE_CHANGE, household.area_path)
    form = AddMemberForm(request.POST or None)
    edit_initial = {"number": household.number, "dwelling": household.dwelling_id, "address": household.address,
                    "note": household.note, "version": household.version}
    edit_form = HouseholdForm(request.POST if request.POST.get("action") == "edit" else None, initial=edit_initial,
                              dwellings=selectors.dwelling_choices_for(request.user, household.area_path))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "edit":
            if not may_edit:
                raise PermissionDenied
            if edit_form.is_valid() and _household_edit(request, household, edit_form, may_change):
                return redirect("registry:household_detail", pk=household.pk)
        else:
            if not may_change:
                raise PermissionDenied
            try:
                if action == "add" and form.is_valid():
                    person = selectors.resident_get_visible(request.user, form.cleaned_data["resident"])
                    services.household_add_member(actor=request.user, household=household, resident=person,
                                                  relation=form.cleaned_data["relation"])
                elif action == "head":
                    person = selectors.resident_get_visible(request.user, int(request.POST["resident"]))
                    services.household_set_head(actor=request.user, household=household, resident=person,
                                                old_head_relation=request.POST.get("old_head_relation", "other"))
                elif action == "remove":
                    person = selectors.resident_get_visible(request.user, int(request.POST["resident"]))
                    services.household_remove_member(actor=request.user, household=household, resident=person)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect("registry:household_detail", pk=household.pk)
    return render(request, "registry/household_detail.html", {
        "h": household, "members": selectors.household_members(household),
        "history": selectors.household_members(household, current_only=False).exclude(left_on__isnull=True),
        "may_change": may_change, "may_edit": may_edit, "form": form, "edit_form": edit_form,
        "pending": selectors.change_request_list_visible_to(request.user).filter(
            target_type="household", target_id=household.pk, state="pending"),
    })


def _household_edit(request, household, form, direct: bool) -> bool:
    """Apply (staff) or propose (grid worker) the household form's changes; False: errors on the form."""
    data = form.cleaned_data
    changes = {f: (data[f].pk if f == "dwelling" and data[f] else data[f]) for f in form.changed_data
               if f in records.EDITABLE["household"][1]}
    try:
        outcome, _result = services.record_edit(actor=request.user, target=household, changes=changes,
                                                expected_version=data.get("version"))
    except services.ConflictError as exc:
        form.add_error(None, str(exc))
        return False
    except ValidationError as exc:
        _attach(form, exc)
        return False
    messages.info(request, _("Your change waits for approval by community staff.") if outcome == "pending"
                  else _("Saved."))
    return True


# -- organisations, components, situation log -------------------------------------------------

@login_required
def organisation_list(request):
    return _filtered_list(request, VIEW_ORGANISATION, selectors.organisation_list_visible_to(request.user),
                          OrganisationFilterSet, "registry/organisation_list.html", create_perm=CHANGE_ORGANISATION)


def _edit_generic(request, obj, form_class, template, extra):
    direct = services.can(request.user, records.EDITABLE[records.target_type_of(obj)][2], obj.area_path)
    may_edit = direct or services.can(request.user, PROPOSE_CHANGE, obj.area_path)
    # A fresh instance: a bound ModelForm writes cleaned values into its instance.
    form = form_class(request.POST or None, instance=type(obj).objects.get(pk=obj.pk))
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            changes = {f: form.cleaned_data[f] for f in form.changed_data}
            try:
                outcome, _result = services.record_edit(actor=request.user, target=obj, changes=changes)
            except (ValidationError, services.ConflictError) as exc:
                form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.info(request, _("Your change waits for approval by community staff.") if outcome == "pending"
                              else _("Saved."))
                return redirect(request.path)
    return render(request, template, {"obj": obj, "form": form, "may_edit": may_edit, **extra})


@login_required
def organisation_detail(request, pk: int):
    organisation = selectors.organisation_get_visible(request.user, pk)
    return _edit_generic(request, organisation, OrganisationForm, "registry/organisation_detail.html", {})


@login_required
def component_list(request):
    return _filtered_list(request, VIEW_COMPONENT, selectors.component_list_visible_to(request.user),
                          ComponentFilterSet, "registry/component_list.html", create_perm=CHANGE_COMPONENT)


@login_required
def component_detail(request, pk: int):
    component = selectors.component_get_visible(request.user, pk)
    return _edit_generic(request, component, ComponentForm, "registry/component_detail.html", {})


@login_required
def situation_list(request):
    require_perm_anywhere(request.user, ADD_SITUATION)
    grids = _grids(request.user, ADD_SITUATION)
    form = SituationLogForm(request.POST or None, grids=grids)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.situation_log_create(actor=request.user, grid=data["grid"], text=data["text"],
                                          place=data["place"], tags=data["tags"],
                                          follow_up_needed=data["follow_up_needed"])
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:situation_list")
    queryset = selectors.situation_list_visible_to(request.user)
    if _within(request):
        queryset = queryset.within(_within(request))
    filterset = SituationLogFilterSet(request.GET or None, queryset=queryset)
    rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
    return render(request, "registry/situation_list.html", {"filter": filterset, "page": _page(request, rows),
                                                            "form": form})


# -- change requests ---------------------------------------------------------------------------

@login_required
def change_request_list(request):
    require_perm_anywhere(request.user, VIEW_RESIDENT)
    queryset = selectors.change_request_list_visible_to(request.user)
    filterset = ChangeRequestFilterSet(request.GET or {"state": "pending"}, queryset=queryset)
    rows = filterset.qs if filterset.is_valid() else queryset
    return render(request, "registry/change_request_list.html", {"filter": filterset, "page": _page(request, rows)})


@login_required
def change_request_detail(request, pk: int):
    change_request = selectors.change_request_get_visible(request.user, pk)
    target = services.change_request_target(change_request)
    may_review = services.can(request.user, APPROVE_CHANGE, change_request.area_path)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw":
                services.change_request_withdraw(actor=request.user, change_request=change_request)
            elif not may_review:
                raise PermissionDenied
            elif form.is_valid() and action == "approve":
                services.change_request_approve(actor=request.user, change_request=change_request,
                                                note=form.cleaned_data["note"])
                messages.success(request, _("Approved; the record was updated."))
            elif form.is_valid() and action == "reject":
                services.change_request_reject(actor=request.user, change_request=change_request,
                                               note=form.cleaned_data["note"])
                messages.success(request, _("Rejected."))
        except services.ConflictError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("registry:change_request_detail", pk=change_request.pk)
    rows = []
    target_type = change_request.target_type
    for field, values in change_request.changes.items():
        current = records.current_value(target, field) if target is not None else None
        rows.append({"field": records.field_label(target_type, field),
                     "old": records.choice_label(target_type, field, values["old"]),
                     "new": records.choice_label(target_type, field, values["new"]),
                     "current": records.choice_label(target_type, field, records.to_json(field, current)
                                                     if field not in records.PII_FIELDS else current),
                     "stale": target is not None and not records.same_as_stored(field, current, values["old"])})
    return render(request, "registry/change_request_detail.html", {
        "cr": change_request, "target": target, "rows": rows, "form": form,
        "may_review": may_review and change_request.state == "pending"})


# -- search, needs, map layers -----------------------------------------------------------------

@login_required
def search(request):
    require_perm_anywhere(request.user, VIEW_RESIDENT)
    query = request.GET.get("q", "").strip()
    hits = selectors.registry_search(request.user, query) if query else []
    template = "registry/_search_results.html" if request.headers.get("HX-Request") else "registry/search.html"
    return render(request, template, {"q": query, "hits": hits})


@login_required
def needs(request, pk: int):
    area = area_get_visible(request.user, pk)
    if len(area.path) < 9 or not services.can(request.user, VIEW_RESIDENT, area.path):
        raise Http404
    data = selectors.needs_at_a_glance(request.user, area.path)
    children = {a.path: a for a in area_list_visible_to(request.user).filter(parent=area)}
    child_rows = []
    for path, child in sorted(children.items()):
        row = data["by_child"].get(path, {})
        child_rows.append({"area": child, "bands": [row.get(f"b{i}", 0) for i in range(len(data["bands"]))],
                           "under9": row.get("under9", 0), "total": row.get("total", 0),
                           "tags": [data["tag_by_child"].get((path, gid), 0) for gid, _n in data["groups"]]})
    return render(request, "registry/needs.html", {
        "area": area, "data": data, "child_rows": child_rows,
        "band_totals": [data["totals"].get(f"b{i}", 0) for i in range(len(data["bands"]))],
        "tag_totals": [data["tag_totals"].get(gid, 0) for gid, _n in data["groups"]],
        "group_totals": [(gid, name, data["tag_totals"].get(gid, 0)) for gid, name in data["groups"]],
        "list_url": reverse("registry:resident_list"),
    })


@login_required
def map_page(request):
    require_perm_anywhere(request.user, VIEW_COMPONENT)
    area = current_area(request)
    extent = selectors.building_extent(request.user, within=area.path if area else None)
    bounds = ",".join(str(v) for v in (extent[1], extent[0], extent[3], extent[2])) if extent else ""
    return render(request, "registry/map.html", {"area": area, "bounds": bounds})


def _bbox(text: str) -> tuple[float, float, float, float]:
    """`west,south,east,north` in degrees; ValueError with a message otherwise."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(_("bbox must be four numbers: west,south,east,north (degrees).")) from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(_("bbox must be four numbers: west,south,east,north (degrees)."))
    return west, south, east, north


@login_required
def map_buildings(request):
    """The visible buildings in `?bbox=west,south,east,north` (or all of the current area's), at most
    selectors.BUILDINGS_IN_VIEW of them; beyond that `"more": n` and no features (the map asks to zoom in)."""
    require_perm_anywhere(request.user, VIEW_RESIDENT)
    bbox = None
    if request.GET.get("bbox"):
        try:
            bbox = _bbox(request.GET["bbox"])
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(selectors.building_layer(request.user, within=_within(request), bbox=bbox),
                        content_type="application/geo+json")


@login_required
def map_components(request):
    require_perm_anywhere(request.user, VIEW_COMPONENT)
    return JsonResponse(selectors.component_layer(request.user, within=_within(request),
                                                  state=request.GET.get("state") or None),
                        content_type="application/geo+json")


# -- Excel import and export -------------------------------------------------------------------

@login_required
def import_template(request):
    require_perm_anywhere(request.user, IMPORT)
    response = HttpResponse(excel.resident_template(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''residents-template.xlsx"
    return response


@login_required
def import_start(request):
    require_perm_anywhere(request.user, IMPORT)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = excel.import_job_create(actor=request.user, upload=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect("registry:import_detail", pk=job.pk)
    return render(request, "registry/import_start.html", {
        "form": form, "jobs": selectors.import_job_list_for(request.user)[:20],
        "max_mb": excel.max_upload_bytes() // (1024 * 1024)})


def _own_job(request, pk: int) -> ImportJob:
    return get_object_or_404(selectors.import_job_list_for(request.user), pk=pk)


@login_required
def import_detail(request, pk: int):
    job = _own_job(request, pk)
    form = ImportConfirmForm(request.POST or None, initial={"duplicate_mode": job.duplicate_mode})
    if request.method == "POST" and form.is_valid():
        try:
            excel.import_job_confirm(actor=request.user, job=job, duplicate_mode=form.cleaned_data["duplicate_mode"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("registry:import_detail", pk=job.pk)
    return render(request, "registry/import_detail.html", {"job": job, "form": form,
                                                           "progress": excel.import_progress(job)})


@login_required
def import_progress(request, pk: int):
    job = _own_job(request, pk)
    return render(request, "registry/_import_progress.html", {"job": job, "progress": excel.import_progress(job)})


@login_required
def import_errors(request, pk: int):
    job = _own_job(request, pk)
    if not job.error_report:
        raise Http404
    return FileResponse(job.error_report.open("rb"), as_attachment=True, filename=f"errors-{job.pk}.xlsx")


@login_required
def resident_export(request):
    require_perm_anywhere(request.user, EXPORT)
    form = ExportForm(request.GET or None)
    if request.GET.get("go") and form.is_valid():
        unmasked = form.cleaned_data["unmasked"]
        if unmasked and not request.user.has_perm_anywhere(REVEAL_PII):
            raise PermissionDenied
        queryset = selectors.resident_list_visible_to(request.user, within=_within(request))
        filterset = ResidentFilterSet(request.GET, queryset=queryset, request=request)
        residents = filterset.qs if filterset.is_valid() else queryset
        try:
            content = excel.resident_export(actor=request.user, residents=residents, unmasked=unmasked,
                                            reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            response = HttpResponse(content,
                                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
            response["Content-Disposition"] = f"attachment; filename*=UTF-8''residents-{stamp}.xlsx"
            return response
    return render(request, "registry/export.html", {"form": form,
                                                    "may_reveal": request.user.has_perm_anywhere(REVEAL_PII)})
