from rest_framework.routers import SimpleRouter

from .views import (
    ChangeRequestViewSet,
    ComponentViewSet,
    HouseholdViewSet,
    OrganisationViewSet,
    ResidentViewSet,
    SituationLogViewSet,
    SpecialGroupViewSet,
)

router = SimpleRouter()
router.register("residents", ResidentViewSet, basename="resident")
router.register("households", HouseholdViewSet, basename="household")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("components", ComponentViewSet, basename="component")
router.register("situation-logs", SituationLogViewSet, basename="situation-log")
router.register("change-requests", ChangeRequestViewSet, basename="change-request")
router.register("special-groups", SpecialGroupViewSet, basename="special-group")
urlpatterns = router.urls
