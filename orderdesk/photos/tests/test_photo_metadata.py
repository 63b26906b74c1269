"""A stored photo keeps its pixels and nothing else: no comment, EXIF, XMP, IPTC, colour profile or text."""

import io
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, PngImagePlugin

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.tests.factories import pending_order
from orderdesk.photos.actions import prepare_photos

from .images import eight_megapixel_jpeg
from .test_photo_uploads import dispatch_with, exif_with_location

pytestmark = pytest.mark.django_db

HOME_ADDRESS = b"12 Mabini St, Quezon City"
# The segments a plain baseline JPEG is made of; anything else (APPn, COM) is metadata.
PIXEL_SEGMENTS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA, 0xD9}


@pytest.fixture(autouse=True)
def media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg_segments(data: bytes) -> list[int]:
    """The marker of every segment before the image data, then SOS."""
    markers, at = [], 2
    assert data[:2] == b"\xff\xd8"
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # the compressed pixels follow; no metadata can come after in our output
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
    return markers


def iptc_segment(text: bytes) -> bytes:
    """An APP13 Photoshop segment holding an IPTC caption, as photo editors write it."""
    record = b"\x1c\x02\x78" + struct.pack(">H", len(text)) + text  # 2:120 caption
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(record)) + record
    if len(record) % 2:
        resource += b"\x00"
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def jpeg_with_every_kind_of_metadata() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(
        buffer,
        format="JPEG",
        exif=exif_with_location(),
        comment=HOME_ADDRESS,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>'
        + HOME_ADDRESS
        + b"</rdf:Description></x:xmpmeta>",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    data = buffer.getvalue()
    # IPTC goes right after SOI, where editors put it.
    return data[:2] + iptc_segment(HOME_ADDRESS) + data[2:]


def png_with_text_chunks() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", HOME_ADDRESS.decode())
    text.add_text("Author", "Maria Santos", zip=True)
    text.add_itxt("Description", HOME_ADDRESS.decode(), lang="en")
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 200, 90)).save(
        buffer, format="PNG", pnginfo=text, exif=exif_with_location()
    )
    return buffer.getvalue()


def stored_bytes_after_dispatch(name: str, data: bytes, content_type: str) -> bytes:
    actor = owner_actor()
    order = dispatch_with(
        actor, pending_order(actor), [SimpleUploadedFile(name, data, content_type=content_type)]
    )
    photo = order.fulfillments.get().photos.get()
    with open(photo.image.path, "rb") as stored:
        return stored.read()


def assert_pixels_only(stored: bytes) -> None:
    assert HOME_ADDRESS not in stored
    assert b"PhoneMaker" not in stored
    assert set(jpeg_segments(stored)) <= PIXEL_SEGMENTS
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not set(image.info) & {"comment", "exif", "xmp", "icc_profile", "photoshop", "iptc"}
        assert not image.applist or [name for name, _ in image.applist] == ["APP0"]


def test_the_upload_really_carries_a_comment_exif_xmp_iptc_and_a_colour_profile():
    with Image.open(io.BytesIO(jpeg_with_every_kind_of_metadata())) as original:
        assert original.info["comment"] == HOME_ADDRESS
        assert original.getexif()
        assert HOME_ADDRESS in original.info["xmp"]
        assert "icc_profile" in original.info
        assert "photoshop" in original.info
    assert 0xFE in jpeg_segments(jpeg_with_every_kind_of_metadata())


def test_a_jpeg_comment_exif_xmp_iptc_and_colour_profile_are_all_left_out_of_the_stored_photo():
    stored = stored_bytes_after_dispatch("home.jpg", jpeg_with_every_kind_of_metadata(), "image/jpeg")

    assert_pixels_only(stored)


def test_png_text_chunks_and_exif_are_left_out_of_the_stored_photo():
    upload = png_with_text_chunks()
    with Image.open(io.BytesIO(upload)) as original:
        assert original.info["Comment"] == HOME_ADDRESS.decode()  # the upload really carries text
        assert original.text["Author"] == "Maria Santos"

    stored = stored_bytes_after_dispatch("home.png", upload, "image/png")

    assert_pixels_only(stored)
    assert b"Maria Santos" not in stored


def test_a_webp_with_exif_and_xmp_is_stored_without_them():
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 20, 200)).save(
        buffer, format="WEBP", exif=exif_with_location(), xmp=b"<x:xmpmeta>" + HOME_ADDRESS + b"</x:xmpmeta>"
    )
    assert HOME_ADDRESS in buffer.getvalue()

    stored = stored_bytes_after_dispatch("home.webp", buffer.getvalue(), "image/webp")

    assert_pixels_only(stored)


def test_an_eight_megapixel_jpeg_is_stored_at_half_size_as_a_plain_jpeg():
    data = eight_megapixel_jpeg(comment=HOME_ADDRESS, exif=exif_with_location())
    upload = SimpleUploadedFile("big.jpg", data, content_type="image/jpeg")

    (prepared,) = prepare_photos([upload])

    assert_pixels_only(prepared.content)
    with Image.open(io.BytesIO(prepared.content)) as image:
        image.load()  # decodes whole, so a broken encode would fail here
        assert image.size == (prepared.width, prepared.height)
        assert image.size == (3264 // 2, 2448 // 2)
