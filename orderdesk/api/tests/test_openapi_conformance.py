"""schemathesis over our OpenAPI schema, in-process through the WSGI app: no 5xx, every answer as documented."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orderdesk.accounts.actors import Actor
from orderdesk.orders.tests.factories import dispatched_order, pending_order
from orderdesk.wsgi import application

from .factories import api_key


@pytest.fixture
def api_schema(db):
    # As Django's test client does: the request must not close the test's connection and its transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def shop_token(db):
    """A read-write key of a shop with orders in a few states, so detail endpoints find rows."""
    key = api_key()
    owner = Actor.for_user(key.api_key.created_by)
    pending_order(owner)
    dispatched_order(owner)
    return key.token


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_api_answers_every_generated_request_as_its_schema_says(api_schema, shop_token, media_in_tmp):
    # schemathesis' own pytest plugin does not run on pytest 9, so each operation gets a Hypothesis test here.
    headers = {"Authorization": f"Bearer {shop_token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def answers_as_documented(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers_as_documented()
