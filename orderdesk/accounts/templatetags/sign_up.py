from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def sign_up_is_open() -> bool:
    """Whether the sign-up page opens shops (SIGNUP_OPEN), so pages offer it only then."""
    return settings.SIGNUP_OPEN
