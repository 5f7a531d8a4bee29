from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_warnings
from .tasks import HEARTBEAT_CACHE_KEY


@login_required
def home(request):
    """Staff start on the map; everyone else (residents, volunteers) on a page of what they may do."""
    if request.user.has_perm_anywhere("geography.view_area"):
        return redirect("geography:map")
    return render(request, "core/home.html")


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # report, do not crash the probe
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured (tasks run in-process)"
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness for load balancers: the database and, when configured, the broker; apps'
    warnings for operators (core.health) are listed without failing the probe."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" or value.startswith("not configured") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks,
                         "periodic_last_run": cache.get(HEARTBEAT_CACHE_KEY), "warnings": health_warnings()},
                        status=200 if healthy else 503)
