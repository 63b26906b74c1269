from django import template

from orderdesk.accounts.permissions import Permission, can

register = template.Library()


@register.filter
def may_see_reports(actor) -> bool:
    """Whether the menu offers Reports to this actor (the permission table's answer)."""
    return actor is not None and can(actor, Permission.VIEW_REPORTS)


# What an Order Tracking address may hold that an export takes over as it is.
TRACKING_FILTERS = ("status", "q", "store", "starts_on", "ends_on")


@register.simple_tag(takes_context=True)
def tracking_export_links(context) -> list[dict]:
    """One link per kind of export (CSV and XLSX) for exactly the Order Tracking filter on the page:
    its tab and search, and a store or period when the address has them."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from orderdesk.reports.models import Export

    request, choice = context["request"], context.get("choice") or {}
    query = {key: request.GET[key] for key in TRACKING_FILTERS if request.GET.get(key)}
    query.update({"status": choice.get("status"), "q": choice.get("search")})
    # Encoded once for the page's links (Order Tracking renders them on every page), after each
    # link's own kind and format.
    query = urlencode({key: value for key, value in query.items() if value})
    url = reverse("reports:export")
    return [
        {
            "label": kind.label,
            **{
                file_format: f"{url}?kind={kind.value}&file_format={file_format}{'&' if query else ''}{query}"
                for file_format in Export.Format.values
            },
        }
        for kind in Export.Kind
    ]
