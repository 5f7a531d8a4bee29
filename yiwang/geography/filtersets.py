import django_filters
from django.utils.translation import gettext_lazy as _

from .models import Area, AreaLevel, Building


class AreaFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=AreaLevel.choices, label=_("level"))
    within = django_filters.CharFilter(field_name="path", lookup_expr="startswith", label=_("within code prefix"))
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("name"))
    parent = django_filters.NumberFilter(field_name="parent_id", label=_("parent"))

    class Meta:
        model = Area
        fields = ["level", "within", "name", "parent"]


class BuildingFilterSet(django_filters.FilterSet):
    grid = django_filters.NumberFilter(field_name="grid_id", label=_("grid"))
    within = django_filters.CharFilter(field_name="grid__path", lookup_expr="startswith",
                                       label=_("within code prefix"))
    q = django_filters.CharFilter(method="search", label=_("name or address"))

    class Meta:
        model = Building
        fields = ["grid", "within", "q"]

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))
