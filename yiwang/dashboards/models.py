"""Rollups the dashboards read instead of scanning cases, and background report jobs.

Rollups are derived data: they can be thrown away and rebuilt from CaseStep and Case rows at any
time (`manage.py rollup_rebuild`). Category and department are plain integer keys (0 = none)
rather than foreign keys so a rollup row never blocks deleting or renaming what it counts, and so
the tables stay narrow: the district tiles over ten million cases read a few thousand of them.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from yiwang.core.scoping import ScopedQuerySet

# Counters are signed integers: rollups are maintained by adding differences, which may be negative.
# The counters every daily rollup row carries. Each is "distinct cases with such a step that day",
# the same step filters as yiwang.cases.selectors.indicators_for (see rollups.METRICS).
COUNTERS = ("intake", "responded", "dispatched", "handled", "reworked", "closed", "closed_on_time",
            "overdue_closed", "deferred", "rated", "solved", "satisfied", "basically_satisfied")


class CounterFields(models.Model):
    intake = models.IntegerField(_("intake"), default=0)
    responded = models.IntegerField(_("responded on time"), default=0)
    dispatched = models.IntegerField(_("dispatched"), default=0)
    handled = models.IntegerField(_("reported back"), default=0)
    reworked = models.IntegerField(_("reworked"), default=0)
    closed = models.IntegerField(_("closed"), default=0)
    closed_on_time = models.IntegerField(_("closed on time"), default=0)
    overdue_closed = models.IntegerField(_("closed late"), default=0)
    deferred = models.IntegerField(_("closed after an extension"), default=0)
    rated = models.IntegerField(_("rated"), default=0)
    solved = models.IntegerField(_("rated solved"), default=0)
    satisfied = models.IntegerField(_("satisfied"), default=0)
    basically_satisfied = models.IntegerField(_("basically satisfied"), default=0)

    class Meta:
        abstract = True


class DailyRollup(CounterFields):
    """Case counts for one area (every level: district, subdistrict, community, grid), category,
    department and local day (Asia/Shanghai)."""

    area_path = models.CharField(max_length=15)
    level = models.PositiveSmallIntegerField()
    day = models.DateField()
    category_id = models.PositiveIntegerField()
    department_id = models.PositiveIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [models.UniqueConstraint(fields=["area_path", "day", "category_id", "department_id"],
                                               name="dailyrollup_key")]
        indexes = [models.Index(fields=["level", "day", "area_path"], name="dailyrollup_level_day"),
                   # The category chart: one area over a period, read from the index alone (PostgreSQL
                   # index-only scan) instead of one heap page per row.
                   models.Index(fields=["area_path", "day", "category_id", "intake", "closed", "overdue_closed"],
                                name="dailyrollup_area_day_cat")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.day} c{self.category_id} d{self.department_id}"


class DailyTotal(CounterFields):
    """The same counters per area and day over all categories and departments: tiles, trends and area
    rankings read these (one row per area and day)."""

    area_path = models.CharField(max_length=15)
    level = models.PositiveSmallIntegerField()
    day = models.DateField()

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        verbose_name = _("daily total")
        verbose_name_plural = _("daily totals")
        constraints = [models.UniqueConstraint(fields=["area_path", "day"], name="dailytotal_key")]
        indexes = [models.Index(fields=["level", "day", "area_path"], name="dailytotal_level_day")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.day}"


class OpenCount(models.Model):
    """How many cases are open right now per area (every level), category, department, state,
    overdue flag and supervision mark: the 'overdue now' tile and the state filters."""

    area_path = models.CharField(max_length=15)
    level = models.PositiveSmallIntegerField()
    category_id = models.PositiveIntegerField()
    department_id = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=12)
    overdue = models.BooleanField(default=False)
    supervision = models.CharField(max_length=6, blank=True, default="")
    n = models.IntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        verbose_name = _("open-case count")
        verbose_name_plural = _("open-case counts")
        constraints = [models.UniqueConstraint(
            fields=["area_path", "category_id", "department_id", "state", "overdue", "supervision"],
            name="opencount_key")]
        # The open / overdue / supervised tiles: one area's rows summed from the index alone.
        indexes = [models.Index(fields=["area_path", "overdue", "supervision", "n"], name="opencount_area_cover")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.state} {self.n}"


class WorkerDaily(models.Model):
    """What one person did on cases in one grid on one day: reports made, verifications (on time),
    cases resolved on the spot. Ranks grid workers."""

    user_id = models.PositiveIntegerField()
    area_path = models.CharField(max_length=15)
    day = models.DateField()
    reported = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    verified_on_time = models.PositiveIntegerField(default=0)
    on_the_spot = models.PositiveIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        verbose_name = _("grid-worker daily figures")
        verbose_name_plural = _("grid-worker daily figures")
        constraints = [models.UniqueConstraint(fields=["user_id", "area_path", "day"], name="workerdaily_key")]
        indexes = [models.Index(fields=["day", "area_path"], name="workerdaily_day_area")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.area_path} {self.day}"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class MonthlyReport(models.Model):
    """A monthly PDF report for one area, built in the background. One row per (area, month): a report
    requested twice (even at the same moment) is built once and both requests get the same row."""

    area = models.ForeignKey("geography.Area", on_delete=models.CASCADE, related_name="+", verbose_name=_("area"))
    area_path = models.CharField(max_length=15, editable=False)
    month = models.DateField(_("month"))  # first day of the month
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [models.UniqueConstraint(fields=["area", "month"], name="monthlyreport_area_month")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.month:%Y-%m}"


class RollupPending(models.Model):
    """A (grid, local day) whose rollups wait for the next drain (`settings.YIWANG_ROLLUPS == "queued"`,
    production): written in the transaction of the case step, so it exists exactly when the step does;
    deleted by the drain that recounts the key (rollups.rollup_drain). Append-only: writers never touch
    each other's rows, so concurrent reports never wait on one another here."""

    id = models.BigAutoField(primary_key=True)
    area_path = models.CharField(max_length=15)
    day = models.DateField()
    queued_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("pending rollup refresh")
        verbose_name_plural = _("pending rollup refreshes")
        indexes = [models.Index(fields=["area_path", "day"], name="rolluppending_key")]

    def __str__(self) -> str:
        return f"{self.area_path} {self.day}"
