"""Users, departments, memberships (user, area, role) and API tokens."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.core.prepared import PreparedQuery, instance_from_row
from yiwang.core.scoping import ScopedQuerySet

from .roles import ROLE_PERMISSIONS, TWO_FACTOR_ROLES, Role


class User(AbstractUser):
    """A person who signs in. What they may see comes only from their memberships."""

    display_name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Read by the API token cache (authentication.py) to notice a change made by another process. A sign-in
    # saves only last_login, which leaves it as it is.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    # -- scoping -------------------------------------------------------------------------------
    def active_memberships(self) -> list["Membership"]:
        """Active memberships with their areas and departments, read once per User object.

        Every request loads its user afresh (session or token), so this is one query per request and a
        membership removed or deactivated counts from the next request on. The query is compiled once
        per process (it runs behind every scoped request); areas and departments come with the columns
        in MEMBERSHIP_COLUMNS, others (the area's boundary JSON) are read only if used.
        """
        cached = getattr(self, "_membership_cache", None)  # or read with the API token (authentication.py)
        if cached is None:
            cached = [membership_from_row(self, row) for row in _ACTIVE_MEMBERSHIPS.rows(user=self.pk)]
            self._membership_cache = cached
        return cached

    def scope_paths(self, perm: str) -> list[str] | None:
        """Area paths where this user holds `perm`; None means everywhere (superuser)."""
        if not self.is_active:
            return []
        if self.is_superuser:
            return None
        return [m.area.path for m in self.active_memberships() if perm in ROLE_PERMISSIONS.get(m.role, ())]

    def perms_anywhere(self) -> frozenset[str] | None:
        """The permissions this user holds in at least one area; None means all (superuser)."""
        if not self.is_active:
            return frozenset()
        if self.is_superuser:
            return None
        return frozenset().union(*(ROLE_PERMISSIONS.get(m.role, ()) for m in self.active_memberships()))

    def has_perm_anywhere(self, perm: str) -> bool:
        perms = self.perms_anywhere()
        return perms is None or perm in perms

    def roles(self) -> set[str]:
        return {m.role for m in self.active_memberships()}

    def requires_two_factor(self) -> bool:
        return self.is_superuser or bool(self.roles() & {r.value for r in TWO_FACTOR_ROLES})


class DepartmentQuerySet(ScopedQuerySet):
    def serving_paths(self, paths: list[str]):
        """Departments a user in these areas works with: those within the areas and those above them."""
        condition = models.Q(pk__in=[])
        for path in paths:
            ancestors = [path[:n] for n in (6, 9, 12) if n < len(path)]
            condition |= models.Q(area__path__startswith=path) | models.Q(area__path__in=ancestors)
        return self.filter(condition)


class Department(models.Model):
    """A functional department (职能部门) that receives and handles dispatched work."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=20, unique=True)
    area = models.ForeignKey("geography.Area", on_delete=models.PROTECT, related_name="departments",
                             verbose_name=_("level served"))
    duty = models.CharField(_("duties"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Read by per-process reference caches (core.refcache) to notice a change made by another process.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DepartmentQuerySet.as_manager()
    scope_path_lookup = "area__path"

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user holds a role within an area (and, for handlers, for a department)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    area = models.ForeignKey("geography.Area", on_delete=models.PROTECT, related_name="memberships",
                             verbose_name=_("area"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="memberships", verbose_name=_("department"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)  # as Department.updated_at

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area__path"

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "area", "role"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role="handler", department__isnull=False) | ~models.Q(role="handler"),
                name="handler_has_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area.name}"


# What scoping and the apps read from a user's own memberships (the area's boundary is left out).
MEMBERSHIP_COLUMNS = ("id", "role", "department_id", "active", "area_id",
                      *(f"area__{name}" for name in ("id", "level", "parent_id", "name", "division_code", "street_no",
                                                     "community_no", "grid_no", "path")),
                      *(f"department__{name}" for name in ("id", "name", "code", "area_id", "active")))
_ACTIVE_MEMBERSHIPS = PreparedQuery(
    lambda user: Membership.objects.filter(user_id=user, active=True).order_by("id").values(*MEMBERSHIP_COLUMNS),
    user=(Membership._meta.get_field("user"), -7_340_211), prepare=True)


def membership_from_row(user: User, row: dict) -> Membership:
    from yiwang.geography.models import Area

    membership = instance_from_row(Membership, {**row, "user_id": user.pk})
    membership.user = user
    membership.area = instance_from_row(Area, row, prefix="area__")
    if row["department_id"] is not None:
        membership.department = instance_from_row(Department, row, prefix="department__")
    return membership


def _token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A revocable per-user API token. Only its SHA-256 digest is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # As User.updated_at; "last used" is written with update(), which leaves it as it is.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(key: str) -> str:
        return _token_digest(key)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None and self.revoked_at <= timezone.now()
