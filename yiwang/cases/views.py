"""Pages: work queues, intake, case detail with actions, the phone verify screen, indicators, the inbox,
and the public pages (report without an account, tracking, rating)."""

import uuid
from datetime import datetime, time, timedelta
from html import escape

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.accounts.selectors import active_department_choices, current_area, department_list_visible_to
from yiwang.core import fragments
from yiwang.geography.models import Area, Building

from . import indicator_sources, selectors, services
from .filtersets import CaseFilterSet
from .forms import ActionForm, IntakeForm, PublicIntakeForm
from .models import Attachment, Category, Channel
from .permissions import ADD_CASE, VIEW_INDICATORS, may_see_cases
from .reveal import reveal_context
from .workflow import BUTTON_ACTIONS, TRANSITIONS, Action, State, SupervisionMark

PAGE_SIZE = 50
PHOTO_ACTIONS = {Action.HANDLE, Action.REPORT_BACK, Action.VERIFY_PASS, Action.VERIFY_FAIL, Action.RESOLVE_ON_SPOT}
PUBLIC_TRACKING_DAYS = 365


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


def _errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
    return " ".join(exc.messages)


# -- queue -------------------------------------------------------------------------------------------
BULK_ACTIONS = (Action.ACCEPT, Action.DISPATCH, Action.SUPERVISE, Action.CLOSE, Action.ESCALATE)
QUEUE_FILTERS = ("state", "overdue", "category", "area", "channel", "department", "level", "supervision", "review",
                 "code")


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


# One queue row, filled with str.format from escaped values rather than by a template loop: fifty rows
# of ten cells cost the template engine about 5 ms per page (a variable lookup, localisation and
# escaping per cell), and Django's lazy-aware escape() about 3 ms; this takes well under 1 ms.
QUEUE_ROW = ('<tr><td><input type="checkbox" name="ids" value="{id}" aria-label="{code}"></td>'
             '<td><a href="{url}">{code}</a></td><td>{category}</td><td class="wide">{grid}</td>'
             '<td><span class="case-state state-{state}">{state_label}</span>{mark}</td>'
             '<td class="wide">{level}</td><td class="wide">{department}</td><td{late}>{deadline}</td>'
             '<td class="wide">{channel}</td><td class="wide">{reported}</td></tr>')
QUEUE_MARK = ' <span class="case-mark mark-{}" title="{}">●</span>'


def _queue_rows_html(rows: list[dict], now) -> str:
    """The queue's table rows: labels from dicts built once per page (not a get_*_display per row),
    local times formatted once per cell, the link filled into one reversed URL."""
    states = {value: escape(str(label)) for value, label in State.choices}
    channels = {value: escape(str(label)) for value, label in Channel.choices}
    marks = {value: QUEUE_MARK.format(escape(value), escape(str(label))) if value else ""
             for value, label in SupervisionMark.choices}
    link = reverse("cases:detail", args=[0]).replace("/0/", "/{}/")
    tz = timezone.get_current_timezone()

    def local(moment):
        return moment.astimezone(tz).strftime("%m-%d %H:%M") if moment else "—"

    html = []
    for r in rows:
        code = escape(r["tracking_code"])
        html.append(QUEUE_ROW.format(
            id=r["id"], url=link.format(r["id"]), code=code, category=escape(r["category__name"]),
            grid=escape(r["grid__name"]), state=escape(r["state"]), state_label=states.get(r["state"], ""),
            mark=marks.get(r["supervision"], ""), level=r["level"], department=escape(r["department__name"] or "—"),
            late=' class="overdue"' if r["deadline"] and r["deadline"] < now else "", deadline=local(r["deadline"]),
            channel=channels.get(r["channel"], ""), reported=local(r["created_at"])))
    return mark_safe("".join(html))  # every value above is escaped or a number, a date or a constant


def _filter_controls(form) -> list[dict]:
    """The filter form's fields (but the state list) as plain data for the template: Django renders each
    widget through its own template, about 0.5 ms apiece; the widgets still choose what is selected."""
    controls = []
    for field in form:
        if field.name == "state":
            continue
        widget, value = field.field.widget, field.value()
        control = {"name": field.html_name, "label": field.label}
        if isinstance(widget, forms.Select):
            current = widget.format_value(value)
            current = [current] if isinstance(current, str) else current
            control["options"] = [(str(v), str(label), str(v) in current) for v, label in widget.choices]
        else:
            control["type"], control["value"] = widget.input_type, "" if value is None else value
        controls.append(control)
    return controls


