"""The per-key throttle (GCRA): N at once, then one each period/N; 429 with Retry-After; on Redis too."""

import os
import time
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from orderdesk.accounts.fallback_cache import CacheWithLocalFallback
from orderdesk.api import throttling
from orderdesk.api.throttling import PerApiKeyThrottle, take_one

from .factories import api_key, client_with

REDIS_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    return now


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(PerApiKeyThrottle, "rate", "3/min", raising=False)


@pytest.mark.django_db
def test_a_key_may_send_its_rate_at_once_then_is_told_when_to_come_back(clock, three_a_minute):
    client = client_with(api_key().token)
    assert [client.get("/api/v1/orders").status_code for _ in range(4)] == [200, 200, 200, 429]
    clock[0] += 5
    refused = client.get("/api/v1/orders")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    # One request comes back every 20 s (3 a minute); 5 s of them have passed.
    assert refused["Retry-After"] == "15"


@pytest.mark.django_db
def test_the_allowance_refills_steadily(clock, three_a_minute):
    client = client_with(api_key().token)
    for _ in range(3):
        assert client.get("/api/v1/orders").status_code == 200
    clock[0] += 20
    assert [client.get("/api/v1/orders").status_code for _ in range(2)] == [200, 429]
    clock[0] += 60
    assert [client.get("/api/v1/orders").status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.django_db
def test_a_refused_request_does_not_use_the_allowance(clock, three_a_minute):
    client = client_with(api_key().token)
    for _ in range(3):
        client.get("/api/v1/orders")
    for _ in range(10):
        assert client.get("/api/v1/orders").status_code == 429
    clock[0] += 20
    assert client.get("/api/v1/orders").status_code == 200


@pytest.mark.django_db
def test_requests_without_a_key_are_not_counted(clock, three_a_minute):
    client = client_with("odk_not-a-key")
    assert [client.get("/api/v1/orders").status_code for _ in range(5)] == [401] * 5


def _redis_cache() -> RedisCache:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return RedisCache(REDIS_URL, {})


def test_on_redis_one_script_counts_for_every_process():
    cache = _redis_cache()
    key = f"throttle-test-{uuid.uuid4().hex}"
    answers = [take_one(cache, key, interval=0.2, burst=3) for _ in range(4)]
    assert answers[:3] == [None, None, None]
    assert 0 < answers[3] <= 0.2
    # Another process's cache object (another client) sees the same count.
    assert take_one(RedisCache(REDIS_URL, {}), key, interval=0.2, burst=3) > 0
    time.sleep(0.25)
    assert take_one(cache, key, interval=0.2, burst=3) is None
    assert take_one(cache, key, interval=0.2, burst=3) > 0
    # The count expires once the allowance is whole again.
    assert 0 < redis.Redis.from_url(REDIS_URL).pttl(cache.make_and_validate_key(key)) <= 700


def test_while_the_shared_cache_is_down_the_process_counts_alone(clock):
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
    unreachable["OPTIONS"] = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    cache = CacheWithLocalFallback("", {"OPTIONS": {"SHARED": unreachable}})
    answers = [take_one(cache, "key-1", interval=20, burst=2) for _ in range(3)]
    assert answers == [None, None, 20]
