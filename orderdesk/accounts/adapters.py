"""How allauth signs people in here: shops opened by sign-up or invitation, locked per account and client."""

import hashlib
import ipaddress

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.internal import ratelimit
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.cache import cache
from django.http import Http404
from django.urls import reverse

# A person who signed in from an address stays known there this long: a burst of failures
# from that address (someone spraying emails) does not hold them up.
KNOWN_AT_ADDRESS_SECONDS = 30 * 24 * 3600


class ShopAccountAdapter(DefaultAccountAdapter):
    """Sign-up opens a new shop and makes its owner, and only while SIGNUP_OPEN is on.

    Everyone else joins a shop by its owner's invitation.

    Failed sign-ins (LOGIN_FAILED_RATE_LIMIT, "10/m/ip,5/5m/key") are counted per account
    *and* client address ("key"), so failures elsewhere never lock a person out, and per
    address ("ip"), which holds up only accounts that have not signed in from that address.
    """

    def is_open_for_signup(self, request) -> bool:
        return settings.SIGNUP_OPEN

    def get_signup_redirect_url(self, request) -> str:
        # The new owner starts on their (empty) Order Tracking, which says how orders get in.
        return reverse("orders:tracking")

    def send_mail(self, template_prefix: str, email: str, context_data: dict) -> None:
        """allauth's emails (password reset, …) go through the outbox: written here, sent
        after commit by the worker, retried while the mail server is down."""
        from .messages import queue_account_email

        request = context.request
        full_context = {"request": request, "email": email, "current_site": get_current_site(request)}
        full_context.update(context_data)
        message = self.render_mail(template_prefix, email, full_context)
        queue_account_email(message, kind=template_prefix.rsplit("/", 1)[-1])

    def get_client_ip(self, request) -> str:
        """The client's address: the peer, or behind TRUSTED_PROXY_COUNT proxies the entry they added.

        Each trusted proxy appends the address it saw to X-Forwarded-For, so the client is
        the TRUSTED_PROXY_COUNT-th entry from the right; entries further left are the client's
        own word. A request with fewer entries did not come through the proxies: its peer counts.
        """
        trusted = settings.ALLAUTH_TRUSTED_PROXY_COUNT
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        candidate = forwarded[-trusted] if trusted and len(forwarded) >= trusted else None
        for address in (candidate, request.META.get("REMOTE_ADDR")):
            try:
                return str(ipaddress.ip_address((address or "").strip("[]")))
            except ValueError:
                continue
        return "unknown"

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{login}|{self.get_client_ip(request)}"

    def pre_authenticate(self, request, **credentials) -> None:
        account_and_client = self._get_login_attempts_cache_key(request, **credentials)
        rates = [part.strip() for part in (settings.ACCOUNT_RATE_LIMITS.get("login_failed") or "").split(",")]
        per_address = ",".join(rate for rate in rates if rate and ratelimit.parse_rate(rate).per == "ip")
        per_key = ",".join(rate for rate in rates if rate and ratelimit.parse_rate(rate).per != "ip")
        usages = []
        checks = [({"login_failed": per_key}, account_and_client)]
        if not self._known_at_address(account_and_client):
            checks.append(({"login_failed": per_address}, None))
        for config, key in checks:
            usage = ratelimit.consume(
                request, app="allauth.account", action="login_failed", config=config, key=key
            )
            if usage is None:
                ratelimit.RateLimitUsage(usage=usages).rollback()
                raise self.validation_error("too_many_login_attempts")
            usages.extend(usage.usage)
        self._login_failed_rl_usage = ratelimit.RateLimitUsage(usage=usages)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            cache.set(
                _known_key(self._get_login_attempts_cache_key(request, **credentials)),
                True,
                KNOWN_AT_ADDRESS_SECONDS,
            )
        return user

    def _known_at_address(self, account_and_client: str) -> bool:
        return bool(cache.get(_known_key(account_and_client)))


def _known_key(account_and_client: str) -> str:
    return "orderdesk:signed-in-from:" + hashlib.sha256(account_and_client.encode()).hexdigest()


class InvitationOnlySocialAccountAdapter(DefaultSocialAccountAdapter):
    """Facebook never signs anyone up (it would make a user without a shop): a Facebook account
    signs in only once its owner has connected it from the Account page.

    A provider with no app configured (Facebook without FACEBOOK_APP_ID) has no pages: 404.
    """

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def get_app(self, request, provider, client_id=None):
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as missing:
            raise Http404(f"{provider} sign-in is not set up.") from missing
