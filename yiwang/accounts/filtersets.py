import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Department, User
from .roles import Role


class DepartmentFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("name"))

    class Meta:
        model = Department
        fields = ["name", "active"]


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(field_name="memberships__role", choices=Role.choices, label=_("role"),
                                       distinct=True)
    within = django_filters.CharFilter(field_name="memberships__area__path", lookup_expr="startswith",
                                       label=_("within code prefix"), distinct=True)
    q = django_filters.CharFilter(method="search", label=_("name or username"))

    class Meta:
        model = User
        fields = ["role", "within", "q"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value))
