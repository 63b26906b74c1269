from django.contrib import admin

from .models import Photo


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["original_name", "merchant", "width", "height", "size_bytes", "created_at"]
    list_select_related = ["merchant"]
    search_fields = ["original_name"]
    show_full_result_count = False
    readonly_fields = ["image", "width", "height", "size_bytes", "created_at", "uploaded_by"]
    raw_id_fields = ["merchant"]
