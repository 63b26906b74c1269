"""Who may open the merchant's pages."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def merchant_member_required(view):
    """Signed in and part of a shop; otherwise sign-in first, or a page saying how to join."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.merchant is None:
            return render(request, "accounts/no_merchant.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(checked)
