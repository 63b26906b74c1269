"""Checking uploads by decoding them, re-encoding them without metadata, storing them."""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import PhotoRefused
from .models import Photo

# Formats Pillow decodes that phones and cameras produce. SVG is never decoded
# (Pillow cannot, and it can carry scripts); GIF/TIFF/BMP add risk, not value.
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}
# Enough to read a label on a parcel; a larger JPEG is stored at the largest of 1/2, 1/4 or 1/8
# of its size that fits (an 8-megapixel 3264 × 2448 photo at 1632 × 1224).
LONGEST_SIDE = 2048
JPEG_QUALITY = 85


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo that passed every check, re-encoded and ready to store."""

    original_name: str
    content: bytes
    width: int
    height: int


def describe_limits() -> str:
    """'up to 5 photos, 5 MB each' — the limits as the pages show them."""
    return (
        f"up to {settings.PHOTO_MAX_FILES} photo{'s' if settings.PHOTO_MAX_FILES != 1 else ''}, "
        f"{format_bytes(settings.PHOTO_MAX_BYTES)} each"
    )


def format_bytes(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, size // 1024)} KB"


def prepare_photos(files: Sequence) -> list[PreparedPhoto]:
    """Check every upload and re-encode it; raises PhotoRefused naming the file at fault.

    Nothing is stored here, so a refusal of the third file leaves no trace of the first two.
    """
    files = [f for f in files if f]
    if len(files) > settings.PHOTO_MAX_FILES:
        raise PhotoRefused(
            f"You can attach {describe_limits()}; you chose {len(files)} files.", field="photos"
        )
    return [prepare_photo(upload) for upload in files]


def prepare_photo(upload) -> PreparedPhoto:
    name = (getattr(upload, "name", "") or "photo")[-255:]
    size = getattr(upload, "size", None)
    if size is None or size > settings.PHOTO_MAX_BYTES:
        raise PhotoRefused(
            f"“{name}” is larger than {format_bytes(settings.PHOTO_MAX_BYTES)}.", field="photos"
        )
    upload.seek(0)
    data = upload.read(settings.PHOTO_MAX_BYTES + 1)
    if len(data) > settings.PHOTO_MAX_BYTES:
        raise PhotoRefused(
            f"“{name}” is larger than {format_bytes(settings.PHOTO_MAX_BYTES)}.", field="photos"
        )
    not_an_image = PhotoRefused(
        f"“{name}” is not a photo we can read (use JPEG, PNG or WebP).", field="photos"
    )
    with warnings.catch_warnings():
        # Pillow warns, then raises, on huge pixel counts: treat both as a bomb.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise not_an_image
                if probe.width * probe.height > settings.PHOTO_MAX_PIXELS:
                    raise _too_many_pixels(name)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                _decode_reduced(image)
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    image = _flatten_on_white(image)
                image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
                content, (width, height) = _pixels_only_jpeg(image), image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            raise _too_many_pixels(name) from bomb
        except PhotoRefused:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as broken:
            raise not_an_image from broken
    return PreparedPhoto(original_name=name, content=content, width=width, height=height)


def _decode_reduced(image: Image.Image) -> None:
    """Decode a large JPEG at 1/2, 1/4 or 1/8 scale, the one that lands within LONGEST_SIDE.

    The JPEG decoder scales for free while decoding, so an 8-megapixel photo (3264 px)
    comes out at 1632 px with no resize afterwards; other formats decode whole.
    """
    longest = max(image.size)
    scale = 1
    while scale < 8 and -(-longest // scale) > LONGEST_SIDE:
        scale *= 2
    if scale > 1:
        image.draft("RGB", (image.width // scale, image.height // scale))
    image.load()


def _pixels_only_jpeg(image: Image.Image) -> bytes:
    """Encode the pixels alone (the tests read the stored bytes back to prove it)."""
    # Pillow carries a JPEG comment over from the upload's info unless the info is emptied.
    image.info = {}
    encoded = io.BytesIO()
    # No exif, icc_profile, xmp or comment: location, camera and notes never leave the uploader.
    # No optimize: it halves the encoding speed for a 5% smaller file.
    image.save(encoded, format="JPEG", quality=JPEG_QUALITY)
    return encoded.getvalue()


def _too_many_pixels(name: str) -> PhotoRefused:
    megapixels = settings.PHOTO_MAX_PIXELS // 1_000_000
    return PhotoRefused(f"“{name}” has more than {megapixels} megapixels.", field="photos")


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def store_photos(prepared: Sequence[PreparedPhoto], *, merchant, uploaded_by=None) -> list[Photo]:
    """Write prepared photos to storage and the database (call inside the action's transaction)."""
    now = timezone.now()
    stored = []
    for item in prepared:
        photo = Photo(
            merchant=merchant,
            original_name=item.original_name,
            size_bytes=len(item.content),
            width=item.width,
            height=item.height,
            uploaded_by=uploaded_by,
            created_at=now,
        )
        photo.image.save("photo.jpg", ContentFile(item.content), save=False)
        photo.save()
        stored.append(photo)
    return stored


def delete_photo_files(photos: Sequence[Photo]) -> None:
    """Remove files of photos whose transaction rolled back, so no orphan stays on disk."""
    for photo in photos:
        if photo.image and photo.image.name:
            photo.image.storage.delete(photo.image.name)
