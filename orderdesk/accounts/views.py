from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from orderdesk.errors import DomainError
from orderdesk.notifications.actions import preferences_for, update_notification_preferences
from orderdesk.notifications.forms import NotificationPreferenceForm
from orderdesk.stores.queries import stores_of
from orderdesk.web.forms import show_refusal

from . import actions
from .access import merchant_member_required
from .actors import Actor
from .forms import InviteForm, NotificationContactsForm
from .models import Membership, User
from .queries import role_of, team_of


@merchant_member_required
def account(request):
    """The shop, the signed-in person, the stores, where notifications go and which, and the team."""
    return _account_page(request)


@require_POST
@merchant_member_required
def update_notifications(request):
    form = NotificationContactsForm(request.POST)
    if form.is_valid():
        try:
            actions.update_notification_contacts(
                by=Actor.for_user(request.user),
                phone=form.cleaned_data["notification_phone"],
                email=form.cleaned_data["notification_email"],
            )
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "Notification contacts saved.")
            return _back_to_account(request)
    if request.htmx:
        return render(request, "accounts/_notification_form.html", {"contacts_form": form}, status=422)
    return _account_page(request, contacts_form=form, status=422)


@require_POST
@merchant_member_required
def update_preferences(request):
    """Which order events notify whom, on which channel (owners only)."""
    form = NotificationPreferenceForm(request.POST, instance=preferences_for(request.merchant))
    if form.is_valid():
        try:
            update_notification_preferences(by=Actor.for_user(request.user), **form.cleaned_data)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "Order notification choices saved.")
            return _back_to_account(request)
    if request.htmx:
        return render(
            request, "accounts/_notification_preferences_form.html", {"preferences_form": form}, status=422
        )
    return _account_page(request, preferences_form=form, status=422)


@require_POST
@merchant_member_required
def invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invited = actions.invite_staff_member(form.cleaned_data["email"], by=Actor.for_user(request.user))
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Invitation sent to {invited.email}.")
            return _back_to_account(request)
    if request.htmx:
        return render(request, "accounts/_invite_form.html", {"invite_form": form}, status=422)
    return _account_page(request, invite_form=form, status=422)


def accept_invitation(request, uidb64: str, token: str):
    """The invited person chooses a password, is signed in, and lands on the shop."""
    invited = _invited_user(uidb64, token)
    if invited is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = SetPasswordForm(invited, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, invited, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invited.membership.merchant.name}.")
        return redirect("web:home")
    return render(
        request,
        "accounts/accept_invitation.html",
        {"form": form, "invited": invited, "merchant": invited.membership.merchant},
        status=422 if form.is_bound else 200,
    )


def _invited_user(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.select_related("membership__merchant").get(
            pk=force_str(urlsafe_base64_decode(uidb64))
        )
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    if not default_token_generator.check_token(user, token):
        return None
    if not Membership.objects.filter(user=user).exists():
        return None
    return user


def _back_to_account(request):
    if request.htmx:
        return HttpResponseClientRedirect(reverse("accounts:account"))
    return redirect("accounts:account")


def _account_page(request, *, contacts_form=None, preferences_form=None, invite_form=None, status=200):
    merchant = request.merchant
    is_owner = role_of(request.user) == Membership.Role.OWNER
    context = {
        "merchant": merchant,
        "is_owner": is_owner,
        # A refused attempt is shown with its message even to staff, who see no forms otherwise.
        "show_contacts_form": is_owner or contacts_form is not None,
        "show_preferences_form": is_owner or preferences_form is not None,
        "show_invite_form": is_owner or invite_form is not None,
        "stores": stores_of(merchant),
        "team": team_of(merchant),
        "facebook_accounts": SocialAccount.objects.filter(user=request.user, provider="facebook"),
        "contacts_form": contacts_form
        or NotificationContactsForm(
            initial={
                "notification_phone": merchant.notification_phone,
                "notification_email": merchant.notification_email,
            }
        ),
        "preferences_form": preferences_form
        or NotificationPreferenceForm(instance=preferences_for(merchant)),
        "invite_form": invite_form or InviteForm(),
    }
    return render(request, "accounts/account.html", context, status=status)
