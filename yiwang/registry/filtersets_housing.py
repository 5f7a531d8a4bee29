"""FilterSets of the housing pages (dwellings, rentals). Kept apart from filtersets.py only while that
module is being reworked; same conventions (one FilterSet per model, `within` = area code prefix)."""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Dwelling, Rental


class DwellingFilterSet(django_filters.FilterSet):
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    use = django_filters.ChoiceFilter(choices=Dwelling.Use.choices, label=_("use"))
    q = django_filters.CharFilter(method="search", label=_("Building, room or owner"))

    class Meta:
        model = Dwelling
        fields = ["within", "use", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(building__name__contains=value) | Q(room=value) | Q(owner_name__startswith=value))


class RentalFilterSet(django_filters.FilterSet):
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    current = django_filters.BooleanFilter(method="current_only", label=_("current only"))
    q = django_filters.CharFilter(method="search", label=_("Landlord, registration number or building"))

    class Meta:
        model = Rental
        fields = ["within", "current", "q"]

    def current_only(self, queryset, name, value):
        if value is None:
            return queryset
        today = timezone.localdate()
        ongoing = Q(start_date__lte=today) & (Q(end_date__isnull=True) | Q(end_date__gte=today))
        return queryset.filter(ongoing) if value else queryset.exclude(ongoing)

    def search(self, queryset, name, value):
        return queryset.filter(Q(landlord_name__startswith=value) | Q(registration_no=value)
                               | Q(dwelling__building__name__contains=value))
