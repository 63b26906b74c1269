import pytest
from django.core.management import call_command

from orderdesk.aftersales.models import AfterSalesCase

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_after_sales_cases_in_every_status_once(capsys):
    call_command("seed_demo", orders=3)

    statuses = set(AfterSalesCase.objects.values_list("status", flat=True))
    assert statuses == set(AfterSalesCase.Status.values)
    assert AfterSalesCase.objects.filter(resend_shipment__delivery_reference__startswith="LBC-R").exists()
    count = AfterSalesCase.objects.count()

    call_command("seed_after_sales")
    assert AfterSalesCase.objects.count() == count
    assert "none added" in capsys.readouterr().out
