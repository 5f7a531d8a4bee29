from django.contrib import admin

from .models import Area, Building


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["path", "name", "level", "households_estimate", "updated_at"]
    list_filter = ["level"]
    search_fields = ["name", "path"]
    readonly_fields = ["path", "created_at", "updated_at"]
    raw_id_fields = ["parent"]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "grid", "address", "floors"]
    search_fields = ["name", "address"]
    raw_id_fields = ["grid"]
