"""The "needs at a glance" section of an area's detail page (communities and grids)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.core.panels import AreaPanel

from .permissions import VIEW_RESIDENT
from .services import can


def needs_panel(area, actor):
    if len(area.path) < 12 or not can(actor, VIEW_RESIDENT, area.path):
        return None
    from .selectors import needs_at_a_glance

    needs = needs_at_a_glance(actor, area.path)
    totals = needs["totals"]
    counts = [(_("Residents"), totals.get("total", 0)), (_("Children under 9"), totals.get("under9", 0))]
    counts += [(name, needs["tag_totals"].get(gid, 0)) for gid, name in needs["groups"]][:6]
    return AreaPanel(title=_("Needs at a glance"), template="registry/_needs_panel.html",
                     context={"needs_url": reverse("registry:needs", kwargs={"pk": area.pk})}, counts=counts)
