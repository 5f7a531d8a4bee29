"""Seal the phones the case loop kept in plain text (reporters, followers, notifications, verification codes).

Forward: each plain phone becomes ciphertext + keyed hash + masked copy (core.pii.sealed_columns) and the
plain column is emptied; the next migration drops it. Two other places held phones in clear and are
rewritten to the hash: the idempotency scope of public intake ("p<phone>" -> "p<hash>") so replays keep
working, and the dedupe keys of follower SMS notices ("...:p<phone>" -> "...:p<hash>").

Backward: phones are decrypted back into the plain columns (YIWANG_FIELD_KEY must be the one used
forward). Verification-code rows cannot be restored, since only a hash of their phone was kept: they
are deleted. Codes live ten minutes, so at worst a resident asks for a new one.

Rows with no phone need no key, so an empty database migrates without YIWANG_FIELD_KEY.
"""

import re

from django.db import migrations

from yiwang.core import pii

BATCH = 500
SCOPE_HASH_LENGTH = 39  # idempotency_scope is 40 characters: "p" + the start of the hash
PLAIN_KEY = re.compile(r"^(?P<head>.*:p)(?P<phone>\+?\d{5,20})$")
HASHED_KEY = re.compile(r"^(?P<head>.*:p)(?P<hash>[0-9a-f]{64})$")


def public_scope(phone: str) -> str:
    """Idempotency scope of public intake (same rule as personal.public_idempotency_scope)."""
    return "p" + pii.lookup_hash(phone, kind="phone")[:SCOPE_HASH_LENGTH]


def _batches(queryset):
    batch = []
    for row in queryset.order_by("pk").iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _seal(model, prefix: str, plain: str, extra=None):
    """Move `plain` into the sealed `<prefix>_*` columns of every row that has one; `extra(row)` may
    change more fields of the row and returns their names."""
    fields = [plain, f"{prefix}_cipher", f"{prefix}_hash", f"{prefix}_masked"]
    for batch in _batches(model.objects.exclude(**{plain: ""})):
        changed = set(fields)
        for row in batch:
            for column, value in pii.sealed_columns(prefix, getattr(row, plain), kind="phone").items():
                setattr(row, column, value)
            changed |= set(extra(row) if extra else ())
            setattr(row, plain, "")
        model.objects.bulk_update(batch, sorted(changed))


def seal_plain_phones(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseFollower = apps.get_model("cases", "CaseFollower")
    Notification = apps.get_model("cases", "Notification")
    PhoneVerification = apps.get_model("cases", "PhoneVerification")

    def case_scope(case):
        if case.idempotency_scope == f"p{case.reporter_phone}":
            case.idempotency_scope = public_scope(case.reporter_phone)
            return ["idempotency_scope"]
        return []

    _seal(Case, "reporter_phone", "reporter_phone", case_scope)

    # One follower per (case, phone): two spellings of one number ("+86 138...", "138...") become one.
    _seal(CaseFollower, "phone", "phone")
    seen = set()
    for follower in CaseFollower.objects.exclude(phone_hash="").order_by("pk").only("pk", "case_id", "phone_hash"):
        key = (follower.case_id, follower.phone_hash)
        if key in seen:
            CaseFollower.objects.filter(pk=follower.pk).delete()
        seen.add(key)

    def notification_key(notification):
        match = PLAIN_KEY.match(notification.dedupe_key)
        if not match:
            return []
        notification.dedupe_key = match["head"] + pii.lookup_hash(match["phone"], kind="phone")
        return ["dedupe_key"]

    _seal(Notification, "phone", "phone", notification_key)
    for batch in _batches(PhoneVerification.objects.exclude(phone="")):
        for record in batch:
            record.phone_hash = pii.lookup_hash(record.phone, kind="phone")
            record.phone_masked = pii.mask_phone(record.phone)
            record.phone = ""
        PhoneVerification.objects.bulk_update(batch, ["phone", "phone_hash", "phone_masked"])


def _unseal(model, prefix: str, plain: str, extra=None):
    fields = [plain, f"{prefix}_cipher", f"{prefix}_hash", f"{prefix}_masked"]
    for batch in _batches(model.objects.exclude(**{f"{prefix}_cipher": ""})):
        changed = set(fields)
        for row in batch:
            setattr(row, plain, pii.decrypt(getattr(row, f"{prefix}_cipher"))[:20])
            changed |= set(extra(row) if extra else ())
            for column in fields[1:]:
                setattr(row, column, "")
        model.objects.bulk_update(batch, sorted(changed))


def unseal_phones(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseFollower = apps.get_model("cases", "CaseFollower")
    Notification = apps.get_model("cases", "Notification")
    PhoneVerification = apps.get_model("cases", "PhoneVerification")

    def case_scope(case):
        if case.idempotency_scope == "p" + case.reporter_phone_hash[:SCOPE_HASH_LENGTH]:
            case.idempotency_scope = f"p{case.reporter_phone}"
            return ["idempotency_scope"]
        return []

    def notification_key(notification):
        match = HASHED_KEY.match(notification.dedupe_key)
        if not match or match["hash"] != notification.phone_hash:
            return []
        notification.dedupe_key = match["head"] + notification.phone
        return ["dedupe_key"]

    _unseal(Case, "reporter_phone", "reporter_phone", case_scope)
    _unseal(CaseFollower, "phone", "phone")
    _unseal(Notification, "phone", "phone", notification_key)
    PhoneVerification.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0003_sealed_phones_columns"),
    ]

    operations = [
        migrations.RunPython(seal_plain_phones, unseal_phones),
    ]
