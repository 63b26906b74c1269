import pytest

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.photos.actions import prepare_photos, store_photos
from orderdesk.photos.tests.images import jpeg_upload

pytestmark = pytest.mark.django_db


def test_stored_photos_keep_their_width_and_height_and_their_file():
    merchant = MerchantFactory()

    (photo,) = store_photos(prepare_photos([jpeg_upload(size=(640, 480))]), merchant=merchant)

    photo.refresh_from_db()
    assert (photo.width, photo.height) == (640, 480)
    assert photo.image.storage.exists(photo.image.name)
    assert photo.original_name == "parcel.jpg"
