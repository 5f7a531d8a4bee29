from django.utils.translation import gettext as _

from yiwang.core.panels import AreaPanel

from .models import Membership
from .roles import VIEW_AREA


def staff_panel(area, actor) -> AreaPanel | None:
    """Who works in this area: the memberships held directly on it."""
    memberships = (Membership.objects.visible_to(actor, VIEW_AREA).filter(area=area, active=True)
                   .select_related("user", "department").order_by("role", "user__display_name"))
    return AreaPanel(title=_("Staff"), template="accounts/_staff_panel.html",
                     context={"memberships": memberships})
