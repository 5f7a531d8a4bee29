"""Field-level rules shared by forms, the API, change requests and Excel import: cleaning values,
deriving search keys, and turning values into JSON and back.

Everything here is pure (no writes), so the import can run it on 100,000 rows without touching
the database per row.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override
from pypinyin import Style, lazy_pinyin

from yiwang.core import pii

from .models import (
    Component,
    Dwelling,
    Education,
    Gender,
    Household,
    HouseholdMember,
    HukouType,
    IdType,
    Organisation,
    PoliticalStatus,
    Rental,
    Resident,
    ResidentStatus,
)
from .permissions import (
    CHANGE_COMPONENT,
    CHANGE_ORGANISATION,
    CHANGE_RESIDENT,
    VIEW_COMPONENT,
    VIEW_ORGANISATION,
    VIEW_RESIDENT,
)

# Fields stored encrypted: the form/API name, and the model columns it fills.
PII_FIELDS = {"id_number": ("id_cipher", "id_hash", "id_masked"), "phone": ("phone_cipher", "phone_hash", "phone_masked")}

RESIDENT_FIELDS = ["name", "gender", "birth_date", "ethnicity", "id_type", "id_number", "phone", "hukou_type",
                   "education", "occupation", "political_status", "address", "status", "note"]

# Editable fields that are not plain columns of the record. The relation to the head lives on the
# person's current HouseholdMember row (one head per household: services check it, the database
# enforces it); the dwelling is a foreign key and tenants a set of people, kept in change requests as
# {"id", "label"} so a reviewer reads an address or names, and compared by id.
RELATION = "relation"
REFERENCE_FIELDS = {"dwelling": Dwelling}
MANY_FIELDS = {"tenants": Resident}

RENTAL_FIELDS = ["landlord_name", "registration_no", "monthly_rent", "rooms_let", "max_occupants", "start_date",
                 "end_date", "tenants"]

# target_type -> (model, editable fields, permission to change directly, permission to view)
EDITABLE = {
    "resident": (Resident, [*RESIDENT_FIELDS, RELATION, "dwelling"], CHANGE_RESIDENT, VIEW_RESIDENT),
    "household": (Household, ["number", "dwelling", "address", "note"], CHANGE_RESIDENT, VIEW_RESIDENT),
    "dwelling": (Dwelling, ["use", "owner_name", "floor_area", "floor", "note"], CHANGE_RESIDENT, VIEW_RESIDENT),
    "rental": (Rental, RENTAL_FIELDS, CHANGE_RESIDENT, VIEW_RESIDENT),
    "organisation": (Organisation, ["kind", "name", "credit_code", "legal_representative", "contact_name",
                                    "contact_phone", "address", "sector", "employees", "active"],
                     CHANGE_ORGANISATION, VIEW_ORGANISATION),
    "component": (Component, ["name", "location", "state", "owner_unit", "maintainer_unit"], CHANGE_COMPONENT,
                  VIEW_COMPONENT),
}
TYPE_OF_MODEL = {model: key for key, (model, *_rest) in EDITABLE.items()}


def target_type_of(obj) -> str:
    return TYPE_OF_MODEL[type(obj)]


# Surnames whose reading differs from the character's most common one.
SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha", "区": "ou",
                    "覃": "qin", "盖": "ge", "乐": "yue", "缪": "miao", "长": "chang", "翟": "zhai", "任": "ren",
                    "华": "hua", "纪": "ji", "尉": "yu", "繁": "po", "员": "yun", "秘": "bi", "重": "chong"}


@lru_cache(maxsize=30000)
def _char_pinyin(char: str) -> str:
    return re.sub(r"[^a-z]", "", lazy_pinyin(char, style=Style.NORMAL)[0].lower())


@lru_cache(maxsize=200000)
def pinyin_keys(name: str) -> tuple[str, str]:
    """("zhangsan", "zs") for 张三; Latin letters and digits in a name are kept, lowercased.

    Character by character (names are not phrases), with the surname's reading fixed for the common
    polyphonic surnames; cached, because the import computes it for every row.
    """
    syllables, latin = [], ""
    for index, char in enumerate((name or "").lower()):
        if char.isascii() and char.isalnum():
            latin += char
            continue
        if latin:
            syllables.append(latin)
            latin = ""
        if "\u3400" <= char <= "\u9fff":
            reading = SURNAME_READINGS.get(char) if index == 0 else None
            syllables.append(reading or _char_pinyin(char))
    if latin:
        syllables.append(latin)
    syllables = [s for s in syllables if s]
    return "".join(syllables)[:200], "".join(s[0] for s in syllables)[:50]


_DATE_SEPARATED = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value) -> dt.date | None:
    """Dates from forms, JSON or Excel: a date, a datetime, YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYYMMDD."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    match = _DATE_SEPARATED.fullmatch(text) or _DATE_DIGITS.fullmatch(text)
    if match:
        try:
            return dt.date(*map(int, match.groups()))
        except ValueError:
            pass
    raise ValidationError(_("“%(value)s” is not a date; write it as 2024-05-31."), code="date", params={"value": text})


