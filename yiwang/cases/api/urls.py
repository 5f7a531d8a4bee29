from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CaseViewSet, CategoryViewSet, IndicatorView

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("case-categories", CategoryViewSet, basename="case-category")
urlpatterns = router.urls + [path("case-indicators/", IndicatorView.as_view(), name="case-indicators")]
