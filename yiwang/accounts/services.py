"""Writes to accounts. Each runs in one transaction and leaves an audit row."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit.services import apply_changes, audit_record
from yiwang.core.scoping import require_perm_at

from .models import ApiToken, Department, Membership, User
from .roles import CHANGE_DEPARTMENT, CHANGE_USER, Role


@transaction.atomic
def user_create(*, actor, username: str, password: str, display_name: str = "", phone: str = "",
                memberships: list[tuple] = ()) -> User:
    """Create a user with memberships [(area, role, department|None)]; the actor must manage each area."""
    for area, _role, _department in memberships:
        require_perm_at(actor, CHANGE_USER, area.path)
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This username is already taken.")})
    user = User(username=username, display_name=display_name, phone=phone)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    for area, role, department in memberships:
        Membership.objects.create(user=user, area=area, role=role, department=department)
    audit_record(actor=actor, action="user.create", obj=user,
                 area_path=memberships[0][0].path if memberships else "",
                 changes={"memberships": [[a.path, str(r)] for a, r, _d in memberships]})
    return user


@transaction.atomic
def membership_grant(*, actor, user: User, area, role: str, department: Department | None = None) -> Membership:
    require_perm_at(actor, CHANGE_USER, area.path)
    if role == Role.HANDLER and department is None:
        raise ValidationError({"department": _("A department handler needs a department.")})
    membership, _created = Membership.objects.update_or_create(
        user=user, area=area, role=role, defaults={"department": department, "active": True})
    audit_record(actor=actor, action="membership.grant", obj=membership, area_path=area.path,
                 changes={"role": role, "user": user.username})
    return membership


@transaction.atomic
def department_update(*, actor, department: Department, data: dict) -> Department:
    require_perm_at(actor, CHANGE_DEPARTMENT, department.area.path)
    changes = apply_changes(department, data)
    if changes:
        department.full_clean()
        department.save()
        audit_record(actor=actor, action="department.update", obj=department, changes=changes)
    return department


def _user_area_path(user: User) -> str:
    memberships = user.active_memberships()
    return memberships[0].area.path if memberships else ""


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for the actor; returns the row and the key, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=actor, name=name[:60], prefix=key[:8], digest=ApiToken.digest_of(key))
    audit_record(actor=actor, action="api_token.create", obj=token, area_path=_user_area_path(actor))
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="api_token.revoke", obj=token, area_path=_user_area_path(token.user))
    return token


def login_record(*, user: User) -> None:
    audit_record(actor=user, action="user.login", obj=user, area_path=_user_area_path(user))
