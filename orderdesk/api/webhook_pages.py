"""The owner's pages for webhook endpoints: add one (its secret shown once), its delivery log,
redeliver, switch on or off, delete."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from orderdesk.accounts.access import permission_required
from orderdesk.accounts.permissions import Permission
from orderdesk.errors import DomainError
from orderdesk.refusals import show_refusal

from . import webhooks
from .forms import WebhookEndpointForm
from .webhook_queries import delivery_log, endpoint_of, failed_deliveries_of, webhook_endpoints_of


@never_cache
@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def create_endpoint(request):
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            created = webhooks.create_webhook_endpoint(by=request.actor, **form.cleaned_data)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            # The only time the secret is shown; it is kept encrypted for signing.
            return render(request, "api/webhook_endpoint_created.html", {"created": created})
    context = {"endpoint_form": form, "endpoints": webhook_endpoints_of(request.actor.merchant)}
    return render(request, "api/webhook_endpoints.html", context, status=422)


@permission_required(Permission.MANAGE_WEBHOOKS)
def endpoint_detail(request, endpoint_id: int):
    try:
        endpoint = endpoint_of(request.actor.merchant, endpoint_id)
    except webhooks.WebhookEndpointNotFound as missing:
        raise Http404(missing.message) from missing
    form = WebhookEndpointForm(
        initial={"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    )
    return _endpoint_page(request, endpoint, form)


def _endpoint_page(request, endpoint, form, *, status: int = 200):
    context = {
        "endpoint": endpoint,
        "endpoint_form": form,
        "deliveries": delivery_log(endpoint),
        "failed_count": failed_deliveries_of(endpoint).count(),
    }
    return render(request, "api/webhook_endpoint.html", context, status=status)


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def update_endpoint(request, endpoint_id: int):
    try:
        endpoint = endpoint_of(request.actor.merchant, endpoint_id)
    except webhooks.WebhookEndpointNotFound as missing:
        raise Http404(missing.message) from missing
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            webhooks.update_webhook_endpoint(endpoint.pk, by=request.actor, **form.cleaned_data)
        except DomainError as refusal:
            show_refusal(form, refusal)
        else:
            messages.success(request, "The endpoint is saved; the next events follow the change.")
            return redirect("webhooks:detail", endpoint.pk)
    return _endpoint_page(request, endpoint, form, status=422)


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def switch_endpoint(request, endpoint_id: int):
    on = request.POST.get("on") == "1"
    try:
        endpoint = webhooks.switch_webhook_endpoint(endpoint_id, by=request.actor, on=on)
    except webhooks.WebhookEndpointNotFound as missing:
        raise Http404(missing.message) from missing
    messages.success(request, f"{endpoint.url} is switched {'on' if on else 'off'}.")
    return redirect("webhooks:detail", endpoint.pk)


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def delete_endpoint(request, endpoint_id: int):
    try:
        endpoint = webhooks.delete_webhook_endpoint(endpoint_id, by=request.actor)
    except webhooks.WebhookEndpointNotFound as missing:
        raise Http404(missing.message) from missing
    messages.success(request, f"The endpoint {endpoint.url} is deleted; nothing more is sent to it.")
    return redirect("accounts:account")


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def retry_failed(request, endpoint_id: int):
    try:
        retried = webhooks.retry_failed_webhooks(endpoint_id, by=request.actor)
    except webhooks.WebhookEndpointNotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request, f"{retried} failed deliver{'y is' if retried == 1 else 'ies are'} tried again."
        )
    return redirect("webhooks:detail", endpoint_id)


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def redeliver(request, endpoint_id: int, notification_id: int):
    try:
        endpoint = endpoint_of(request.actor.merchant, endpoint_id)
        queued = webhooks.redeliver_webhook(notification_id, by=request.actor, endpoint_id=endpoint.pk)
    except (webhooks.WebhookEndpointNotFound, webhooks.WebhookDeliveryNotFound) as missing:
        raise Http404(missing.message) from missing
    except DomainError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"{queued.payload.get('event', 'The event')} is on its way again.")
    return redirect("webhooks:detail", endpoint.pk)
