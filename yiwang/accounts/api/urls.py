from rest_framework.routers import SimpleRouter

from .views import ApiTokenViewSet, DepartmentViewSet, UserViewSet

router = SimpleRouter()
router.register("departments", DepartmentViewSet, basename="department")
router.register("users", UserViewSet, basename="user")
router.register("tokens", ApiTokenViewSet, basename="token")
urlpatterns = router.urls
