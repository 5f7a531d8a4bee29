from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.core.api import error_body

from .. import permissions as P
from .. import selectors, services
from ..filtersets import PatrolFilterSet, VisitFilterSet
from ..models import UploadStatus
from ..sync import sync_batch
from .serializers import (
    PatrolOutput,
    SyncInput,
    SyncOutput,
    UploadOutput,
    UploadStartInput,
    VisitOutput,
)


def _require_app(user) -> None:
    if not user.has_perm_anywhere(P.USE_APP):
        raise PermissionDenied


class SyncView(APIView):
    """Receive a batch of offline records. Idempotent per record UUID; one result per record.

    Statuses: created, duplicate (already received: the first result is returned), conflict (an edit
    on an outdated version: both versions are returned), rejected (with code and message; the phone
    keeps the record).
    """

    @extend_schema(request=SyncInput, responses=SyncOutput)
    def post(self, request):
        _require_app(request.user)
        data = SyncInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = sync_batch(actor=request.user, records=data.validated_data["records"],
                            client_sent_at=data.validated_data.get("client_sent_at"))
        return Response(result)


class UploadStartView(APIView):
    """Open a resumable photo upload (idempotent on upload_id)."""

    @extend_schema(request=UploadStartInput, responses={201: UploadOutput})
    def post(self, request):
        _require_app(request.user)
        data = UploadStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        grids = selectors.worker_grids(request.user)
        upload = services.upload_start(actor=request.user, area_path=grids[0].path if grids else "",
                                       **data.validated_data)
        return Response(UploadOutput(upload).data, status=status.HTTP_201_CREATED)


class UploadDetailView(APIView):
    """GET: how many bytes the server has (resume from there). PUT: send raw bytes at `Upload-Offset`."""

    def _get(self, request, upload_id):
        upload = selectors.upload_get_own(request.user, upload_id)
        if upload is None:
            raise Http404
        return upload

    @extend_schema(responses=UploadOutput)
    def get(self, request, upload_id):
        return Response(UploadOutput(self._get(request, upload_id)).data)

    @extend_schema(request={"application/octet-stream": bytes}, responses=UploadOutput)
    def put(self, request, upload_id):
        upload = self._get(request, upload_id)
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError as exc:
            raise ValidationError({"offset": [_("Send the Upload-Offset header.")]}) from exc
        try:
            upload = services.upload_chunk(actor=request.user, upload=upload, offset=offset, chunk=request.body)
        except services.UploadOffsetMismatch as exc:
            body = error_body(409, "offset_mismatch", _("Resume from byte %(n)d.") % {"n": exc.expected})
            body["offset"] = exc.expected
            return Response(body, status=status.HTTP_409_CONFLICT)
        if upload.status == UploadStatus.REJECTED:
            body = error_body(400, "not_an_image", _("This file is not a photo the server can accept "
                                                     "(JPEG, PNG or WebP)."))
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(UploadOutput(upload).data)


class VisitViewSet(viewsets.ReadOnlyModelViewSet):
    """Household visits visible to the caller."""

    serializer_class = VisitOutput
    filterset_class = VisitFilterSet

    def get_queryset(self):
        return selectors.visit_list_visible_to(self.request.user)


class PatrolViewSet(viewsets.ReadOnlyModelViewSet):
    """Patrols visible to the caller (the track itself is not listed)."""

    serializer_class = PatrolOutput
    filterset_class = PatrolFilterSet

    def get_queryset(self):
        return selectors.patrol_list_visible_to(self.request.user).defer("track")
