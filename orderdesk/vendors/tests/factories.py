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


def variant(merchant, sku: str, title: str = "", *, product: str = "", price: Decimal = Decimal("499.00")):
    """A catalog variant of the merchant (its product made with it), to host and to order."""
    from orderdesk.catalog.models import Product, Variant

    made = Product.objects.create(merchant=merchant, title=product or f"Product {sku}")
    return Variant.objects.create(merchant=merchant, product=made, sku=sku, title=title, price=price)
