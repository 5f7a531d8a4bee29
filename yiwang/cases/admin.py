from django.contrib import admin

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
    """Read-only: cases change only through the workflow (services.case_act)."""

    list_display = ("tracking_code", "category", "state", "level", "department", "deadline", "created_at")
    list_filter = ("state", "channel", "level")
    search_fields = ("tracking_code",)
    inlines = [CaseStepInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "title", "user", "phone", "created_at", "read_at")
    search_fields = ("dedupe_key", "title")


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "sent_at")
    list_filter = ("status", "channel")