_CHOICE_CACHE: dict = {}


def _choice_map(choices_cls) -> dict:
    """Accepted spellings -> stored value: the value, its English and Chinese labels and the word in
    brackets. Built once (the import validates 100,000 rows)."""
    mapping = _CHOICE_CACHE.get(choices_cls)
    if mapping is None:
        mapping = {}
        for language in ("en", "zh-hans"):
            with override(language):
                for value, label in choices_cls.choices:
                    for spelling in (value, str(label), str(label).split(" (")[0], _label_core(label)):
                        mapping.setdefault(spelling, value)
        _CHOICE_CACHE[choices_cls] = mapping
    return mapping


def _choice(value, choices_cls, field_label) -> str:
    """Accept the stored value or its label (Excel users type 男, 户籍...)."""
    if value in (None, ""):
        return ""
    text = str(value).strip()
    found = _choice_map(choices_cls).get(text)
    if found is None:
        raise ValidationError(_("“%(value)s” is not a valid %(field)s."), code="choice",
                              params={"value": text, "field": str(field_label)})
    return found


def _label_core(label) -> str:
    """The Chinese word inside a label like "Registered (户籍)", or the translated label itself."""
    text = str(label)
    inner = re.search(r"[（(]([^()（）]+)[)）]", text)
    return inner.group(1) if inner else text


_CHOICE_FIELDS = (("gender", Gender, gettext_lazy("gender")), ("id_type", IdType, gettext_lazy("ID type")),
                  ("hukou_type", HukouType, gettext_lazy("household registration")),
                  ("education", Education, gettext_lazy("education")),
                  ("political_status", PoliticalStatus, gettext_lazy("political status")),
                  ("status", ResidentStatus, gettext_lazy("status")))


_WHITESPACE = re.compile(r"\s+")


def _clean_name(value, _unused=None) -> str:
    text = _WHITESPACE.sub("", str(value or ""))
    if not text:
        raise ValidationError(_("Give the person's name."))
    if len(text) > 50:
        raise ValidationError(_("A name has at most 50 characters."))
    return text


