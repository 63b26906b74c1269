"""STORAGE_URL=s3://… against a real S3-compatible server on loopback (moto in server mode):
photos are stored there privately and reached only by signed links that expire, on the
merchant's order page and on the customer's page alike."""

import datetime
import html
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from orderdesk.notifications.tests.peers import free_port
from orderdesk.orders import actions
from orderdesk.orders.tests.factories import pending_order
from orderdesk.photos.actions import delete_photo_files, prepare_photos, store_photos
from orderdesk.photos.tests.images import jpeg_upload
from orderdesk.settings import default_storage_settings, storage_origin
from orderdesk.web.tests.signed_in import owner, owner_client  # noqa: F401

pytestmark = pytest.mark.django_db

BUCKET = "orderdesk-photos"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "loopback-key", "AWS_SECRET_ACCESS_KEY": "loopback-secret"}


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto's S3 server on a free loopback port, for this module's tests."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # The first answer is slow: moto loads its S3 backend then.
                requests.get(endpoint, timeout=20)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"moto did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    """STORAGE_URL=s3://orderdesk-photos?endpoint=… for this test, on an empty bucket."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="ap-southeast-1")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-1"}
        )
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    storage = default_storage_settings(
        f"s3://{BUCKET}?endpoint={s3_server}&region=ap-southeast-1&prefix=shop-media",
        url_expire_seconds=120,
        access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "img-src": [*settings.CONTENT_SECURITY_POLICY["img-src"], storage_origin(storage)],
    }
    return client


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_stored_photo_lands_privately_in_the_bucket_and_only_a_signed_link_reads_it(bucket, owner):  # noqa: F811
    (photo,) = store_photos(prepare_photos([jpeg_upload(size=(640, 480))]), merchant=owner.merchant)

    key = f"shop-media/{photo.image.name}"
    assert keys(bucket) == [key]
    stored = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored[:3] == b"\xff\xd8\xff" and len(stored) == photo.size_bytes
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"]  # the owner alone

    url = photo.image.url
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    assert requests.get(url, timeout=10).content == stored
    unsigned = url.split("?", 1)[0]
    assert requests.get(unsigned, timeout=10).status_code == 403


def test_a_rolled_back_dispatch_leaves_no_object_behind(bucket, owner):  # noqa: F811
    photos = store_photos(prepare_photos([jpeg_upload(), jpeg_upload("b.jpg")]), merchant=owner.merchant)
    assert len(keys(bucket)) == 2

    delete_photo_files(photos)

    assert keys(bucket) == []


def test_the_order_page_and_the_customer_page_show_dispatch_photos_by_signed_links(
    bucket,
    owner,  # noqa: F811
    owner_client,  # noqa: F811
    client,
):
    order = pending_order(owner)
    actions.dispatch_order(
        order.pk,
        by=owner,
        delivery_reference="JT9001",
        expected_on=timezone.localdate() + datetime.timedelta(days=2),
        photos=[jpeg_upload("box.jpg")],
    )
    photo = order.fulfillments.get().photos.get()
    stored = bucket.get_object(Bucket=BUCKET, Key=f"shop-media/{photo.image.name}")["Body"].read()

    for page in (
        owner_client.get(reverse("orders:detail", args=[order.pk])),
        client.get(reverse("customer_page:order", args=[order.customer_page_token])),
    ):
        assert page.status_code == 200
        sources = [html.unescape(src) for src in re.findall(r'<img src="([^"]+)"', page.content.decode())]
        (source,) = [src for src in sources if photo.image.name in src]
        assert "X-Amz-Signature=" in source and "X-Amz-Expires=120" in source
        assert requests.get(source, timeout=10).content == stored
        # The page's policy lets the browser load images from the store, and nothing else from it.
        policy = page["Content-Security-Policy"]
        assert f"img-src 'self' data: {storage_origin(settings_storage())}" in policy


def settings_storage():
    from django.conf import settings

    return settings.STORAGES["default"]


def test_readiness_asks_the_bucket(bucket, client):
    assert client.get("/readyz").json()["checks"]["storage"] == "ok"
    assert default_storage.exists("readyz-probe") is False


def test_storage_urls_are_read_into_storage_settings():
    local = default_storage_settings("", url_expire_seconds=900)
    assert local == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert default_storage_settings("file:///srv/photos", url_expire_seconds=900) == local

    aws = default_storage_settings("s3://shop-photos?region=eu-central-1", url_expire_seconds=600)
    assert aws["BACKEND"] == "storages.backends.s3.S3Storage"
    assert aws["OPTIONS"]["bucket_name"] == "shop-photos"
    assert aws["OPTIONS"]["endpoint_url"] is None and aws["OPTIONS"]["addressing_style"] is None
    assert aws["OPTIONS"]["querystring_expire"] == 600 and aws["OPTIONS"]["default_acl"] == "private"
    assert storage_origin(aws) == "https://shop-photos.s3.eu-central-1.amazonaws.com"

    minio = default_storage_settings(
        "s3://photos?endpoint=https://minio.internal:9000", url_expire_seconds=60
    )
    assert minio["OPTIONS"]["addressing_style"] == "path"
    assert storage_origin(minio) == "https://minio.internal:9000"
    assert storage_origin(local) is None

    with pytest.raises(ImproperlyConfigured, match="does not know bucket_policy"):
        default_storage_settings("s3://photos?bucket_policy=public", url_expire_seconds=60)
    with pytest.raises(ImproperlyConfigured, match="gs:// is not supported"):
        default_storage_settings("gs://photos", url_expire_seconds=60)
