import django_filters

from .models import Patrol, Visit


class VisitFilterSet(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="visited_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="visited_at", lookup_expr="lt")

    class Meta:
        model = Visit
        fields = ["grid", "worker", "household", "purpose"]


class PatrolFilterSet(django_filters.FilterSet):
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = Patrol
        fields = ["grid", "worker", "day"]
