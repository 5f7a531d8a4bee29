from rest_framework.routers import SimpleRouter

from .views import AreaViewSet, BuildingViewSet

router = SimpleRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("buildings", BuildingViewSet, basename="building")
urlpatterns = router.urls
