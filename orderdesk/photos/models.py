import uuid

from django.conf import settings
from django.db import models

from orderdesk.tenancy import MerchantOwned


def photo_path(photo: "Photo", filename: str) -> str:
    # The stored name is generated; what the uploader called the file is kept in original_name.
    return f"photos/{photo.merchant_id}/{photo.created_at:%Y/%m}/{uuid.uuid4().hex}.jpg"


class Photo(MerchantOwned):
    """A validated, re-encoded image (JPEG, metadata stripped) attached to a shipment or case."""

    image = models.ImageField(upload_to=photo_path)
    original_name = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.original_name or self.image.name
