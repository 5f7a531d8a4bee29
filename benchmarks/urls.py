"""The application's URLconf plus the baseline: the smallest Django JSON view, served through the same
middleware by the same gunicorn processes, is the ceiling every HTTP figure is divided by."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from config.urls import urlpatterns as application_urlpatterns


@require_GET
def minimal_json(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/minimal", minimal_json, name="bench-minimal"), *application_urlpatterns]
