from decimal import Decimal

import factory

from orderdesk.accounts.tests.factories import MerchantFactory
from orderdesk.vendors.models import Hosting, Vendor


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Source agent {n}")
    contact_email = factory.Sequence(lambda n: f"agent{n}@vendor.example")


class HostingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hosting

    merchant = factory.SelfAttribute("variant.merchant")
    vendor = factory.SubFactory(VendorFactory, merchant=factory.SelfAttribute("..merchant"))
    unit_cost = Decimal("120.00")
    shipping_cost = Decimal("35.00")
