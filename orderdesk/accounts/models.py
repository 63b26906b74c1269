import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as Asia/Manila.")


def validate_currency(value: str) -> None:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValidationError(f"“{value}” is not a three-letter currency code such as PHP.")


class Merchant(models.Model):
    """The tenant: a shop whose orders, stores, products and users belong to it."""

    name = models.CharField(max_length=200)
    # Shown as the SMS sender name unless SMS_SENDER_NAME is set; SMS allows 11 characters.
    short_name = models.CharField(max_length=11)
    currency = models.CharField(
        max_length=3, default=settings.DEFAULT_CURRENCY, validators=[validate_currency]
    )
    time_zone = models.CharField(
        max_length=64,
        default=settings.DEFAULT_MERCHANT_TIME_ZONE,
        validators=[validate_time_zone],
    )
    default_processing_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(0), MaxValueValidator(365)]
    )
    # Where "a customer paid" notifications go.
    notification_phone = models.CharField(max_length=20, blank=True)
    notification_email = models.EmailField(blank=True)
    # Order references are PREFIX-NUMBER; the counter is taken under a row lock.
    order_reference_prefix = models.CharField(max_length=10, default="OD")
    last_order_number = models.PositiveBigIntegerField(default=1000)
    # The guide's two ways: allocate to vendors as soon as an order enters Order Tracking
    # (the default), or only when the merchant places it from the Pending tab.
    auto_processing = models.BooleanField(default=True)
    # Mark an order Fulfilled by itself once every shipment of it is delivered.
    fulfil_when_delivered = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def clean(self) -> None:
        from orderdesk.customers.phones import normalize_phone_field

        normalize_phone_field(self, "notification_phone")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in with an email address (or a social account)."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Membership(models.Model):
    """A user's place in one party, for one merchant: owner or staff of the merchant.

    A user has one membership per merchant and may have several (one person owning two
    shops, a source agent working for many). The party is the merchant itself, or for a
    vendor user the vendor it acts for (`vendor`), of the merchant it works with.
    """

    class Role(models.TextChoices):
        # The same values as accounts.permissions.Role, which adds API keys and the system.
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"
        VENDOR_USER = "vendor_user", "Vendor user"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="one_membership_per_user_and_merchant"),
            models.CheckConstraint(
                condition=(models.Q(role="vendor_user", vendor__isnull=False))
                | (~models.Q(role="vendor_user") & models.Q(vendor__isnull=True)),
                name="vendor_user_names_its_vendor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.merchant}"