def _clean_text(value, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError(_("At most %(n)d characters.") % {"n": limit})
    return text


def _clean_choice(value, spec) -> str:
    return _choice(value, *spec)


def _clean_date(value, _unused=None) -> dt.date | None:
    return parse_date(value)


def _clean_phone(value, _unused=None) -> str:
    return pii.validate_phone(value) if value not in (None, "") else ""


# field -> cleaner(value, argument), in the order error messages are listed
_RESIDENT_CLEANERS = (
    ("name", _clean_name, None),
    *((field, _clean_choice, (choices, label)) for field, choices, label in _CHOICE_FIELDS),
    ("birth_date", _clean_date, None),
    ("ethnicity", _clean_text, 20), ("occupation", _clean_text, 100), ("address", _clean_text, 200),
    ("note", _clean_text, 2000),
    ("phone", _clean_phone, None),
)


def clean_resident(values: dict, *, today: dt.date | None = None) -> dict:
    """Validate resident fields; return cleaned values (plaintext PII in id_number/phone).

    Raises ValidationError with a dict of field -> messages. Birth date and gender are taken from
    the ID number when missing and must agree with it when given.
    """
    errors: dict[str, list] = {}
    out: dict = {}
    # A table of cleaners rather than closures: the import runs this for every row.
    for field, clean, argument in _RESIDENT_CLEANERS:
        if field in values:
            try:
                out[field] = clean(values[field], argument)
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
    if "id_number" in values:
        id_type = out.get("id_type") or values.get("id_type") or IdType.ID_CARD
        raw = pii.normalize_id_number(values["id_number"] or "")
        if raw and id_type == IdType.ID_CARD:
            try:
                info = pii.validate_id_number(raw, today=today)
            except ValidationError as exc:
                errors.setdefault("id_number", []).extend(exc.messages)
            else:
                out["id_number"] = info.number
                if out.get("birth_date") and out["birth_date"] != info.birth_date:
                    errors.setdefault("birth_date", []).append(
                        _("The birth date differs from the one in the ID number (%(date)s).")
                        % {"date": info.birth_date.isoformat()})
                else:
                    out["birth_date"] = info.birth_date
                if out.get("gender") and out["gender"] != info.gender:
                    errors.setdefault("gender", []).append(_("The gender differs from the one in the ID number."))
                else:
                    out["gender"] = info.gender
        elif raw and len(raw) > 30:
            errors.setdefault("id_number", []).append(_("A document number has at most 30 characters."))
        else:
            out["id_number"] = raw
    if errors:
        raise ValidationError(errors)
    return out


def pii_columns(field: str, plaintext: str) -> dict:
    """The stored columns for a PII value: ciphertext, keyed hash and masked copy."""
    prefix = "id" if field == "id_number" else "phone"
    return pii.sealed_columns(prefix, plaintext, kind=prefix)


def current_relation(resident) -> str:
    """The person's relation to the head in their current household ("" when in none)."""
    return HouseholdMember.objects.filter(resident=resident, left_on__isnull=True).values_list(
        "relation", flat=True).first() or ""


def current_value(obj, field: str):
    """The value of an editable field; PII decrypted (callers never show it unmasked without a reveal).
    A reference is the object (or None), a set of people a list ordered by id."""
    if field in PII_FIELDS:
        return pii.decrypt(getattr(obj, PII_FIELDS[field][0]))
    if field == RELATION and isinstance(obj, Resident):
        return current_relation(obj)
    if field in MANY_FIELDS:
        return list(getattr(obj, field).order_by("pk"))
    return getattr(obj, field)


def _reference_json(value) -> dict | None:
    if value is None:
        return None
    label = value.name if isinstance(value, Resident) else str(value)
    return {"id": value.pk, "label": label}


def to_json(field: str, value):
    """A value as stored in change requests; PII as a ciphertext token, never plaintext."""
    if field in PII_FIELDS:
        return {"token": pii.encrypt(value), "masked": display_value(field, value)} if value else {"token": "",
                                                                                                   "masked": ""}
    if field in REFERENCE_FIELDS:
        return _reference_json(value)
    if field in MANY_FIELDS:
        return [_reference_json(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_json(field: str, value):
    """A stored value back as input for cleaning (references as ids; services look them up)."""
    if field in PII_FIELDS:
        return pii.decrypt(value["token"]) if isinstance(value, dict) else (value or "")
    if field in REFERENCE_FIELDS:
        return value["id"] if isinstance(value, dict) else value
    if field in MANY_FIELDS:
        return [v["id"] if isinstance(v, dict) else v for v in value or []]
    return value


def same_as_stored(field: str, current, stored) -> bool:
    """Whether a record's current value equals a value stored in a change request (its "old")."""
    if field in PII_FIELDS:
        return current == from_json(field, stored)
    if field in REFERENCE_FIELDS:
        return (current.pk if current is not None else None) == from_json(field, stored)
    if field in MANY_FIELDS:
        return [v.pk for v in current] == from_json(field, stored)
    return to_json(field, current) == stored


def display_value(field: str, value) -> str:
    """Masked, human-readable text for diffs and audit rows."""
    if isinstance(value, dict) and "masked" in value:
        return value["masked"]
    if isinstance(value, dict) and "label" in value:
        return value["label"]
    if isinstance(value, list):
        return ", ".join(display_value(field, v) for v in value)
    if field == "id_number":
        return pii.mask_id_number(value) if value else ""
    if field == "phone":
        return pii.mask_phone(value) if value else ""
    if isinstance(value, Resident):
        return value.name
    return "" if value is None else str(value)


def field_label(target_type: str, field: str) -> str:
    """The label of an editable field in the current language."""
    if field == "id_number":
        return _("ID number")
    if field == "phone":
        return _("phone")
    if field == RELATION:
        return str(HouseholdMember._meta.get_field("relation").verbose_name)
    return str(EDITABLE[target_type][0]._meta.get_field(field).verbose_name)


def choice_label(target_type: str, field: str, value) -> str:
    """A stored choice (or any value) as the user reads it: "child" -> 子女, "M" -> 男."""
    if field in PII_FIELDS or field in REFERENCE_FIELDS or field in MANY_FIELDS:
        return display_value(field, value)
    model_field = (HouseholdMember._meta.get_field("relation") if field == RELATION
                   else EDITABLE[target_type][0]._meta.get_field(field))
    if model_field.choices and value not in (None, ""):
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return display_value(field, value)


def clean_generic(model, values: dict) -> dict:
    """Validate non-resident fields through the model's own field validators."""
    errors, out = {}, {}
    for field, value in values.items():
        model_field = model._meta.get_field(field)
        try:
            if model_field.get_internal_type() == "DecimalField" and value not in (None, ""):
                try:
                    value = Decimal(str(value))
                except InvalidOperation as exc:
                    raise ValidationError(_("Enter a number.")) from exc
            if value == "" and model_field.null:
                value = None
            out[field] = model_field.clean(value, None)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return out
