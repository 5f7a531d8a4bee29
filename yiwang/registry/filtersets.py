"""One FilterSet per model, used by the list pages and the API alike."""

import django_filters
from django.core.paginator import Paginator
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import (
    ChangeRequest,
    Component,
    ComponentCategory,
    Dwelling,
    Education,
    Gender,
    Household,
    HukouType,
    Organisation,
    Rental,
    Resident,
    ResidentStatus,
    SituationLog,
    SpecialGroup,
)


class CappedCountPaginator(Paginator):
    """Pages over a search's matches, counting at most `cap` of them.

    A short query over a district (two initials, one surname) matches thousands of people; counting
    them all costs more than the page itself and nobody pages that far, so the count stops at `cap`
    and `capped` says there are more (the page shows "1000+"; narrow the search to see the rest).
    """

    cap = 1000
    capped = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)


def resident_paginator_class(params) -> type[Paginator]:
    """The paginator for a resident list with these query parameters: capped for a search (`q`)."""
    return CappedCountPaginator if (params.get("q") or "").strip() else Paginator


class ResidentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name, pinyin, ID number or phone"))
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    gender = django_filters.ChoiceFilter(choices=Gender.choices, label=_("gender"))
    hukou_type = django_filters.ChoiceFilter(choices=HukouType.choices, label=_("household registration"))
    education = django_filters.ChoiceFilter(choices=Education.choices, label=_("education"))
    status = django_filters.ChoiceFilter(choices=ResidentStatus.choices, label=_("status"))
    age_min = django_filters.NumberFilter(method="filter_age", label=_("age from"))
    age_max = django_filters.NumberFilter(method="filter_age", label=_("age to"))
    group = django_filters.ModelChoiceFilter(queryset=SpecialGroup.objects.all(), method="filter_group",
                                             label=_("special group"))

    class Meta:
        model = Resident
        fields = ["q", "within", "gender", "hukou_type", "education", "status", "age_min", "age_max", "group"]

    def search(self, queryset, name, value):
        """Every match of the search box's predicate, in the list's own order and scope: one query."""
        from .selectors import resident_search_q

        return queryset.filter(resident_search_q(self.request.user, value)) if self.request else queryset.none()

    def filter_age(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def filter_group(self, queryset, name, value):
        from .selectors import tag_list_visible_to

        if not self.request:
            return queryset.none()
        tags = tag_list_visible_to(self.request.user).filter(group=value, until__isnull=True)
        return queryset.filter(pk__in=tags.values("resident_id"))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        low, high = self.form.cleaned_data.get("age_min"), self.form.cleaned_data.get("age_max")
        if low is not None or high is not None:
            from .selectors import birth_range_for_ages

            start, end = birth_range_for_ages(int(low or 0), int(high) if high is not None else None)
            queryset = queryset.filter(birth_date__gte=start, birth_date__lte=end)
        return queryset


class HouseholdFilterSet(django_filters.FilterSet):
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    q = django_filters.CharFilter(method="search", label=_("Number or address"))

    class Meta:
        model = Household
        fields = ["within", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(number__startswith=value) | Q(address__contains=value))


class OrganisationFilterSet(django_filters.FilterSet):
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    kind = django_filters.ChoiceFilter(choices=Organisation.Kind.choices, label=_("kind"))
    q = django_filters.CharFilter(method="search", label=_("Name or credit code"))

    class Meta:
        model = Organisation
        fields = ["within", "kind", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__contains=value) | Q(name_initials__startswith=value.lower())
                               | Q(credit_code=value.upper()))


class ComponentFilterSet(django_filters.FilterSet):
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    state = django_filters.ChoiceFilter(choices=Component.State.choices, label=_("state"))
    major = django_filters.ChoiceFilter(field_name="category__large_code", label=_("major class"),
                                        choices=lambda: sorted({(c.large_code, c.large_name)
                                                                for c in ComponentCategory.objects.all()}))
    q = django_filters.CharFilter(method="search", label=_("Code or name"))

    class Meta:
        model = Component
        fields = ["within", "state", "major", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__startswith=value) | Q(name__contains=value) | Q(location__contains=value))


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


class SituationLogFilterSet(django_filters.FilterSet):
    within = django_filters.CharFilter(field_name="area_path", lookup_expr="startswith", label=_("Area code prefix"))
    follow_up_needed = django_filters.BooleanFilter(label=_("follow-up needed"))
    q = django_filters.CharFilter(method="search", label=_("Text or tag"))

    class Meta:
        model = SituationLog
        fields = ["within", "follow_up_needed", "q"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(text__contains=value) | Q(tags__contains=value) | Q(place__contains=value))


class ChangeRequestFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ChangeRequest.State.choices, label=_("state"))
    target_type = django_filters.CharFilter(label=_("record type"))

    class Meta:
        model = ChangeRequest
        fields = ["state", "target_type"]
