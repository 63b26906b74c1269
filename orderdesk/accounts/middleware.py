from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.core.exceptions import ValidationError
from django.db import router
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from orderdesk.compiled_queries import CompiledOnce

from .access import actor_for_request
from .models import Membership, User

# The backends whose get_user is ModelBackend's (the user by primary key, if active): for these
# the user can be read together with their memberships.
_MODEL_BACKENDS = frozenset(
    {
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    }
)


# Compiled by the ORM once per process (building and compiling it cost more CPU than running it).
_memberships_with_user = CompiledOnce(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id)
        .select_related("user", "merchant", "vendor")
        .order_by("merchant__name", "pk")
    ),
    987654321987,  # an id no user has
    prepared=True,  # every signed-in page runs it: planned once per connection on PostgreSQL
)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, except that the signed-in user is read in one query with their memberships
    (merchant and vendor joined), which ActorMiddleware then uses: one statement less on every
    signed-in page. Whatever that query cannot settle (no session, another backend, an inactive
    user, a session hash that does not match, a user without a membership) goes through
    Django's own `auth.get_user`, unchanged."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _signed_in_user(request))


def _signed_in_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = _user_with_memberships(request)
    return request._cached_user


def _user_with_memberships(request):
    session = request.session
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return auth.get_user(request)
    if backend_path not in _MODEL_BACKENDS or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return auth.get_user(request)
    memberships = _memberships_with_user(user_id, using=router.db_for_read(Membership))
    if not memberships:
        user = auth.get_user(request)
        if user.pk == user_id:
            request.signed_in_memberships = []
        return user
    user = memberships[0].user
    session_hash = session.get(HASH_SESSION_KEY)
    if not (
        getattr(user, "is_active", True)  # ModelBackend.user_can_authenticate
        and session_hash
        and constant_time_compare(session_hash, user.get_session_auth_hash())
    ):
        # Django decides: signs out, or accepts a hash of a fallback secret and cycles the key.
        return auth.get_user(request)
    for membership in memberships:
        membership.user = user
    request.signed_in_memberships = memberships
    return user


class ActorMiddleware:
    """Puts who acts on the request (`request.actor`, its `merchant`, the user's `memberships`)
    and shows times in that merchant's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.memberships, request.actor = actor_for_request(request)
        request.merchant = request.actor.merchant if request.actor is not None else None
        if request.merchant is not None:
            timezone.activate(request.merchant.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
