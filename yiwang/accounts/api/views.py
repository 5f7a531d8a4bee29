from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..filtersets import DepartmentFilterSet, UserFilterSet
from ..models import ApiToken
from .serializers import (
    ApiTokenCreatedOutput,
    ApiTokenCreateInput,
    ApiTokenOutput,
    DepartmentOutput,
    UserOutput,
)


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DepartmentOutput
    filterset_class = DepartmentFilterSet

    def get_queryset(self):
        return selectors.department_list_visible_to(self.request.user)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = UserOutput
    filterset_class = UserFilterSet

    def get_queryset(self):
        return selectors.user_list_visible_to(self.request.user)

    @action(detail=False, methods=["get"])
    def me(self, request):
        """The caller, with all of their memberships."""
        return Response(UserOutput(request.user).data)


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens. The key is returned once, on creation."""

    serializer_class = ApiTokenOutput

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    @extend_schema(request=ApiTokenCreateInput, responses={201: ApiTokenCreatedOutput})
    def create(self, request):
        data = ApiTokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = services.api_token_create(actor=request.user, name=data.validated_data["name"])
        token.key = key
        return Response(ApiTokenCreatedOutput(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenOutput)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.api_token_revoke(actor=request.user, token=self.get_object())
        return Response(ApiTokenOutput(token).data)
