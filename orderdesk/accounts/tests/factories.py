import factory

from orderdesk.accounts.actors import Actor
from orderdesk.accounts.models import Membership, Merchant, User


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Shop {n}")
    short_name = factory.Sequence(lambda n: f"Shop{n}"[:11])
    notification_phone = "+639171234567"
    notification_email = factory.Sequence(lambda n: f"owner{n}@shop.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@shop.example")
    first_name = "Ana"
    last_name = factory.Sequence(lambda n: f"Cruz{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Membership.Role.OWNER
    # A vendor user's membership names its vendor (a constraint insists).
    vendor = factory.Maybe(
        factory.LazyAttribute(lambda m: m.role == Membership.Role.VENDOR_USER),
        yes_declaration=factory.LazyAttribute(lambda m: _vendor_of(m.merchant)),
        no_declaration=None,
    )


def _vendor_of(merchant: Merchant):
    from orderdesk.vendors.models import Vendor

    return Vendor.objects.create(
        merchant=merchant, name=f"Vendor of {merchant.name} {Vendor.objects.count()}"
    )


def owner_actor(merchant: Merchant | None = None) -> Actor:
    """A signed-in owner of the merchant (a new merchant when none is given)."""
    membership = MembershipFactory(merchant=merchant or MerchantFactory())
    return Actor.for_user(membership.user)
