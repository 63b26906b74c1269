"""The owner's pages for API keys: make one (its token shown once) and revoke one."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission
from orderdesk.errors import DomainError
from orderdesk.refusals import show_refusal

from . import actions
from .forms import ApiKeyForm
from .queries import api_keys_of


@never_cache
@require_POST
@permission_required(Permission.MANAGE_API_KEYS)
def create_api_key(request):
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            created = actions.create_api_key(by=request.actor, **form.cleaned_data)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            # The only time the token is ever shown: only its hash is kept.
            return render(request, "api/api_key_created.html", {"created": created})
    context = {"api_key_form": form, "api_keys": api_keys_of(request.actor.merchant)}
    return render(request, "api/api_keys.html", context, status=422)


@require_POST
@permission_required(Permission.MANAGE_API_KEYS)
def revoke_api_key(request, api_key_id: int):
    try:
        revoked = actions.revoke_api_key(api_key_id, by=request.actor)
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"API key “{revoked.name}” is revoked; it no longer works.")
    return redirect("accounts:account")
