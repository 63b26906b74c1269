"""Who acts in a request, and whether they may open a page.

The middleware builds `request.actor` once, from the membership the user chose in the
menu (remembered in the session) or their first; views check it against the permission
table with `permission_required`, and pass it to the domain functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .actors import Actor, NotAMember
from .errors import NotAllowed
from .models import Membership
from .permissions import Permission, ensure_can
from .queries import memberships_of

ACTING_MEMBERSHIP_SESSION_KEY = "orderdesk_acting_membership"


def actor_for_request(request) -> tuple[list[Membership], Actor | None]:
    """The signed-in user's memberships, and the actor for the one they act through (None without one)."""
    if not request.user.is_authenticated:
        return [], None
    # Read with the user by the authentication middleware when it could (one query for both).
    memberships = getattr(request, "signed_in_memberships", None)
    if memberships is None:
        memberships = memberships_of(request.user)
    if not memberships:
        return memberships, None
    chosen_id = request.session.get(ACTING_MEMBERSHIP_SESSION_KEY)
    acting = next((m for m in memberships if m.pk == chosen_id), memberships[0])
    return memberships, Actor.for_membership(acting)


def choose_membership(request, membership_id) -> Membership:
    """Act through this membership from now on in this session; refused unless it is the user's own."""
    membership = own_membership(getattr(request, "memberships", []), membership_id)
    request.session[ACTING_MEMBERSHIP_SESSION_KEY] = membership.pk
    return membership


def own_membership(memberships: Sequence[Membership], membership_id) -> Membership:
    """The membership with this id among the user's own; NotAMember otherwise (absent or someone else's)."""
    for membership in memberships:
        if str(membership.pk) == str(membership_id):
            return membership
    raise NotAMember("You are not a member of that shop.", field="membership")


def permission_required(permission: Permission):
    """Signed in, acting for a shop, and allowed `permission` by the table; else sign-in, or a 403 page."""

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.actor is None:
                return render(request, "accounts/no_merchant.html", status=403)
            try:
                ensure_can(request.actor, permission)
            except NotAllowed as refusal:
                return render(request, "accounts/not_allowed.html", {"refusal": refusal}, status=403)
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorate
