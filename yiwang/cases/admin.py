from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Case, CaseStep, Category, DispatchRule, Notification, NotificationDelivery


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "default_department", "on_the_spot", "public", "active")
    list_filter = ("kind", "on_the_spot", "public", "active")
    search_fields = ("code", "name", "keywords")
    raw_id_fields = ("parent",)


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "area", "department", "level", "auto", "priority")
    list_filter = ("auto",)
    raw_id_fields = ("category", "area")


class CaseStepInline(admin.TabularInline):
    model = CaseStep
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in CaseStep._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the workflow (services.case_act). The reporter only masked:
    the full name and phone come from the audited reveal on the case page."""

    list_display = ("tracking_code", "category", "state", "level", "department", "deadline", "created_at")
    list_filter = ("state", "channel", "level")
    search_fields = ("tracking_code",)
    exclude = ("reporter_name",)
    readonly_fields = ("reporter",)
    inlines = [CaseStepInline]

    @admin.display(description=_("Reporter"))
    def reporter(self, obj):
        return f"{obj.reporter_name_masked or '—'} · {obj.reporter_phone_masked or '—'}"

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "title", "user", "phone_masked", "created_at", "read_at")
    search_fields = ("dedupe_key", "title")


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "sent_at")
    list_filter = ("status", "channel")
