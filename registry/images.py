"""Uploaded images (photos, logos) pass through here: only real JPEG, PNG or WebP files, named
as what they are, within the size and pixel limits are accepted; each is re-encoded (which
drops metadata such as GPS positions and anything hidden after the image data), stored under a
random name, and given a thumbnail."""

import io
import uuid
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# The extensions a file of each format may be named with: a name that says otherwise is a
# mistake, or a file dressed up to be taken for something else by whoever opens it next.
EXTENSIONS = {"JPEG": {".jpg", ".jpeg"}, "PNG": {".png"}, "WEBP": {".webp"}}


@dataclass
class ProcessedImage:
    image: ContentFile
    thumbnail: ContentFile


def process_image(upload):
    """Validate and re-encode an uploaded file (any file-like object with `read`).
    Raises ValidationError with a message a person can act on."""
    upload.seek(0)
    data = upload.read(settings.IMAGE_MAX_BYTES + 1)
    if len(data) > settings.IMAGE_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(limit)s.")
            % {"limit": filesizeformat(settings.IMAGE_MAX_BYTES)}
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            # Some phones write MPO: a JPEG with more pictures after it (a preview, a depth
            # map). Its first picture is the photo, stored as the JPEG it is.
            image_format = "JPEG" if probe.format == "MPO" else probe.format
            draft(probe, image_format)
            width, height = probe.size
            if image_format not in ACCEPTED_FORMATS:
                raise ValidationError(_("Only JPEG, PNG and WebP images are accepted."))
            extension = PurePath(getattr(upload, "name", None) or "").suffix.lower()
            if extension and extension not in EXTENSIONS[image_format]:
                raise ValidationError(
                    _("The file is named %(extension)s but holds a %(format)s image.")
                    % {"extension": extension, "format": image_format}
                )
            if width * height > settings.IMAGE_MAX_PIXELS:
                raise ValidationError(
                    _("The image has %(pixels)s pixels; the limit is %(limit)s.")
                    % {"pixels": f"{width * height:,}", "limit": f"{settings.IMAGE_MAX_PIXELS:,}"}
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            draft(image, image_format)
            image.load()
            # A phone stores a photo held upright as its sensor saw it, with an orientation
            # to turn it by in its metadata, which is not kept: turned here, or it would show
            # on its side.
            image = ImageOps.exif_transpose(image)
            return ProcessedImage(
                image=_encode(image, image_format, settings.IMAGE_MAX_SIDE),
                thumbnail=_encode(image, image_format, settings.THUMBNAIL_SIDE),
            )
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Far beyond any photograph: Pillow refuses to open it (a "decompression bomb").
        raise ValidationError(
            _("The image has too many pixels; the limit is %(limit)s.")
            % {"limit": f"{settings.IMAGE_MAX_PIXELS:,}"}
        ) from None
    # ValueError: a text chunk of a PNG that unpacks too large, among others.
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(_("The file is not a readable JPEG, PNG or WebP image.")) from None


def draft(image, image_format):
    """A JPEG is decoded at the smallest of its scales (1/2, 1/4, 1/8) still larger than what
    is stored: a camera's 54-megapixel photo then costs the memory of 13.5 million pixels, and
    the pixel limit, which guards that memory, counts those. Other formats have no such
    scales, and are counted whole."""
    if image_format == "JPEG":
        image.draft(image.mode, (settings.IMAGE_MAX_SIDE, settings.IMAGE_MAX_SIDE))


def _encode(image, image_format, max_side):
    copy = image.copy()
    copy.thumbnail((max_side, max_side))
    if image_format == "JPEG" and copy.mode not in ("RGB", "L"):
        copy = copy.convert("RGB")
    # Saved without exif= and with nothing of the original's info but what its pixels need (a
    # palette's transparent colour): no metadata is kept, not even a JPEG's comment, which
    # Pillow would otherwise copy.
    copy.info = {key: value for key, value in copy.info.items() if key == "transparency"}
    buffer = io.BytesIO()
    copy.save(buffer, format=image_format)
    return ContentFile(
        buffer.getvalue(), name=f"{uuid.uuid4().hex}.{ACCEPTED_FORMATS[image_format]}"
    )
