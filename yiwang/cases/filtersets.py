"""One FilterSet for cases, used by the queue page and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Case, Channel
from .workflow import OPEN_STATES, State, SupervisionMark


class AnyYesNo(forms.NullBooleanSelect):
    """Yes / no / either, with "either" said as 不限 (Django's own select says 未知, "unknown")."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("unknown", _("Any")), ("true", _("Yes")), ("false", _("No")))


class CaseFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices + [("open", _("All open"))],
                                                method="filter_state", label=_("State"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"), widget=AnyYesNo)
    category = django_filters.CharFilter(method="filter_category", label=_("Category code"))
    area = django_filters.CharFilter(method="filter_area", label=_("Area code"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    department = django_filters.NumberFilter(field_name="department_id", label=_("Department"))
    level = django_filters.NumberFilter(field_name="level", label=_("Level"))
    supervision = django_filters.ChoiceFilter(choices=SupervisionMark.choices[1:], label=_("Supervision"))
    review = django_filters.BooleanFilter(field_name="review_needed", label=_("Needs review"), widget=AnyYesNo)
    code = django_filters.CharFilter(method="filter_code", label=_("Tracking code"))

    class Meta:
        model = Case
        fields = ["state", "overdue", "category", "area", "channel", "department", "level", "supervision", "review"]

    # django-filter builds a form class, with a new form field per filter, for every FilterSet instance
    # (a third of the filtering's cost on the queue page). None of these fields depends on the request
    # (no model choices, lazily translated labels), so the class is built once per process.
    _form_class = None

    def get_form_class(self):
        cls = type(self)
        if cls.__dict__.get("_form_class") is None:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_state(self, queryset, name, value):
        states = set()
        for v in value:
            states.update(s.value for s in OPEN_STATES) if v == "open" else states.add(v)
        return queryset.filter(state__in=sorted(states)) if states else queryset

    def filter_overdue(self, queryset, name, value):
        # Only open cases are late (a final state clears the flag); saying so first lets PostgreSQL read
        # them from the open-case index instead of scanning every case for the flag.
        late = Q(state__in=[s.value for s in OPEN_STATES]) & (Q(overdue=True) | Q(deadline__lt=timezone.now()))
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_category(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(category__code=value) | Q(category__parent__code=value)) if value else queryset

    def filter_area(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(area_path__startswith=value) if value.isdigit() else queryset

    def filter_code(self, queryset, name, value):
        return queryset.filter(tracking_code=value.strip().upper()) if value.strip() else queryset
