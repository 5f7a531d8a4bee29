import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

from yiwang.accounts.selectors import current_area
from yiwang.geography.models import Area

from . import permissions as P
from . import selectors, services
from .appdata import app_data
from .corrections import correction_form_fields
from .forms import VisitIntervalForm
from .models import VisitMethod, VisitPurpose
from .schedule import household_interval

STATIC_DIR = Path(__file__).parent / "static" / "fieldwork"
SHELL_FILES = ("fieldwork/app.js", "fieldwork/app.css", "fieldwork/icon.svg",
               "vendor/leaflet-1.9.4/leaflet.js", "vendor/leaflet-1.9.4/leaflet.css")


@lru_cache(maxsize=1)
def shell_version() -> str:
    """Changes whenever the app's own files change, so the service worker refreshes its cache."""
    digest = hashlib.sha256()
    for name in ("app.js", "app.css", "sw.js"):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def _require_app(user) -> None:
    if not user.has_perm_anywhere(P.USE_APP):
        raise PermissionDenied


@login_required
@never_cache
def app(request):
    """The installable phone app (one page; the views are drawn by app.js from cached data)."""
    _require_app(request.user)
    get_token(request)  # the app reads the CSRF cookie for its API calls
    # Rendered without the request context: the shell is cached on the phone and needs no menu.
    # Labels follow the request's language (LocaleMiddleware: the language switch's cookie, else the browser).
    html = render_to_string("fieldwork/app.html", {"version": shell_version(), "tile_url": settings.YIWANG_TILE_URL,
                                                   "user_id": request.user.pk, "purposes": VisitPurpose.choices,
                                                   "methods": VisitMethod.choices,
                                                   "correction_fields": correction_form_fields()})
    return HttpResponse(html)


class AppCatalog(JavaScriptCatalog):
    """The strings app.js shows, in the request's language (gettext()/ngettext() in the browser).

    Only this app's djangojs catalog: a few KB. The service worker precaches it with the shell and
    fetches it network-first, so a language switch takes effect at the next online start.
    """

    domain = "djangojs"
    packages = ["yiwang.fieldwork"]

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "no-cache"
        return response


catalog = AppCatalog.as_view()


@login_required
@gzip_page
@never_cache
def data(request):
    """The worker's own grid data for offline use."""
    _require_app(request.user)
    return JsonResponse(app_data(request.user), json_dumps_params={"ensure_ascii": False})


@require_GET
def manifest(request):
    body = {
        "name": _("Yiwang · grid worker"), "short_name": _("Grid worker"), "lang": get_language(),
        "start_url": "/m/", "scope": "/m/",
        "display": "standalone", "orientation": "portrait", "background_color": "#ffffff", "theme_color": "#b3261e",
        "icons": [{"src": static("fieldwork/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
                  {"src": static("fieldwork/icon-192.png"), "sizes": "192x192", "type": "image/png"}],
    }
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@require_GET
def service_worker(request):
    """The service worker, served under /m/ so its scope is the app; it holds no personal data."""
    source = (STATIC_DIR / "sw.js").read_text()
    localised = ["/m/", "/m/manifest.webmanifest", reverse("fieldwork:jsi18n")]
    shell = localised + [static(name) for name in SHELL_FILES]
    source = (source.replace("__VERSION__", shell_version()).replace("__SHELL__", json.dumps(shell))
              .replace("__LOCALISED__", json.dumps(localised)))
    response = HttpResponse(source, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/m/"
    return response


@login_required
def coverage(request):
    """Coverage per grid and per worker, for community and subdistrict staff."""
    if not request.user.has_perm_anywhere(P.VIEW_COVERAGE):
        raise PermissionDenied
    area = current_area(request)
    if request.GET.get("area", "").isdigit():
        area = Area.objects.visible_to(request.user, P.VIEW_COVERAGE).filter(pk=int(request.GET["area"])).first() or area
    today = timezone.localdate()
    error = ""
    start = parse_date(request.GET.get("start") or "") if request.GET.get("start") else today - dt.timedelta(days=29)
    end = parse_date(request.GET.get("end") or "") if request.GET.get("end") else today
    if start is None or end is None or start > end or (end - start).days > 366:
        error = _("Choose a period of at most one year, the start before the end.")
        start, end = today - dt.timedelta(days=29), today
    result = selectors.coverage(request.user, within=area.path if area else "~", start=start, end=end, today=today,
                                due_rows=DUE_ROWS_SHOWN)
    visits = selectors.visit_list_visible_to(request.user, within=area.path if area else "~")[:30]
    grid_names = {r["grid"].pk: r["grid"].name for r in result["grids"]}
    due = [(row, grid_names.get(row.grid_id, "")) for row in result["due"]]
    return render(request, "fieldwork/coverage.html", {
        "area": area, "data": result, "visits": visits, "error": error, "due": due,
        "due_more": max(0, result["due_count"] - len(due)),
        "may_set_interval": request.user.has_perm_anywhere(P.SET_VISIT_SCHEDULE)})


DUE_ROWS_SHOWN = 50


@login_required
def interval(request, pk: int):
    """Set, change or remove one household's own visit interval (community staff), and see when it
    is due. Households outside the user's communities are 404."""
    from yiwang.registry.models import Household

    if not request.user.has_perm_anywhere(P.SET_VISIT_SCHEDULE):
        raise PermissionDenied
    household = get_object_or_404(Household.objects.visible_to(request.user, P.SET_VISIT_SCHEDULE)
                                  .select_related("grid"), pk=pk)
    if request.method == "POST" and "clear" in request.POST:
        if services.visit_schedule_clear(actor=request.user, household=household):
            messages.success(request, _("The household's own interval was removed."))
        return redirect("fieldwork:interval", pk=household.pk)
    form = VisitIntervalForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.visit_schedule_set(actor=request.user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("interval_days", exc.message_dict.get("interval_days", exc.messages))
        else:
            messages.success(request, _("Saved: visit every %(n)d days.") % {"n": form.cleaned_data["interval_days"]})
            return redirect("fieldwork:interval", pk=household.pk)
    detail = household_interval(request.user, household, group_label=selectors._group_label_for(request.user))
    if not form.is_bound and detail["own"] is not None:
        form = VisitIntervalForm(initial={"interval_days": detail["own"].interval_days, "note": detail["own"].note})
    return render(request, "fieldwork/interval.html", {"household": household, "form": form, **detail})
