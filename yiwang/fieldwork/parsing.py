"""Strict parsing of the plain JSON a phone sends; every problem is a translated ValidationError."""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _


def as_uuid(value, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValidationError({field: [_("Not a valid ID.")]}) from exc


def as_datetime(value, field: str, *, required: bool = True) -> dt.datetime | None:
    """ISO 8601 text or epoch milliseconds; naive values are taken as Asia/Shanghai local time."""
    if value in (None, ""):
        if required:
            raise ValidationError({field: [_("This time is required.")]})
        return None
    parsed = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            parsed = dt.datetime.fromtimestamp(value / 1000.0, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            parsed = None
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({field: [_("Not a valid time.")]})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def as_date(value, field: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: [_("This date is required.")]})
        return None
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({field: [_("Not a valid date.")]})
    return parsed


def as_int(value, field: str, *, required: bool = True) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: [_("This field is required.")]})
        return None
    if isinstance(value, bool):
        raise ValidationError({field: [_("Not a whole number.")]})
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: [_("Not a whole number.")]}) from exc


def as_text(value, field: str, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Must be text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > max_length:
        raise ValidationError({field: [_("At most %(n)d characters.") % {"n": max_length}]})
    return value


def as_choice(value, field: str, choices, default: str) -> str:
    if value in (None, ""):
        return default
    if value not in {c for c, _label in choices}:
        raise ValidationError({field: [_("Not one of the allowed values.")]})
    return value


def as_point(lon, lat, field: str = "location") -> tuple[float | None, float | None]:
    if lon in (None, "") and lat in (None, ""):
        return None, None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: [_("Not a valid location.")]}) from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError({field: [_("Not a valid location.")]})
    return lon, lat


def as_track(value, field: str = "track", *, limit: int = 20000) -> list[list]:
    """[[lon, lat, epoch_ms, accuracy?], ...] sorted by time."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or len(value) > limit:
        raise ValidationError({field: [_("Not a valid GPS track.")]})
    points = []
    for sample in value:
        if not isinstance(sample, (list, tuple)) or len(sample) < 3:
            raise ValidationError({field: [_("Not a valid GPS track.")]})
        lon, lat = as_point(sample[0], sample[1], field)
        try:
            at = int(sample[2])
            accuracy = None if len(sample) < 4 or sample[3] is None else round(float(sample[3]), 1)
        except (TypeError, ValueError) as exc:
            raise ValidationError({field: [_("Not a valid GPS track.")]}) from exc
        points.append([round(lon, 7), round(lat, 7), at, accuracy])
    points.sort(key=lambda p: p[2])
    return points


def as_uuid_list(value, field: str, *, limit: int = 9) -> list[uuid.UUID]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({field: [_("Must be a list.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("At most %(n)d photos.") % {"n": limit}]})
    return [as_uuid(v, field) for v in value]
