from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import workcal
from .models import (
    CalendarOverride,
    Case,
    CaseStep,
    Category,
    DispatchRule,
)


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


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """Holidays and make-up working days entered by hand; the working calendar reads them first."""

    list_display = ("day", "is_working_day", "name")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "day"

    def changelist_view(self, request, extra_context=None):
        for year in workcal.calendar_gaps():
            self.message_user(request, gettext(
                "The official holiday schedule for %(year)s is not known yet (the chinesecalendar package has no "
                "data for it): deadlines in %(year)s count weekends only until you enter its holidays and "
                "make-up working days here.") % {"year": year}, messages.WARNING)
        return super().changelist_view(request, extra_context)
