"""Roles and the permissions each grants, within the area of a membership.

Permissions are plain strings "<app>.<action>_<thing>". Apps that come later extend roles with
`grant(Role.STAFF, "rooms.change_booking")` in their AppConfig.ready(), so this module never
needs to know them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    DISPATCHER = "dispatcher", _("Governance-centre dispatcher")
    STAFF = "staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    HANDLER = "handler", _("Department handler")
    RESIDENT = "resident", _("Resident")
    VOLUNTEER = "volunteer", _("Volunteer")


STAFF_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.STAFF, Role.GRID_WORKER, Role.HANDLER)
TWO_FACTOR_ROLES = (Role.ADMIN, Role.DISPATCHER)

VIEW_AREA = "geography.view_area"
CHANGE_AREA = "geography.change_area"
VIEW_BUILDING = "geography.view_building"
CHANGE_BUILDING = "geography.change_building"
VIEW_DEPARTMENT = "accounts.view_department"
CHANGE_DEPARTMENT = "accounts.change_department"
VIEW_USER = "accounts.view_user"
CHANGE_USER = "accounts.change_user"
VIEW_AUDIT = "audit.view_auditevent"

ROLE_PERMISSIONS: dict[str, set[str]] = {role.value: set() for role in Role}


def grant(role: str, *perms: str) -> None:
    ROLE_PERMISSIONS[str(role)].update(perms)


for _role in STAFF_ROLES:
    grant(_role, VIEW_AREA, VIEW_BUILDING, VIEW_DEPARTMENT)
grant(Role.ADMIN, CHANGE_AREA, CHANGE_BUILDING, CHANGE_DEPARTMENT, VIEW_USER, CHANGE_USER, VIEW_AUDIT)
grant(Role.DISPATCHER, VIEW_USER)
grant(Role.STAFF, VIEW_USER, CHANGE_BUILDING)
