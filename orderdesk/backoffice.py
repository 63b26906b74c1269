"""The Django admin's stance on rows that only domain functions change."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows the rows, never adds, edits or deletes them: their changes go through the
    domain functions (which lock, check the rules, write the timeline and keep counts)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
