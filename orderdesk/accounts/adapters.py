from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import Http404
from django.urls import reverse


class ShopAccountAdapter(DefaultAccountAdapter):
    """Sign-up opens a new shop and makes its owner, and only while SIGNUP_OPEN is on.

    Everyone else joins a shop by its owner's invitation.
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
