"""Read-only admin of the books: postings are written by services, never edited by hand."""

from django.contrib import admin

from cuntao.core.admin import ReadOnlyAdmin, ReadOnlyInline
from cuntao.ledger.models import Account, Entry, Settlement, SettlementEvent, Transaction


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ["account", "amount_fen"]
    readonly_fields = fields


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "owner", "kind", "county", "station"]
    list_filter = ["owner", "kind", "county"]
    search_fields = ["station__code"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "created_at", "county", "kind", "reference_type", "reference_id", "memo", "actor"]
    list_filter = ["kind", "county"]
    search_fields = ["dedupe_key", "reference_id", "memo"]
    inlines = [EntryInline]


class SettlementEventInline(ReadOnlyInline):
    model = SettlementEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = ["pk", "station", "status", "declared_fen", "counted_fen", "submitted_at", "confirmed_at"]
    list_filter = ["status", "county"]
    search_fields = ["station__code"]
    inlines = [SettlementEventInline]
