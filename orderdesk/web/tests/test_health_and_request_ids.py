"""/healthz and /readyz for probes; a request id on every response and log line, JSON logs."""

import json
import logging

import pytest

from orderdesk.celery import app as celery_app
from orderdesk.notifications.tests.peers import free_port
from orderdesk.request_log import (
    TASK_HEADER,
    JsonFormatter,
    RequestIdFilter,
    add_request_id_to_task_headers,
    current_request_id,
)

pytestmark = pytest.mark.django_db


def test_liveness_answers_a_probe_by_address_over_plain_http_without_the_database(
    client, settings, django_assert_num_queries
):
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_num_queries(0):
        answer = client.get("/healthz", HTTP_HOST="10.0.0.7")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer["Cache-Control"] == "no-store"


def test_readiness_checks_the_database_broker_and_storage(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    answer = client.get("/readyz", HTTP_HOST="10.0.0.7")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "storage": "ok"}}


def test_readiness_is_503_naming_the_broker_when_it_does_not_answer(client, settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "failed", "storage": "ok"},
    }
    assert "readiness check broker failed" in caplog.text


def test_readiness_is_503_naming_the_storage_when_the_photo_folder_cannot_be_made(client, settings, tmp_path):
    not_a_folder = tmp_path / "mount-point"
    not_a_folder.write_text("the volume is not mounted")
    settings.MEDIA_ROOT = not_a_folder / "media"
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["storage"] == "failed"


def test_a_plain_request_id_from_the_proxy_is_kept_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="orderdesk.requests"):
        answer = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert answer["X-Request-ID"] == "lb-7f3a.42"
    logged = [record for record in caplog.records if record.name == "orderdesk.requests"]
    assert [(r.request_id, r.path, r.status) for r in logged] == [("lb-7f3a.42", "/accounts/login/", 200)]


def test_a_request_id_that_could_forge_a_log_line_is_replaced_by_a_new_one(client):
    answer = client.get("/accounts/login/", HTTP_X_REQUEST_ID='x" level=ERROR\nforged')
    assert answer["X-Request-ID"] != 'x" level=ERROR\nforged'
    assert len(answer["X-Request-ID"]) == 32
    assert client.get("/accounts/login/")["X-Request-ID"] != answer["X-Request-ID"]


def test_json_lines_carry_the_request_id_and_the_fields_passed_along():
    record = logging.makeLogRecord(
        {
            "name": "orderdesk.requests",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "GET %s",
            "args": ("/",),
        }
    )
    record.status = 200
    token = current_request_id.set("req-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        current_request_id.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /"
    assert line["request_id"] == "req-1"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert line["time"].endswith("Z")


def test_a_task_queued_during_a_request_carries_its_id_in_the_task_headers():
    headers = {}
    token = current_request_id.set("req-2")
    try:
        add_request_id_to_task_headers(headers=headers)
    finally:
        current_request_id.reset(token)
    assert headers == {TASK_HEADER: "req-2"}
    outside = {}
    add_request_id_to_task_headers(headers=outside)
    assert outside == {}