@login_required
def queue(request):
    """Work queue with filters and keyset pagination (newest first, `before=<id>` / `after=<id>`; no COUNT(*))."""
    _require(may_see_cases(request.user))
    base = selectors.case_queue(request.user)
    area = current_area(request)
    if area is not None and request.user.has_perm_anywhere("cases.view_case"):
        base = base.within(area.path)
    params = request.GET.copy()
    if not any(k in params for k in QUEUE_FILTERS):
        params.setlist("state", ["open"])
    filterset = CaseFilterSet(params, queryset=base)
    page = selectors.case_queue_page(filterset.qs, before=_int_param(request, "before"),
                                     after=_int_param(request, "after"), size=PAGE_SIZE)
    newest = request.GET.copy()
    paged = newest.pop("before", None) is not None
    paged |= newest.pop("after", None) is not None
    links = {"newest": newest.urlencode()} if paged else {}
    for name, key, value in (("newer", "after", page.newer_than), ("older", "before", page.older_than)):
        if value is not None:
            q = newest.copy()
            q[key] = value
            links[name] = q.urlencode()
    # The filter form and the bulk-action fields are rendered once per process for the same inputs (the
    # language, the filter parameters; the departments offered, read afresh): see core.fragments.
    language = get_language()
    filters_key = (language, tuple((name, tuple(params.getlist(name))) for name in QUEUE_FILTERS))
    filters_html = fragments.rendered(filters_key, "cases/_queue_filters.html", lambda: {
        "filter_controls": _filter_controls(filterset.form), "states": State.choices,
        "selected_states": params.getlist("state")})
    departments = tuple(active_department_choices(request.user))
    bulk_html = fragments.rendered((language, departments), "cases/_queue_bulk.html", lambda: {
        "bulk_actions": [(a, TRANSITIONS[a]) for a in BULK_ACTIONS],
        "departments": [{"id": pk, "name": name} for pk, name in departments]})
    return render(request, "cases/queue.html", {
        "filters_html": filters_html, "rows": _queue_rows_html(page.rows, timezone.now()),
        "links": links, "page_size": PAGE_SIZE, "bulk_html": bulk_html,
        "can_add": request.user.has_perm_anywhere(ADD_CASE),
    })


@login_required
@require_POST
def bulk_act(request):
    _require(may_see_cases(request.user))
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()][:200]
    action = request.POST.get("action", "")
    if not ids or action not in TRANSITIONS:
        messages.error(request, _("Choose cases and an action."))
        return redirect(request.POST.get("next") or reverse("cases:queue"))
    cases = selectors.case_list_visible_to(request.user).filter(pk__in=ids).select_related("category")
    fields = {"comment": request.POST.get("comment", ""), "mark": request.POST.get("mark", "")}
    if request.POST.get("department", "").isdigit():
        fields["department"] = department_list_visible_to(request.user).filter(
            pk=int(request.POST["department"])).first()
    done, errors = services.case_bulk_act(actor=request.user, cases=list(cases), action=action, **fields)
    if done:
        messages.success(request, _("%(n)d cases updated.") % {"n": done})
    for error in errors[:10]:
        messages.error(request, error)
    return redirect(request.POST.get("next") or reverse("cases:queue"))


# -- intake -------------------------------------------------------------------------------------------
@login_required
def case_new(request):
    """Report a case (grid worker on a phone, or staff at the counter / hotline on behalf of a resident)."""
    _require(request.user.has_perm_anywhere(ADD_CASE))
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_create(
                    actor=request.user, channel=data["channel"], category=data["category"], lon=data["lon"],
                    lat=data["lat"], description=data["description"], photos=data["photos"],
                    idempotency_key=data["idempotency_key"], address=data["address"], building=data["building"],
                    reporter_name=data["reporter_name"], reporter_phone=data["reporter_phone"],
                    resolve_on_spot=data["resolve_on_spot"])
            except ValidationError as exc:
                for field, errs in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
                    for err in errs:
                        form.add_error(field if field in form.fields else None, err)
            else:
                messages.success(request, _("Case %(code)s recorded.") % {"code": case.tracking_code})
                return redirect("cases:detail", pk=case.pk)
    else:
        area = current_area(request)
        initial = {"idempotency_key": uuid.uuid4().hex}
        if area is not None and area.centroid_lon:
            initial.update(lon=area.centroid_lon, lat=area.centroid_lat)
        roles = request.user.roles()
        initial["channel"] = Channel.GRID_WORKER if "grid_worker" in roles else Channel.COUNTER
        form = IntakeForm(initial=initial)
    return render(request, "cases/case_new.html", {"form": form})


@login_required
@require_GET
def duplicates(request):
    """htmx: open cases nearby in a related category, similar text first."""
    _require(request.user.has_perm_anywhere(ADD_CASE) or may_see_cases(request.user))
    category = Category.objects.filter(code=request.GET.get("category", "")).first()
    try:
        lon, lat = float(request.GET.get("lon", "")), float(request.GET.get("lat", ""))
    except ValueError:
        return render(request, "cases/_duplicates.html", {"candidates": []})
    found = selectors.duplicate_candidates(request.user, category=category, lon=lon, lat=lat,
                                           text=request.GET.get("description", ""))
    return render(request, "cases/_duplicates.html", {"candidates": found})


