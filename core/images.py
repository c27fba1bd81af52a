"""The photo pipeline for avatars and review photos.

Uploads are never trusted: the name and content type the browser sends are
ignored, the bytes are decoded by Pillow with a pixel budget (decompression
bombs), fully loaded (truncated files), and re-encoded from pixels only, which
drops EXIF and anything else that rode along in the file.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass(frozen=True)
class ProcessedImage:
    image: ContentFile
    thumbnail: ContentFile


def _encode(picture: Image.Image, box: tuple[int, int], stem: str) -> ContentFile:
    copy = picture.copy()
    copy.thumbnail(box, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=85, optimize=True)
    return ContentFile(buffer.getvalue(), name=f"{stem}.jpg")


def process_image(
    upload, *, size: tuple[int, int] = (800, 800), thumb: tuple[int, int] = (160, 160)
) -> ProcessedImage:
    """Validate an uploaded photo and return a resized copy and a thumbnail as JPEG."""
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The photo is larger than 5 MB."), code="too_large")
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The photo is larger than 5 MB."), code="too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise ValidationError(
                        _("Please upload a JPEG, PNG or WebP photo."), code="format"
                    )
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise ValidationError(
                        _("The photo has too many pixels; please upload a smaller one."),
                        code="too_many_pixels",
                    )
                probe.load()
                picture = ImageOps.exif_transpose(probe).convert("RGB")
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("The photo has too many pixels; please upload a smaller one."),
            code="too_many_pixels",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            _("This file is not a readable photo (it may be damaged or incomplete)."),
            code="invalid",
        ) from None
    stem = uuid.uuid4().hex
    return ProcessedImage(
        image=_encode(picture, size, stem), thumbnail=_encode(picture, thumb, stem)
    )
