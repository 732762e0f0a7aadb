from django.contrib import admin

from cuntao.core.models import ApiToken, IdempotencyRecord


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "hint"]
    readonly_fields = ["key_hash", "hint", "created_at", "last_used_at"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "response_status", "created_at"]
    search_fields = ["key", "user__username"]
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows only the services write (postings, lots, orders, events): look, never touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """The same for rows shown under their parent, such as its event history."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
