from django.utils import timezone

from .access import actor_for_request


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
