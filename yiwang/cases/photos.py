"""Photo checks and re-encoding with Pillow.

Every upload is decoded (so a renamed non-image fails), limited in bytes and pixels, rotated upright,
and re-encoded as JPEG. The internal copy keeps its EXIF (staff may need where and when it was taken);
the public copy is smaller and has no EXIF at all, so no location leaks to the tracking page or Open311.
"""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
MAX_PIXELS = 50_000_000


def max_bytes() -> int:
    return int(getattr(settings, "YIWANG_CASE_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def max_photos() -> int:
    return int(getattr(settings, "YIWANG_CASE_PHOTO_MAX_COUNT", 6))


@dataclass
class ProcessedPhoto:
    name: str
    full: bytes
    public: bytes
    width: int
    height: int
    sha256: str


def _encode(image: Image.Image, longest: int, exif: bytes | None) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest, longest))
    buffer = io.BytesIO()
    kwargs = {"quality": 85, "optimize": True}
    if exif:
        kwargs["exif"] = exif
    copy.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def process_photo(upload) -> ProcessedPhoto:
    name = getattr(upload, "name", "photo") or "photo"
    size = getattr(upload, "size", None)
    limit = max_bytes()
    if size is not None and size > limit:
        raise ValidationError(_("%(name)s is too large (%(size).1f MB); the limit is %(limit)d MB.")
                              % {"name": name, "size": size / 1048576, "limit": limit // 1048576})
    data = upload.read()
    if len(data) > limit:
        raise ValidationError(_("%(name)s is too large (%(size).1f MB); the limit is %(limit)d MB.")
                              % {"name": name, "size": len(data) / 1048576, "limit": limit // 1048576})
    not_image = _("%(name)s is not a photo (JPEG, PNG, WebP or GIF).") % {"name": name}
    try:
        probe = Image.open(io.BytesIO(data))
        if probe.format not in ALLOWED_FORMATS:
            raise ValidationError(not_image)
        if probe.width * probe.height > MAX_PIXELS:
            raise ValidationError(_("%(name)s has too many pixels.") % {"name": name})
        probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
        exif = image.getexif()
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(not_image) from None
    if exif is not None and 0x0112 in exif:
        del exif[0x0112]  # already applied by exif_transpose
    full = _encode(image, 2560, exif.tobytes() if exif else None)
    public = _encode(image, 1280, None)
    return ProcessedPhoto(name=name[:200], full=full, public=public, width=image.width, height=image.height,
                          sha256=hashlib.sha256(data).hexdigest())


def process_photos(uploads) -> list[ProcessedPhoto]:
    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > max_photos():
        raise ValidationError(_("At most %(n)d photos at a time.") % {"n": max_photos()})
    return [process_photo(u) for u in uploads]
