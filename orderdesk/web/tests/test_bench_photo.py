"""The bench's dispatch-photo figure: prepare_photo timed on generated 8-megapixel JPEGs."""

import io

import pytest
from PIL import Image

from orderdesk.web.benchmark import figures


def test_the_bench_makes_an_eight_megapixel_jpeg_of_a_photos_size():
    data = figures._eight_megapixel_jpeg(seed=1)

    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (3264, 2448))
    assert 1_000_000 < len(data) < 5_000_000  # a phone photo's size, not a flat colour's


@pytest.mark.django_db  # the figure counts SQL statements as every figure does (none here)
def test_the_photo_figure_times_each_photo_with_its_cpu_time(monkeypatch):
    small = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 120, 40)).save(small, "JPEG")
    monkeypatch.setattr(figures, "_eight_megapixel_jpeg", lambda seed: small.getvalue())

    figure = figures.dispatch_photo(figures.Bench(merchant=None, owner=None, requests=5, orders=0))

    assert figure["requests"] == 5 and figure["sql_max"] == 0
    assert 0 < figure["p50_ms"] <= figure["p95_ms"] <= figure["p99_ms"]
    assert 0 < figure["cpu_p50_ms"] <= figure["cpu_p95_ms"]