@login_required
@require_GET
def buildings_near(request):
    """JSON: the visible buildings nearest to lon/lat (to pick an address)."""
    _require(request.user.has_perm_anywhere(ADD_CASE))
    try:
        lon, lat = float(request.GET.get("lon", "")), float(request.GET.get("lat", ""))
    except ValueError:
        return JsonResponse({"buildings": []})
    d = 0.003
    qs = (Building.objects.visible_to(request.user, "geography.view_building")
          .filter(lon__range=(lon - d, lon + d), lat__range=(lat - d, lat + d)))[:200]
    nearest = sorted(qs, key=lambda b: (b.lon - lon) ** 2 + (b.lat - lat) ** 2)[:10]
    return JsonResponse({"buildings": [{"id": b.pk, "name": b.name, "address": b.address, "lon": b.lon,
                                        "lat": b.lat} for b in nearest]})


# -- case pages ----------------------------------------------------------------------------------------
@login_required
def case_detail(request, pk: int):
    case = selectors.case_get_visible(request.user, pk)
    actions = [{"code": a, "label": Action(a).label, "required": TRANSITIONS[a].required,
                "photos": a in PHOTO_ACTIONS}
               for a in services.allowed_actions(request.user, case) if a in BUTTON_ACTIONS]
    return render(request, "cases/case_detail.html", {
        "case": case, "steps": selectors.case_steps(case), "actions": actions,
        "mode_name": case.category.mode(case.handling_mode).get("name", "") if case.handling_mode else "", "form": ActionForm(initial={"version": case.version}),
        "departments": department_list_visible_to(request.user).filter(active=True),
        "suggested": services.suggested_department(case), "now": timezone.now(),
        "duplicates": selectors.duplicate_candidates(request.user, category=case.category, lon=case.lon, lat=case.lat,
                                                     text=case.description, exclude_pk=case.pk)
        if case.state in (State.REPORTED, State.ACCEPTED) else [],
        **reveal_context(request.user, case),
    })


@login_required
@require_POST
def case_act(request, pk: int, action: str):
    case = selectors.case_get_visible(request.user, pk)
    form = ActionForm(request.POST, request.FILES)
    target = request.POST.get("next") or reverse("cases:detail", args=[case.pk])
    if not form.is_valid():
        messages.error(request, " ".join(f"{e}" for errs in form.errors.values() for e in errs))
        return redirect(target)
    data = form.cleaned_data
    merged_into = None
    if data["merged_into"]:
        merged_into = selectors.case_list_visible_to(request.user).filter(
            tracking_code=data["merged_into"].strip().upper()).first()
        if merged_into is None:
            messages.error(request, _("No open case with that tracking code in your area."))
            return redirect(target)
    department = None
    if data["department"]:
        department = department_list_visible_to(request.user).filter(pk=data["department"]).first()
    try:
        services.case_act(actor=request.user, case=case, action=action, expected_version=data["version"],
                          comment=data["comment"], department=department, reason_code=data["reason_code"],
                          days=data["days"], mark=data["mark"], responsible=data["responsible"],
                          merged_into=merged_into, photos=data["photos"])
    except services.CaseConflict as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    except PermissionDenied:
        messages.error(request, _("This step is not yours to take on this case."))
    else:
        messages.success(request, _("%(action)s: done.") % {"action": Action(action).label})
    return redirect(target)


@login_required
def case_verify(request, pk: int):
    """Phone screen for on-site verification: the case, its handler's report, a photo, pass or fail."""
    case = selectors.case_get_visible(request.user, pk)
    report = case.steps.filter(action=Action.REPORT_BACK).order_by("-at").prefetch_related("attachments").first()
    can_verify = services.actor_can(request.user, case, "verify") and case.state == State.TO_VERIFY
    return render(request, "cases/case_verify.html", {"case": case, "report": report, "can_verify": can_verify,
                                                      "form": ActionForm(initial={"version": case.version})})


@login_required
@require_GET
def attachment(request, pk: int):
    item = Attachment.objects.filter(pk=pk).first()
    if item is None:
        raise Http404
    selectors.case_get_visible(request.user, item.case_id)
    return FileResponse(item.file.open("rb"), content_type="image/jpeg")


# -- indicators --------------------------------------------------------------------------------------
def _period(request):
    today = timezone.localdate()
    try:
        start = datetime.fromisoformat(request.GET.get("start", "")).date()
    except ValueError:
        start = today.replace(day=1) - timedelta(days=60)
    try:
        end = datetime.fromisoformat(request.GET.get("end", "")).date()
    except ValueError:
        end = today
    tz = timezone.get_current_timezone()
    return start, end, datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


