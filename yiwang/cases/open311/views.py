"""Open311 GeoReport v2 server, strict to the spec (see reference/civic-case-management.md §C).

* `.json` answers bare arrays (service_definition is an object), `.xml` a root element without namespace.
* Errors: 404 missing resource, 403 missing/bad api_key, 400 anything else, body a list of
  {code, description} (XML <errors><error>).
* `jurisdiction_id` is optional (one jurisdiction, settings.YIWANG_OPEN311_JURISDICTION); a different
  value is 404.
* POST requires api_key = an accounts ApiToken key; the token's user needs cases.add_case where the
  point lies. Requests are realtime: the tracking code is the service_request_id (and the token).
* Extension: mySociety's servicerequestupdates (GET public steps as updates; POST with api_key adds
  a note, de-duplicated by update_id). `Idempotency-Key` header (or idempotency_key) on POST requests.
"""

import re
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from yiwang.accounts.models import ApiToken

from .. import services as case_services
from ..models import Attachment, Case, CaseStep, Category, Channel
from ..workflow import Action, State

MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)

STATUS = {  # internal state -> (GeoReport status, FixMyStreet extended status)
    State.REPORTED: ("open", "OPEN"), State.ACCEPTED: ("open", "OPEN"), State.DISPATCHED: ("open", "INVESTIGATING"),
    State.IN_PROGRESS: ("open", "IN_PROGRESS"), State.TO_VERIFY: ("open", "IN_PROGRESS"),
    State.VERIFIED: ("open", "ACTION_SCHEDULED"), State.CLOSED: ("closed", "FIXED"),
    State.REJECTED: ("closed", "NOT_COUNCILS_RESPONSIBILITY"), State.CANCELLED: ("closed", "CANCELLED"),
    State.MERGED: ("closed", "DUPLICATE"),
}


def jurisdiction() -> str:
    return getattr(settings, "YIWANG_OPEN311_JURISDICTION", "lishi.gov.cn")


# -- rendering ------------------------------------------------------------------------------------------
def _xml_value(parent, key, value, item_tags):
    if isinstance(value, list):
        holder = ET.SubElement(parent, key)
        for item in value:
            _xml_value(holder, item_tags.get(key, key[:-1] if key.endswith("s") else "item"), item, item_tags)
    elif isinstance(value, dict):
        node = ET.SubElement(parent, key)
        for k, v in value.items():
            _xml_value(node, k, v, item_tags)
    else:
        node = ET.SubElement(parent, key)
        if value is not None:
            node.text = str(value).lower() if isinstance(value, bool) else str(value)


ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
             "values": "value", "endpoints": "endpoint", "formats": "format",
             "service_request_updates": "request_update"}


def render(fmt: str, root: str, data, status: int = 200):
    """`data` is a list (rendered as root/item) or a dict (rendered as root with children)."""
    if fmt == "json":
        response = JsonResponse(data, safe=False, status=status, json_dumps_params={"ensure_ascii": False})
        response["Content-Type"] = "application/json; charset=utf-8"
    else:
        top = ET.Element(root)
        if isinstance(data, list):
            for item in data:
                _xml_value(top, ITEM_TAGS.get(root, "item"), item, ITEM_TAGS)
        else:
            for k, v in data.items():
                _xml_value(top, k, v, ITEM_TAGS)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
        response = HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def error(fmt: str, status: int, *descriptions: str):
    return render(fmt or "xml", "errors", [{"code": status, "description": d} for d in descriptions], status=status)


