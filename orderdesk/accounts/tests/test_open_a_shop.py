"""Two doors to a new shop: the sign-up page (while SIGNUP_OPEN) and `manage.py create_shop`."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from orderdesk.accounts.actions import sms_sender_name
from orderdesk.accounts.models import Membership, Merchant, User
from orderdesk.accounts.tests.factories import MembershipFactory
from orderdesk.orders.tests.factories import awaiting_order, pending_order

pytestmark = pytest.mark.django_db

PASSPHRASE = "a long owner passphrase"


@pytest.fixture
def sign_up_open(settings):
    settings.SIGNUP_OPEN = True


def sign_up(client, **fields):
    data = {"shop_name": "Lakbay Crafts", "owner_name": "Rosa Dizon", "email": "rosa@lakbay.example"}
    data["password1"] = PASSPHRASE
    data.update(fields)
    return client.post(reverse("account_signup"), data)


def what_exists():
    return (User.objects.count(), Merchant.objects.count(), Membership.objects.count())


def test_signing_up_opens_a_shop_and_its_owner_lands_on_an_empty_order_tracking_that_says_how_orders_get_in(
    client, sign_up_open
):
    form = client.get(reverse("account_signup")).content.decode()
    assert 'name="shop_name"' in form and 'name="email"' in form and 'name="password1"' in form

    response = sign_up(client, email="Rosa@Lakbay.example")

    assert response.status_code == 302
    assert response.url == reverse("orders:tracking")
    rosa = User.objects.get(email="rosa@lakbay.example")
    assert (rosa.first_name, rosa.last_name) == ("Rosa", "Dizon")
    assert rosa.check_password(PASSPHRASE)
    [membership] = rosa.memberships.select_related("merchant")
    assert membership.role == Membership.Role.OWNER
    shop = membership.merchant
    assert (shop.name, shop.short_name, shop.notification_email) == (
        "Lakbay Crafts",
        "Lakbay",
        "rosa@lakbay.example",
    )
    page = client.get(response.url).content.decode()
    assert "No orders yet." in page
    assert "Connecting a store is not available in this version yet" in page
    assert "awaiting payment" in page


def test_the_how_orders_get_in_note_is_gone_once_the_shop_has_an_order(owner_client, owner):
    assert "No orders yet." in owner_client.get(reverse("orders:tracking")).content.decode()

    awaiting_order(owner)

    page = owner_client.get(reverse("orders:tracking")).content.decode()
    assert "No orders yet." not in page
    assert "No pending orders." in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"shop_name": ""}, "shop_name", "This field is required."),
        ({"shop_name": "x" * 201}, "shop_name", "Ensure this value has at most 200 characters"),
        ({"email": "not an email"}, "email", "Enter a valid email address."),
        ({"password1": "12345678"}, "password1", "This password is too common."),
        ({"email": "taken@shop.example"}, "email", "A user is already registered with this email address."),
    ],
    ids=["no shop name", "long shop name", "bad email", "weak password", "email taken"],
)
def test_a_sign_up_that_cannot_open_a_shop_is_refused_beside_its_field_and_creates_nothing(
    client, sign_up_open, fields, field, message
):
    MembershipFactory(user__email="taken@shop.example")
    before = what_exists()

    response = sign_up(client, **fields)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in page
    assert message in page
    assert what_exists() == before
    assert "_auth_user_id" not in client.session


def test_while_sign_up_is_closed_the_page_says_so_and_nothing_is_created(client, settings):
    settings.SIGNUP_OPEN = False
    before = what_exists()

    response = sign_up(client)

    assert "Orderdesk is by invitation" in response.content.decode()
    assert what_exists() == before
    assert "Open a shop" not in client.get(reverse("account_login")).content.decode()


def test_the_sign_in_and_home_pages_offer_sign_up_only_while_it_is_open(client, sign_up_open):
    assert 'href="/accounts/signup/"' in client.get(reverse("account_login")).content.decode()
    assert 'href="/accounts/signup/"' in client.get(reverse("web:home")).content.decode()


def create_shop(*args) -> str:
    out = StringIO()
    call_command("create_shop", *args, stdout=out)
    return out.getvalue()


def test_the_command_opens_a_shop_and_prints_a_link_where_the_new_owner_chooses_a_password(client):
    printed = create_shop(
        "--name", "Bahay Kubo Goods", "--email", "ben@bahay.example", "--owner-name", "Ben Cruz"
    )

    ben = User.objects.get(email="ben@bahay.example")
    assert [(m.merchant.name, m.role) for m in ben.memberships.all()] == [("Bahay Kubo Goods", "owner")]
    assert not ben.has_usable_password()
    assert "Shop “Bahay Kubo Goods” is open, owned by ben@bahay.example." in printed
    link = re.search(r"https?://[^/\s]+(/account/invitation/\S+/)", printed).group(1)

    joined = client.post(link, {"new_password1": PASSPHRASE, "new_password2": PASSPHRASE}, follow=True)

    assert "Welcome to Bahay Kubo Goods." in joined.content.decode()
    assert "No orders yet." in client.get(reverse("orders:tracking")).content.decode()


def test_the_command_with_a_password_prints_the_sign_in_and_that_password_works(client):
    printed = create_shop(
        "--name", "Bahay Kubo Goods", "--email", "ben@bahay.example", "--password", PASSPHRASE
    )

    assert "Sign in at http://" in printed and "/accounts/login/ as ben@bahay.example" in printed
    assert client.login(username="ben@bahay.example", password=PASSPHRASE)


def test_the_command_gives_someone_who_already_has_an_account_one_more_shop_and_keeps_their_password():
    rosa = MembershipFactory(user__email="rosa@lakbay.example").user
    password_before = rosa.password

    printed = create_shop("--name", "Second Shop", "--email", "rosa@lakbay.example")

    rosa.refresh_from_db()
    assert rosa.password == password_before
    assert rosa.memberships.count() == 2
    assert rosa.memberships.get(merchant__name="Second Shop").role == Membership.Role.OWNER
    assert "with the password they already use" in printed
    assert "Acting for" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "  ", "--email", "ben@bahay.example"], "Enter the shop's name."),
        (["--name", "Shop", "--email", "not an email"], "“not an email” is not an email address."),
        (
            ["--name", "Shop", "--email", "ben@bahay.example", "--password", "123"],
            "This password is too short.",
        ),
        (
            ["--name", "Shop", "--email", "taken@shop.example", "--password", PASSPHRASE],
            "taken@shop.example already has an Orderdesk account; sign in with it.",
        ),
    ],
    ids=["blank name", "bad email", "weak password", "existing account with a password"],
)
def test_the_command_refuses_what_cannot_open_a_shop_and_creates_nothing(args, message):
    taken = MembershipFactory(user__email="taken@shop.example").user
    password_before = taken.password
    before = what_exists()

    with pytest.raises(CommandError) as refusal:
        create_shop(*args)

    assert message in str(refusal.value)
    assert what_exists() == before
    taken.refresh_from_db()
    assert taken.password == password_before


@pytest.mark.parametrize(
    ("shop_name", "sender"),
    [
        ("Lakbay Crafts", "Lakbay"),
        ("J&T Home Goods", "J T Home"),
        ("Supercalifragilistic Shop", "Supercalifr"),
        ("Ñandú Tienda", "Ñandú"),
        ("!!!", "Orderdesk"),
    ],
)
def test_a_new_shops_sms_sender_name_is_its_leading_words_within_eleven_characters(shop_name, sender):
    assert sms_sender_name(shop_name) == sender


def test_a_new_owner_sees_no_other_shops_orders(client, sign_up_open, owner):
    pending_order(owner, reference="OTHER-1")
    sign_up(client)

    page = client.get(reverse("orders:tracking"), {"status": "pending"}).content.decode()
    assert "OTHER-1" not in page
    assert "No orders yet." in page
