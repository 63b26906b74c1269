"""The links after-sales messages carry."""

from django.conf import settings
from django.urls import reverse


def case_path(case_id: int) -> str:
    return reverse("aftersales:case", args=[case_id])


def case_url(case_id: int) -> str:
    return settings.SITE_URL + case_path(case_id)
