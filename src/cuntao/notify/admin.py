from django.contrib import admin

from cuntao.core.admin import ReadOnlyInline
from cuntao.notify.models import DeliveredMessage, Notice, NoticeEvent


class NoticeEventInline(ReadOnlyInline):
    """Events are written by the worker and the services, never by hand."""

    model = NoticeEvent
    fields = readonly_fields = ["at", "from_status", "to_status", "attempt", "actor", "gateway_message_id", "note"]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Read-only: notices change through the worker, the partner's Told button and the retry button."""

    list_display = ["pk", "kind", "channel", "status", "phone", "villager", "station", "attempts", "created_at"]
    list_filter = ["status", "channel", "kind", "county"]
    search_fields = ["phone", "dedupe_key", "reference", "villager__name", "station__code"]
    date_hierarchy = "created_at"
    inlines = [NoticeEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeliveredMessage)
class DeliveredMessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "channel", "phone", "reference", "created_at"]
    list_filter = ["channel", "county"]
    search_fields = ["phone", "reference"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
