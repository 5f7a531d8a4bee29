"""URL wiring only. Each app owns its urls.py (pages) and api/urls.py (REST)."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from yiwang.core import views as core_views

# Django tries these in order: the busiest first (case intake and the phones' sync). No two apps share a
# first path segment, so the order changes only how soon a URL is found, never which view it reaches.
api_v1 = [
    path("", include("yiwang.cases.api.urls")),
    path("", include("yiwang.fieldwork.api.urls")),
    path("", include("yiwang.geography.api.urls")),
    path("", include("yiwang.accounts.api.urls")),
    path("", include("yiwang.audit.api.urls")),
    path("", include("yiwang.notifications.api.urls")),
    path("", include("yiwang.registry.api.urls")),
    path("", include("yiwang.dashboards.api.urls")),
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),  # first: API clients send the most requests
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("yiwang.accounts.urls")),
    path("geo/", include("yiwang.geography.urls")),
    path("audit/", include("yiwang.audit.urls")),
    path("notifications/", include("yiwang.notifications.urls")),
    # The inbox was /cases/inbox/ before it moved to its own app; old links and bookmarks still land there.
    path("cases/inbox/", RedirectView.as_view(pattern_name="notifications:inbox", permanent=True)),
    path("registry/", include("yiwang.registry.urls")),
    path("cases/", include("yiwang.cases.urls")),
    path("m/", include("yiwang.fieldwork.urls")),
    path("dashboards/", include("yiwang.dashboards.urls")),
    path("open311/v2/", include("yiwang.cases.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
