"""Image files for upload tests, made in memory."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def jpeg_upload(name="parcel.jpg", size=(640, 480), color=(200, 120, 40), exif: bytes | None = None):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is None:
        image.save(buffer, format="JPEG")
    else:
        image.save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png_upload(name="parcel.png", size=(320, 240), mode="RGBA"):
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 200, 90, 128) if mode == "RGBA" else (10, 200, 90)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def eight_megapixel_jpeg(**save_options) -> bytes:
    """A noisy 3264 × 2448 phone-camera-sized JPEG of about 2 MB."""
    noise = Image.effect_noise((3264, 2448), 20).convert("RGB")
    gradient = Image.linear_gradient("L").resize((3264, 2448)).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(noise, gradient, 0.5).save(buffer, format="JPEG", quality=85, **save_options)
    return buffer.getvalue()
