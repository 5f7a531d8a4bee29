"""Personal data in the case loop (DOMAIN.md "Personal information"; PIPL, GB/T 35273).

Phones of reporters, followers, notifications and verification codes are never stored in clear: a
phone becomes ciphertext + keyed hash + masked copy (core.pii.sealed_columns), lookups go by the keyed
hash, pages and APIs show the masked copy (names masked too: 张*明), and the full name and phone come
only from `reporter_reveal`: a permission, a stated reason, an audit row.

    case_create(..., **reporter_phone_columns(phone))        # ValidationError for a malformed number
    phone_lookup_hash(phone)                                  # match *_phone_hash / phone_hash columns
    follower_add_phone(case, sealed_phone(case, "reporter_phone"))
    may_reveal_reporter(actor, case); reporter_reveal(actor=, case=, reason=) -> {"name", "phone"}
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from yiwang.accounts.roles import ROLE_PERMISSIONS, Role
from yiwang.audit.services import audit_record
from yiwang.core import pii

from .models import Case, CaseFollower
from .permissions import REVEAL_REPORTER

SCOPE_HASH_LENGTH = 39  # Case.idempotency_scope holds 40 characters: "p" + the start of the hash
SEALED = ("cipher", "hash", "masked")


def phone_lookup_hash(phone: str) -> str:
    """The keyed hash a phone as typed is looked up by ("+86 138 1234 5678" and "13812345678" alike)."""
    return pii.lookup_hash(phone, kind="phone")


def reporter_phone_columns(phone: str) -> dict[str, str]:
    """Case's `reporter_phone_*` columns for a phone as typed (empty stays empty)."""
    phone = (phone or "").strip()
    if phone:
        try:
            phone = pii.validate_phone(phone)
        except ValidationError as exc:
            raise ValidationError({"reporter_phone": exc.messages}) from None
    return pii.sealed_columns("reporter_phone", phone, kind="phone")


def public_idempotency_scope(phone: str) -> str:
    """Replays of public intake are recognised per phone, by its hash (the number itself is not stored)."""
    return "p" + phone_lookup_hash(phone)[:SCOPE_HASH_LENGTH]


def sealed_phone(obj, prefix: str = "phone") -> dict[str, str]:
    """An object's sealed phone columns `<prefix>_*`, renamed to `phone_*` (a follower's columns)."""
    return {f"phone_{part}": getattr(obj, f"{prefix}_{part}") for part in SEALED}


def follower_add_phone(case: Case, sealed: dict[str, str]) -> None:
    """Make a phone (sealed columns `phone_*`) follow the case's public steps; once per number."""
    if sealed["phone_hash"]:
        CaseFollower.objects.get_or_create(case=case, phone_hash=sealed["phone_hash"],
                                           defaults={"phone_cipher": sealed["phone_cipher"],
                                                     "phone_masked": sealed["phone_masked"]})


def may_reveal_reporter(actor, case: Case) -> bool:
    """Staff who handle the case: holders of REVEAL_REPORTER in an area containing it, or a handler of
    the department it is with now. Grid workers, residents and other departments may not."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    for membership in actor.active_memberships():
        if REVEAL_REPORTER not in ROLE_PERMISSIONS.get(membership.role, ()):
            continue
        if membership.role == Role.HANDLER:
            if membership.department_id is not None and membership.department_id == case.department_id:
                return True
        elif case.area_path.startswith(membership.area.path):
            return True
    return False


def reporter_reveal(*, actor, case: Case, reason: str) -> dict[str, str]:
    """The reporter's full name and phone, for a stated reason; the reveal is audited."""
    if not may_reveal_reporter(actor, case):
        raise PermissionDenied
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Say why you need the reporter's full name and phone.")]})
    audit_record(actor=actor, action="cases.reporter_reveal", obj=case, reason=reason,
                 changes={"fields": ["reporter_name", "reporter_phone"]})
    return {"name": case.reporter_name, "phone": pii.decrypt(case.reporter_phone_cipher)}
