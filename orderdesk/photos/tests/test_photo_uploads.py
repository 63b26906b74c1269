"""Photos are checked by decoding them; hostile uploads are refused and store nothing."""

import datetime
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders import actions
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import pending_order
from orderdesk.photos.actions import describe_limits, prepare_photos
from orderdesk.photos.errors import PhotoRefused
from orderdesk.photos.models import Photo

from .images import jpeg_upload, png_upload

pytestmark = pytest.mark.django_db


def stored_files(folder) -> list[str]:
    return [name for _, _, names in os.walk(folder) for name in names]


def dispatch_with(actor, order, photos):
    return actions.dispatch_order(
        order.pk,
        by=actor,
        delivery_reference="LBC-1",
        expected_on=timezone.localdate(timezone=actor.merchant.zone) + datetime.timedelta(days=1),
        photos=photos,
    )


def exif_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (14.0, 35.0, 0.0)
    return exif.tobytes()


def test_a_dispatch_photo_is_reencoded_without_exif_under_a_generated_name(media_in_tmp):
    actor = owner_actor()
    order = pending_order(actor)
    upload = jpeg_upload("IMG_2041 home.jpg", exif=exif_with_location())
    with Image.open(io.BytesIO(upload.read())) as original:
        assert original.getexif()  # the upload really carries metadata
    upload.seek(0)

    order = dispatch_with(actor, order, [upload])

    photo = order.fulfillments.get().photos.get()
    assert photo.original_name == "IMG_2041 home.jpg"
    assert "IMG_2041" not in photo.image.name
    assert photo.image.name.endswith(".jpg")
    assert (photo.width, photo.height) == (640, 480)
    with Image.open(photo.image.path) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif()
        assert "exif" not in stored.info


def test_a_transparent_png_is_accepted_and_flattened_to_jpeg():
    (prepared,) = prepare_photos([png_upload()])
    with Image.open(io.BytesIO(prepared.content)) as image:
        assert image.format == "JPEG"
        assert image.mode == "RGB"


def svg_upload():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    return SimpleUploadedFile("parcel.svg", svg, content_type="image/svg+xml")


def text_named_like_a_photo():
    return SimpleUploadedFile("parcel.jpg", b"this is not a picture", content_type="image/jpeg")


def truncated_jpeg():
    data = jpeg_upload().read()
    return SimpleUploadedFile("cut.jpg", data[: len(data) // 3], content_type="image/jpeg")


def gif_upload():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")
    return SimpleUploadedFile("anim.gif", buffer.getvalue(), content_type="image/gif")


def decompression_bomb():
    # A tiny file that claims 30000 x 30000 pixels (900 megapixels) when decoded.
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, format="PNG")
    return SimpleUploadedFile("bomb.png", buffer.getvalue(), content_type="image/png")


@pytest.mark.parametrize(
    ("make_upload", "message"),
    [
        (svg_upload, "“parcel.svg” is not a photo we can read"),
        (text_named_like_a_photo, "“parcel.jpg” is not a photo we can read"),
        (truncated_jpeg, "“cut.jpg” is not a photo we can read"),
        (gif_upload, "“anim.gif” is not a photo we can read"),
        (decompression_bomb, "“bomb.png” has more than 40 megapixels."),
    ],
    ids=["svg", "text-as-jpg", "truncated", "gif", "bomb"],
)
def test_hostile_or_unreadable_uploads_are_refused_and_nothing_is_stored(make_upload, message, media_in_tmp):
    actor = owner_actor()
    order = pending_order(actor)

    with pytest.raises(PhotoRefused) as refusal:
        dispatch_with(actor, order, [jpeg_upload("good.jpg"), make_upload()])

    assert message in refusal.value.message
    assert refusal.value.field == "photos"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Photo.objects.exists()
    assert stored_files(media_in_tmp) == []


def test_a_photo_over_the_size_limit_is_refused(settings, media_in_tmp):
    settings.PHOTO_MAX_BYTES = 10_000
    actor = owner_actor()
    order = pending_order(actor)
    noisy = Image.effect_noise((1200, 1200), 90).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, format="JPEG")
    big = SimpleUploadedFile("big.jpg", buffer.getvalue(), content_type="image/jpeg")
    assert big.size > 10_000

    with pytest.raises(PhotoRefused, match="“big.jpg” is larger than 9 KB."):
        dispatch_with(actor, order, [big])
    assert not Photo.objects.exists()
    assert stored_files(media_in_tmp) == []


def test_more_photos_than_the_limit_are_refused(settings, media_in_tmp):
    settings.PHOTO_MAX_FILES = 2
    actor = owner_actor()
    order = pending_order(actor)

    with pytest.raises(PhotoRefused, match=r"You can attach up to 2 photos, 5 MB each; you chose 3 files."):
        dispatch_with(actor, order, [jpeg_upload(f"p{i}.jpg") for i in range(3)])
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert stored_files(media_in_tmp) == []


def test_the_limits_are_described_the_way_the_page_shows_them(settings):
    assert describe_limits() == "up to 5 photos, 5 MB each"
    settings.PHOTO_MAX_FILES = 1
    settings.PHOTO_MAX_BYTES = 1536 * 1024
    assert describe_limits() == "up to 1 photo, 1.5 MB each"


def test_a_refused_dispatch_of_a_cancelled_order_stores_no_photo(media_in_tmp):
    actor = owner_actor()
    order = pending_order(actor)
    actions.cancel_order(order.pk, by=actor, reason="Customer asked")

    with pytest.raises(Exception, match="was cancelled"):
        dispatch_with(actor, order, [jpeg_upload()])
    assert not Photo.objects.exists()
    assert stored_files(media_in_tmp) == []


def test_a_stored_photo_is_served_by_its_url_and_its_folder_is_never_listed(client):
    actor = owner_actor()
    order = dispatch_with(actor, pending_order(actor), [jpeg_upload()])
    photo = order.fulfillments.get().photos.get()

    served = client.get(photo.image.url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content)[:2] == b"\xff\xd8"  # a JPEG
    folder = photo.image.url.rsplit("/", 1)[0] + "/"
    assert client.get(folder).status_code == 404
    assert client.get(f"/media/photos/{actor.merchant.pk}/").status_code == 404
