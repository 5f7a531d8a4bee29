from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("fieldwork/visits", views.VisitViewSet, basename="fieldwork-visit")
router.register("fieldwork/patrols", views.PatrolViewSet, basename="fieldwork-patrol")

urlpatterns = [
    path("fieldwork/sync/", views.SyncView.as_view(), name="fieldwork-sync"),
    path("fieldwork/uploads/", views.UploadStartView.as_view(), name="fieldwork-upload-start"),
    path("fieldwork/uploads/<uuid:upload_id>/", views.UploadDetailView.as_view(), name="fieldwork-upload"),
    *router.urls,
]