def _param(request, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def _check_jurisdiction(request, fmt):
    given = _param(request, "jurisdiction_id")
    if given and given != jurisdiction():
        return error(fmt, 404, _("jurisdiction_id %(id)s not found") % {"id": given})
    return None


def _user_for_key(request):
    key = _param(request, "api_key")
    if not key:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(key)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    return token.user


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _parse_date(text: str):
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _public_categories():
    return Category.objects.filter(active=True, public=True, children__isnull=True).select_related("parent")


# -- endpoints ------------------------------------------------------------------------------------------
@require_http_methods(["GET"])
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:not_found", kwargs={"rest": ""}))
    changeset = Category.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    data = {
        "changeset": f"{changeset}",
        "contact": getattr(settings, "YIWANG_OPEN311_CONTACT", "离石区综治中心 0358-0000000"),
        "key_service": _("Ask the district governance centre for an API token (accounts → API tokens)."),
        "max_requests": MAX_REQUESTS,
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base.rstrip("/"),
                       "changeset": f"{changeset}", "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    }
    return render(fmt, "discovery", data)


@require_http_methods(["GET"])
def services(request, fmt):
    if (bad := _check_jurisdiction(request, fmt)) is not None:
        return bad
    data = [{"service_code": c.code, "service_name": c.name,
             "description": f"{c.parent.name if c.parent else ''} · {c.name}", "metadata": bool(c.attributes),
             "type": "realtime", "keywords": c.keywords, "group": c.parent.name if c.parent else ""}
            for c in _public_categories().order_by("code")]
    return render(fmt, "services", data)


@require_http_methods(["GET"])
def service_definition(request, fmt, code):
    if (bad := _check_jurisdiction(request, fmt)) is not None:
        return bad
    category = _public_categories().filter(code=code).first()
    if category is None:
        return error(fmt, 404, _("service_code %(code)s not found") % {"code": code})
    attributes = []
    for n, attr in enumerate(sorted(category.attributes or [], key=lambda a: a.get("order", 0)), start=1):
        item = {"variable": attr.get("variable", True), "code": attr["code"], "datatype": attr.get("datatype", "string"),
                "required": bool(attr.get("required")), "datatype_description": attr.get("datatype_description", ""),
                "order": attr.get("order", n), "description": attr.get("description", "")}
        if item["datatype"] in ("singlevaluelist", "multivaluelist"):
            item["values"] = [{"key": v["key"], "name": v["name"]} for v in attr.get("values", [])]
        attributes.append(item)
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": attributes})


def _request_row(case: Case, request) -> dict:
    """One service request as the spec lists it; `case` comes from _with_public_notes (its latest public
    note and first public photo read in the same query, not two more per row)."""
    status, _extended = STATUS[case.state]
    media = (request.build_absolute_uri(reverse("cases:public_photo", args=[case.tracking_code, case.public_photo]))
             if case.public_photo else "")
    return {
        "service_request_id": case.tracking_code, "status": status,
        "status_notes": (case.public_note or "")[:500],
        "service_name": case.category.name, "service_code": case.category.code, "description": case.description,
        "agency_responsible": case.department.name if case.department else "", "service_notice": "",
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.closed_at if status == "closed" and case.closed_at else case.updated_at),
        "expected_datetime": _iso(case.due_at), "address": case.address, "address_id": "", "zipcode": "",
        "lat": case.lat, "long": case.lon, "media_url": media,
    }


def _public_cases():
    return Case.objects.filter(category__public=True).select_related("category", "department")


def _with_public_notes(cases):
    """The comment of each case's latest public step after its report, and its first photo of a public step."""
    note = (CaseStep.objects.filter(case=OuterRef("pk"), public=True).exclude(action=Action.CREATE)
            .order_by("-at", "-id").values("comment")[:1])
    photo = Attachment.objects.filter(case=OuterRef("pk"), step__public=True).order_by("id").values("pk")[:1]
    return cases.annotate(public_note=Subquery(note), public_photo=Subquery(photo))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests(request, fmt):
    if (bad := _check_jurisdiction(request, fmt)) is not None:
        return bad
    if request.method == "POST":
        return _create(request, fmt)
    qs = _public_cases()
    ids = _param(request, "service_request_id")
    if ids:
        qs = qs.filter(tracking_code__in=[i.strip().upper() for i in ids.split(",") if i.strip()])
    else:
        codes = _param(request, "service_code")
        if codes:
            qs = qs.filter(category__code__in=[c.strip() for c in codes.split(",") if c.strip()])
        try:
            end = _parse_date(_param(request, "end_date")) if _param(request, "end_date") else timezone.now()
            start = _parse_date(_param(request, "start_date")) if _param(request, "start_date") else end - MAX_SPAN
        except ValueError:
            return error(fmt, 400, _("start_date and end_date must be W3C datetimes, e.g. 2026-11-01T00:00:00+08:00"))
        if end - start > MAX_SPAN or end < start:
            return error(fmt, 400, _("The date range must be at most 90 days."))
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        statuses = {s.strip() for s in _param(request, "status").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return error(fmt, 400, _("status must be open, closed or both."))
        if statuses and len(statuses) == 1:
            wanted = [state for state, (s, _e) in STATUS.items() if s in statuses]
            qs = qs.filter(state__in=wanted)
    rows = [_request_row(c, request) for c in _with_public_notes(qs).order_by("-created_at")[:MAX_REQUESTS]]
    return render(fmt, "service_requests", rows)


def _create(request, fmt):
    user = _user_for_key(request)
    if user is None:
        return error(fmt, 403, _("api_key is missing or not valid."))
    code = _param(request, "service_code")
    if not code:
        return error(fmt, 400, _("service_code is required."))
    category = _public_categories().filter(code=code).first()
    if category is None:
        return error(fmt, 404, _("service_code %(code)s not found") % {"code": code})
    lat, lon = _param(request, "lat"), _param(request, "long")
    if not lat or not lon:
        return error(fmt, 400, _("lat and long are required: this jurisdiction locates requests by coordinates."))
    try:
        lat_f, lon_f = float(lat), float(lon)
    except ValueError:
        return error(fmt, 400, _("lat and long must be decimal degrees (WGS-84)."))
    attributes, problems = {}, []
    for key, values in request.POST.lists():
        match = re.fullmatch(r"attribute\[([\w-]+)\](\[\])?", key)
        if match:
            attributes[match.group(1)] = values if match.group(2) else values[0]
    for attr in category.attributes or []:
        value = attributes.get(attr["code"])
        if attr.get("required") and not value:
            problems.append(_("attribute[%(code)s] is required.") % {"code": attr["code"]})
        allowed = {v["key"] for v in attr.get("values", [])}
        if value and allowed:
            given = value if isinstance(value, list) else [value]
            if any(v not in allowed for v in given):
                problems.append(_("attribute[%(code)s] has a value that is not in its list.") % {"code": attr["code"]})
    description = _param(request, "description")
    if len(description) > 4000:
        problems.append(_("description is limited to 4000 characters."))
    if problems:
        return error(fmt, 400, *problems)
    name = " ".join(p for p in (_param(request, "last_name"), _param(request, "first_name")) if p)
    media = _param(request, "media_url")
    text = description or category.name
    if media:
        text += f"\n{media}"
    key = request.headers.get("Idempotency-Key", "") or _param(request, "idempotency_key")
    try:
        case = case_services.case_create(
            actor=user, channel=Channel.OPEN311, category=category, lon=lon_f, lat=lat_f, description=text,
            address=_param(request, "address_string"), reporter_name=name, reporter_phone=_param(request, "phone"),
            idempotency_key=key)
    except ValidationError as exc:
        messages = [m for msgs in exc.message_dict.values() for m in msgs] if hasattr(exc, "error_dict") else exc.messages
        return error(fmt, 400, *messages)
    except PermissionDenied:
        return error(fmt, 403, _("This api_key may not submit requests at that location."))
    if attributes:
        CaseStep.objects.filter(case=case, action=Action.CREATE).update(data={"channel": "open311",
                                                                              "attributes": attributes})
    return render(fmt, "service_requests", [{"service_request_id": case.tracking_code, "service_notice": "",
                                             "account_id": None}])


@require_http_methods(["GET"])
def request_detail(request, fmt, request_id):
    if (bad := _check_jurisdiction(request, fmt)) is not None:
        return bad
    case = _with_public_notes(_public_cases()).filter(tracking_code=request_id.upper()).first()
    if case is None:
        return error(fmt, 404, _("service_request_id %(id)s not found") % {"id": request_id})
    return render(fmt, "service_requests", [_request_row(case, request)])


@require_http_methods(["GET"])
def token(request, fmt, token):
    if (bad := _check_jurisdiction(request, fmt)) is not None:
        return bad
    case = _public_cases().filter(tracking_code=token.upper()).first()
    if case is None:
        return error(fmt, 404, _("token %(token)s not found") % {"token": token})
    return render(fmt, "service_requests", [{"service_request_id": case.tracking_code, "token": token}])


@csrf_exempt
@require_http_methods(["GET", "POST"])
def updates(request, fmt):
    if (bad := _check_jurisdiction(request, fmt)) is not None:
        return bad
    if request.method == "POST":
        return _post_update(request, fmt)
    try:
        end = _parse_date(_param(request, "end_date")) if _param(request, "end_date") else timezone.now()
        start = _parse_date(_param(request, "start_date")) if _param(request, "start_date") else end - timedelta(hours=2)
    except ValueError:
        return error(fmt, 400, _("start_date and end_date must be W3C datetimes, e.g. 2026-11-01T00:00:00+08:00"))
    if end - start > MAX_SPAN or end < start:
        return error(fmt, 400, _("The date range must be at most 90 days."))
    steps = (CaseStep.objects.filter(public=True, at__gte=start, at__lte=end, case__category__public=True)
             .select_related("case").order_by("at", "id")[:MAX_REQUESTS])
    rows = [{"update_id": str(s.pk), "service_request_id": s.case.tracking_code,
             "status": STATUS[s.to_state][1] if s.to_state in STATUS else "OPEN", "updated_datetime": _iso(s.at),
             "description": s.comment, "media_url": ""} for s in steps]
    return render(fmt, "service_request_updates", rows)


def _post_update(request, fmt):
    user = _user_for_key(request)
    if user is None:
        return error(fmt, 403, _("api_key is missing or not valid."))
    missing = [f for f in ("service_request_id", "update_id", "updated_datetime", "status", "description")
               if not _param(request, f)]
    if missing:
        return error(fmt, 400, *[_("%(field)s is required.") % {"field": f} for f in missing])
    case = _public_cases().filter(tracking_code=_param(request, "service_request_id").upper()).first()
    if case is None:
        return error(fmt, 404, _("service_request_id %(id)s not found") % {"id": _param(request, "service_request_id")})
    update_id = _param(request, "update_id")[:64]
    existing = case.steps.filter(external_id=update_id).first()
    if existing is None:
        try:
            case_services.case_act(actor=user, case=case, action=Action.NOTE, expected_version=None,
                                   comment=_param(request, "description")[:2000], external_id=update_id)
        except PermissionDenied:
            return error(fmt, 403, _("This api_key may not update that request."))
        except ValidationError as exc:
            return error(fmt, 400, *exc.messages)
    return render(fmt, "service_request_updates", [{"update_id": update_id}])


def not_found(request, rest=""):
    fmt = "json" if rest.endswith(".json") else "xml"
    return error(fmt, 404, _("No such Open311 resource: %(path)s") % {"path": rest or "/"})
