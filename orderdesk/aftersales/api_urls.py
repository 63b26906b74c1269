"""Mounted under /api/v1/ by orderdesk/urls.py (the api app knows nothing of after-sales)."""

from rest_framework.routers import SimpleRouter

from .api import AfterSalesCaseViewSet

router = SimpleRouter(trailing_slash=False)
router.register("after-sales-cases", AfterSalesCaseViewSet, basename="after-sales-case")

urlpatterns = router.urls
