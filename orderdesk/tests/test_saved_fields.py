"""save_fields writes the fields named, by the row's id, and nothing else."""

import pytest

from orderdesk.accounts.tests.factories import owner_actor
from orderdesk.orders.models import Order
from orderdesk.orders.tests.factories import pending_order
from orderdesk.saved_fields import save_fields

pytestmark = pytest.mark.django_db


def test_only_the_named_fields_are_written_and_updated_at_is_stamped():
    actor = owner_actor()
    order, other = pending_order(actor), pending_order(actor)
    updated_before = order.updated_at
    order.note = "Fragile"
    order.customer_name = "Not saved"

    save_fields(order, "note", "updated_at")

    row = Order.objects.get(pk=order.pk)
    assert row.note == "Fragile" and row.customer_name != "Not saved"
    assert row.updated_at == order.updated_at and row.updated_at > updated_before
    assert Order.objects.get(pk=other.pk).note == ""


def test_a_field_that_is_no_column_is_refused():
    order = pending_order(owner_actor())

    with pytest.raises(ValueError, match="lines"):
        save_fields(order, "lines")
