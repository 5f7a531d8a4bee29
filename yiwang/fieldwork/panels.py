import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.panels import AreaPanel
from yiwang.geography.models import AreaLevel

from . import permissions as P
from .selectors import coverage


def coverage_panel(area, actor) -> AreaPanel | None:
    """Fieldwork coverage of the last 30 days, for community and subdistrict staff."""
    if area.level == AreaLevel.DISTRICT or not actor.has_perm_anywhere(P.VIEW_COVERAGE):
        return None
    paths = actor.scope_paths(P.VIEW_COVERAGE)
    if paths is not None and not any(area.path.startswith(p) for p in paths):
        return None
    today = timezone.localdate()
    data = coverage(actor, within=area.path, start=today - dt.timedelta(days=29), end=today, today=today)
    totals = data["totals"]
    return AreaPanel(title=_("Fieldwork coverage (30 days)"), template="fieldwork/_coverage_panel.html",
                     context={"data": data, "link": f"{reverse('fieldwork:coverage')}?area={area.pk}"},
                     counts=[(_("Households visited within interval"), totals["visited_in_interval"]),
                             (_("Patrol days"), totals["patrol_days"]), (_("Events found"), totals["events"])])
