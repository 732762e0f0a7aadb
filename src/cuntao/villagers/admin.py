from django.contrib import admin

from cuntao.villagers.models import Household, MigrantRelative, Villager


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["name", "station", "county"]
    list_filter = ["county"]
    search_fields = ["name", "station__code"]
    raw_id_fields = ["station"]


class RelativeInline(admin.TabularInline):
    model = MigrantRelative
    extra = 0
    fields = ["name", "relation", "phone", "city", "receives_notices"]


@admin.register(Villager)
class VillagerAdmin(admin.ModelAdmin):
    list_display = ["name", "name_pinyin", "station", "birth_year", "gender", "phone"]
    list_filter = ["county", "gender", "needs_voice"]
    search_fields = ["name", "name_pinyin", "phone", "station__code"]
    raw_id_fields = ["station", "household", "registered_by"]
    exclude = ["national_id"]  # shown masked only, never in full on a list or form
    readonly_fields = ["national_id_masked", "name_pinyin", "name_initials", "consent_at"]
    inlines = [RelativeInline]
