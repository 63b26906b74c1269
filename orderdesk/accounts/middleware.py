from django.utils import timezone

from .actors import merchant_of


class MerchantMiddleware:
    """Puts the signed-in user's merchant on the request and shows times in its time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.merchant = merchant_of(request.user)
        if request.merchant is not None:
            timezone.activate(request.merchant.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
