"""Personal-data protection shared by every app: encryption at rest, keyed search hashes, masking,
and validation of Chinese resident identity numbers (GB 11643-1999).

Keys come from settings.YIWANG_FIELD_KEY (the environment in production). Two independent keys are
derived from it with HKDF: one for AES-256-GCM encryption, one for the HMAC-SHA256 search hashes, so
a leaked hash column says nothing about the encryption key and vice versa.

    token = encrypt("110105194912310021")    # "v1:<base64 nonce+ciphertext>", random nonce
    decrypt(token)                           # the plaintext
    search_hash("110105194912310021", kind="id")   # 64 hex chars, deterministic: exact search
    mask_id_number(...) -> "110105********0021"; mask_phone("13812345678") -> "138****5678"
    validate_id_number(value) -> IdNumberInfo(birth_date, gender, region)  # or ValidationError
    sealed_columns("phone", "13812345678", kind="phone")  # {"phone_cipher", "phone_hash", "phone_masked"}
    lookup_hash(typed_value, kind="phone")   # normalised, then search_hash: match a `*_hash` column

Core imports no app; this module only needs Django settings.
"""

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "v1:"


@lru_cache(maxsize=8)
def _derive(master: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yiwang-field-key", info=purpose).derive(
        master.encode())


def _master() -> str:
    key = getattr(settings, "YIWANG_FIELD_KEY", "")
    if not key:
        raise ImproperlyConfigured("YIWANG_FIELD_KEY must be set to store personal data")
    return key


def _aead() -> AESGCM:
    return _aead_for(_master())


@lru_cache(maxsize=8)
def _aead_for(master: str) -> AESGCM:
    return AESGCM(_derive(master, b"encrypt-v1"))


def encrypt(plaintext: str) -> str:
    """Encrypt a short string; empty stays empty so optional fields need no special case."""
    if not plaintext:
        return ""
    nonce = os.urandom(12)
    sealed = _aead().encrypt(nonce, plaintext.encode(), b"yiwang")
    return TOKEN_PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("unknown ciphertext version")
    raw = base64.b64decode(token[len(TOKEN_PREFIX):])
    return _aead().decrypt(raw[:12], raw[12:], b"yiwang").decode()


def search_hash(value: str, *, kind: str) -> str:
    """Keyed HMAC-SHA256 of a normalised value, for exact-match search without decrypting.

    `kind` separates namespaces ("id", "phone"), so an ID number and a phone number with the same
    digits never collide.
    """
    if not value:
        return ""
    key = _derive(_master(), b"hash-v1")
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


# -- normalisation and masking ------------------------------------------------------------------

def normalize_id_number(value: str) -> str:
    return re.sub(r"\s+", "", str(value or "")).upper()


def normalize_phone(value: str) -> str:
    """Digits only, without a +86/0086 prefix, so one phone always hashes the same way."""
    digits = re.sub(r"\D", "", str(value or ""))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def mask_id_number(value: str) -> str:
    """110105********1234: region and last four digits stay, the birth date and serial go."""
    value = normalize_id_number(value)
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678 for mobiles; short numbers keep only their last two digits."""
    value = normalize_phone(value)
    if len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if len(value) > 4:
        return "*" * (len(value) - 2) + value[-2:]
    return "*" * len(value)


def mask_name(value: str) -> str:
    """张*明 / 张*: used where even the name of a sensitive person must not show."""
    if not value:
        return ""
    if len(value) == 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# -- stored columns -------------------------------------------------------------------------------

# kind -> (normalise, mask); the kind also namespaces the search hash.
KINDS = {"id": (normalize_id_number, mask_id_number), "phone": (normalize_phone, mask_phone)}


def lookup_hash(value: str, *, kind: str) -> str:
    """The keyed hash of a value as typed (normalised first): what a `<prefix>_hash` column is matched against."""
    normalize, _mask = KINDS[kind]
    return search_hash(normalize(value), kind=kind)


def sealed_columns(prefix: str, value: str, *, kind: str) -> dict[str, str]:
    """The three stored columns of one personal-data value, all empty for an empty value:
    `<prefix>_cipher` (AES-GCM), `<prefix>_hash` (keyed, exact search) and `<prefix>_masked` (display).

        Case.objects.create(..., **sealed_columns("reporter_phone", "13812345678", kind="phone"))
    """
    normalize, mask = KINDS[kind]
    value = normalize(value)
    if not value:
        return {f"{prefix}_cipher": "", f"{prefix}_hash": "", f"{prefix}_masked": ""}
    return {f"{prefix}_cipher": encrypt(value), f"{prefix}_hash": search_hash(value, kind=kind),
            f"{prefix}_masked": mask(value)}


# -- GB 11643-1999 identity numbers -------------------------------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# GB/T 2260 province-level prefixes (the first two digits).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
}


def id_check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdNumberInfo:
    number: str
    region: str
    birth_date: dt.date
    gender: str  # "M" or "F" (odd / even 17th digit)


def validate_id_number(value: str, *, today: dt.date | None = None) -> IdNumberInfo:
    """Check an 18-character resident identity number; raise ValidationError with the reason."""
    number = normalize_id_number(value)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(_("An ID number has 18 characters: 17 digits and a final digit or X."),
                              code="id_format")
    if number[:2] not in _PROVINCES or number[2:6] == "0000":
        raise ValidationError(_("The ID number's region code %(region)s is not a Chinese region."),
                              code="id_region", params={"region": number[:6]})
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ValidationError(_("The ID number's birth date %(date)s does not exist."), code="id_birth",
                              params={"date": number[6:14]}) from exc
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise ValidationError(_("The ID number's birth date %(date)s is not plausible."), code="id_birth",
                              params={"date": birth.isoformat()})
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(_("The ID number's check digit is wrong; please check for a typing error."),
                              code="id_check")
    return IdNumberInfo(number=number, region=number[:6], birth_date=birth,
                        gender="M" if int(number[16]) % 2 else "F")


def make_id_number(region: str, birth: dt.date, serial: int, gender: str) -> str:
    """A syntactically valid number (for demo and test data): serial 0-99, gender M/F."""
    seq = serial * 10 + (1 if gender == "M" else 0)  # the 17th digit's parity carries the gender
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def validate_phone(value: str) -> str:
    """A mainland mobile (11 digits starting with 1) or a landline of 7-12 digits; returns it normalised."""
    phone = normalize_phone(value)
    if re.fullmatch(r"1[3-9]\d{9}", phone) or re.fullmatch(r"0?\d{7,11}", phone):
        return phone
    raise ValidationError(_("%(value)s is not a phone number (11-digit mobile or landline)."),
                          code="phone", params={"value": value})
