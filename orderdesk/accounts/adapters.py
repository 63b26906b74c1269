from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
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


class InvitationOnlySocialAccountAdapter(DefaultSocialAccountAdapter):
    """Facebook never signs anyone up (it would make a user without a shop): a Facebook account
    signs in only once its owner has connected it from the Account page."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False
