from django.contrib import admin

from orderdesk.backoffice import ReadOnlyAdmin

from .models import InboundDelivery, Store, StoreOrderLink, SyncRun


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "channel", "connection_state", "is_active", "last_synced_at"]
    list_filter = ["channel", "processing", "is_active", "connection_state"]
    list_select_related = ["merchant"]
    search_fields = ["name"]
    autocomplete_fields = ["merchant"]
    # Credentials are entered on the store's own page (encrypted there), never read here.
    exclude = ["credentials_encrypted", "webhook_secret_encrypted"]
    readonly_fields = ["credentials_hint", "webhook_token", "connection_state", "broken_since", "removed_at"]


@admin.register(StoreOrderLink)
class StoreOrderLinkAdmin(ReadOnlyAdmin):
    list_display = ["store", "external_id", "order", "flagged_at", "updated_at"]
    list_select_related = ["store", "order"]
    search_fields = ["=external_id", "=order__reference"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "store", "order"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["store", "kind", "outcome", "started_at", "new_count", "updated_count", "failed_count"]
    list_filter = ["kind", "outcome"]
    list_select_related = ["store"]
    search_fields = ["=store__name"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "store"]


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["store", "topic", "delivery_id", "outcome", "received_at"]
    list_filter = ["outcome", "topic"]
    list_select_related = ["store"]
    search_fields = ["=delivery_id"]
    show_full_result_count = False
    raw_id_fields = ["merchant", "store"]
