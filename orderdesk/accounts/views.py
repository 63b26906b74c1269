from allauth.account.views import SignupView
from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
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
from orderdesk.refusals import show_refusal

from . import actions
from .access import ACTING_MEMBERSHIP_SESSION_KEY, choose_membership, permission_required
from .actors import NotAMember
from .forms import InviteForm, NotificationContactsForm, ShopSignupForm
from .models import Membership, User
from .permissions import Permission, can
from .queries import team_of, vendors_of


@permission_required(Permission.VIEW_ACCOUNT)
def account(request):
    """The shop, the signed-in person, the stores, where notifications go and which, and the team."""
    return _account_page(request)


@require_POST
@permission_required(Permission.VIEW_ACCOUNT)
def update_notifications(request):
    form = NotificationContactsForm(request.POST)
    if form.is_valid():
        try:
            actions.update_notification_contacts(
                by=request.actor,
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
@permission_required(Permission.VIEW_ACCOUNT)
def update_preferences(request):
    """Which order events notify whom, on which channel (owners only)."""
    form = NotificationPreferenceForm(request.POST, preferences=preferences_for(request.merchant))
    if form.is_valid():
        try:
            update_notification_preferences(by=request.actor, **form.cleaned_data)
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
@permission_required(Permission.VIEW_ACCOUNT)
def invite(request):
    form = InviteForm(request.POST, vendors=vendors_of(request.merchant))
    if form.is_valid():
        try:
            invited = actions.invite_staff_member(
                form.cleaned_data["email"], by=request.actor, vendor_id=form.cleaned_data["vendor"] or None
            )
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, f"Invitation sent to {invited.email}.")
            return _back_to_account(request)
    if request.htmx:
        return render(request, "accounts/_invite_form.html", {"invite_form": form}, status=422)
    return _account_page(request, invite_form=form, status=422)


@require_POST
@login_required
def act_for(request):
    """Act for another of the user's shops from now on (the menu's "Acting for" choice)."""
    try:
        membership = choose_membership(request, request.POST.get("membership"))
    except NotAMember as refusal:
        messages.error(request, refusal.message)
        return redirect("web:home")
    messages.success(request, f"You are now acting for {membership.merchant.name}.")
    return redirect("web:home")


class ShopSignupView(SignupView):
    """allauth's sign-up page (closed unless SIGNUP_OPEN), opening a shop with its owner."""

    form_class = ShopSignupForm

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except DomainError as refusal:
            show_refusal(form, refusal)
            return self.form_invalid(form)


sign_up = ShopSignupView.as_view()


def accept_invitation(request, uidb64: str, token: str):
    """The invited person chooses a password, is signed in, and lands on the shop that invited them last."""
    invited = _invited_user(uidb64, token)
    if invited is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    newest = invited.memberships.select_related("merchant").latest("created_at", "pk")
    form = SetPasswordForm(invited, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, invited, backend="django.contrib.auth.backends.ModelBackend")
        request.session[ACTING_MEMBERSHIP_SESSION_KEY] = newest.pk
        messages.success(request, f"Welcome to {newest.merchant.name}.")
        return redirect("web:home")
    return render(
        request,
        "accounts/accept_invitation.html",
        {"form": form, "invited": invited, "merchant": newest.merchant},
        status=422 if form.is_bound else 200,
    )


def _invited_user(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
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
    actor = request.actor
    merchant = actor.merchant
    context = {
        "merchant": merchant,
        "role": actor.role.label,
        # A refused attempt is shown with its message even to staff, who see no forms otherwise.
        "show_contacts_form": can(actor, Permission.MANAGE_NOTIFICATION_CONTACTS)
        or contacts_form is not None,
        "show_preferences_form": can(actor, Permission.CHOOSE_NOTIFICATIONS) or preferences_form is not None,
        "show_invite_form": can(actor, Permission.INVITE_PEOPLE) or invite_form is not None,
        "can_manage_stores": can(actor, Permission.MANAGE_STORES),
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
        or NotificationPreferenceForm(preferences=preferences_for(merchant)),
        "invite_form": invite_form or InviteForm(vendors=vendors_of(merchant)),
    }
    return render(request, "accounts/account.html", context, status=status)