@login_required
def indicators(request):
    _require(request.user.has_perm_anywhere(VIEW_INDICATORS))
    start, end, period_start, period_end = _period(request)
    group_by = request.GET.get("by", "area")
    if group_by not in ("area", "department", "person"):
        group_by = "area"
    area = current_area(request)
    code = request.GET.get("area", "")
    if code.isdigit():
        area = Area.objects.visible_to(request.user, "geography.view_area").filter(path=code).first() or area
    # From the dashboards' daily rollups when they can answer (indicator_sources), else the raw steps.
    total, rows = indicator_sources.indicator_table(request.user, area=area, period_start=period_start,
                                                    period_end=period_end, group_by=group_by)
    return render(request, "cases/indicators.html", {
        "total": total, "rows": rows, "labels": selectors.RATE_LABELS, "start": start,
        "end": end, "by": group_by, "area": area,
    })


# -- public pages (no account) ----------------------------------------------------------------------
def public_new(request):
    """A resident reports a problem without an account; the phone is verified with an SMS code."""
    if request.method == "POST":
        form = PublicIntakeForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.phone_code_check(phone=data["phone"], code=data["code"])
                case = services.case_create(
                    actor=None, channel=Channel.RESIDENT_WEB, category=data["category"], lon=data["lon"],
                    lat=data["lat"], description=data["description"], photos=data["photos"],
                    idempotency_key=data["idempotency_key"], address=data["address"], reporter_name=data["name"],
                    reporter_phone=data["phone"])
            except ValidationError as exc:
                for field, errs in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
                    for err in errs:
                        form.add_error(field if field in form.fields else None, err)
            else:
                return redirect("cases:track_detail", code=case.tracking_code)
    else:
        form = PublicIntakeForm(initial={"idempotency_key": uuid.uuid4().hex})
    centre = Area.objects.filter(level=1).values("centroid_lon", "centroid_lat").first() or {}
    return render(request, "cases/public_new.html", {"form": form, "centre": centre})


@require_POST
def public_send_code(request):
    try:
        services.phone_code_send(phone=request.POST.get("phone", ""))
    except ValidationError as exc:
        return render(request, "cases/_code_status.html", {"error": _errors_text(exc)})
    return render(request, "cases/_code_status.html", {"sent": True})


def track(request):
    code = request.GET.get("code", "").strip().upper()
    if code:
        return redirect("cases:track_detail", code=code)
    return render(request, "cases/track.html", {})


def _public_case(code: str):
    """The case for a tracking code, or an error message (malformed, unknown or expired)."""
    if not services.tracking_code_is_well_formed(code):
        return None, _("This tracking code is not valid. Check it and try again.")
    case = selectors.case_by_tracking_code(code)
    if case is None:
        return None, _("This tracking code is not valid. Check it and try again.")
    if case.closed_at and case.closed_at < timezone.now() - timedelta(days=PUBLIC_TRACKING_DAYS):
        return None, _("This request was closed more than a year ago; its tracking page has expired.")
    return case, None


def track_detail(request, code: str):
    """What a resident sees: category, state, public steps and public photos; no personal data."""
    case, error = _public_case(code)
    if case is None:
        return render(request, "cases/track.html", {"error": error, "code": code}, status=404)
    steps = selectors.case_steps(case, public_only=True)
    return render(request, "cases/track_detail.html", {"case": case, "steps": steps})


@require_POST
def track_rate(request, code: str):
    case, error = _public_case(code)
    if case is None:
        return render(request, "cases/track.html", {"error": error, "code": code}, status=404)
    try:
        if request.POST.get("rating") == "unsolved":
            services.case_act(actor=None, case=case, action=Action.REOPEN, expected_version=None, tracking_code=code,
                              comment=request.POST.get("comment", "") or _("The resident says it is not solved."))
            messages.success(request, _("Thank you. The request has been reopened."))
        else:
            services.case_rate(actor=None, case=case, rating=request.POST.get("rating"), tracking_code=code,
                               comment=request.POST.get("comment", ""))
            messages.success(request, _("Thank you for your rating."))
    except (ValidationError, PermissionDenied, services.CaseConflict) as exc:
        messages.error(request, _errors_text(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("cases:track_detail", code=case.tracking_code)


def public_photo(request, code: str, pk: int):
    case, _error = _public_case(code)
    item = Attachment.objects.filter(pk=pk, case=case, step__public=True).first() if case else None
    if item is None:
        raise Http404
    return FileResponse(item.public_file.open("rb"), content_type="image/jpeg")
