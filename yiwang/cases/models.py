"""Cases (events and resident requests), their categories, dispatch rules, step history,
photos, followers and phone verification (notifications live in yiwang.notifications).

Every indicator is recomputed from CaseStep rows (append-only). Case carries denormalised,
indexed columns (area_path, state, level, department, deadline) only so queues stay fast.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core import pii
from yiwang.core.scoping import ScopedQuerySet

from .workflow import OPEN_STATES, Action, ReturnReason, State, SupervisionMark


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("Urban component (部件)")
    EVENT = "event", _("Event (事件)")
    REQUEST = "request", _("Resident request (诉求)")


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("working hours")
    DAYS = "days", _("working days")


class Category(models.Model):
    """A node of the category tree. Leaves carry handling modes and time limits.

    `handling_modes` is a list of {"code", "name", "limit", "unit"}; the first is the default. The
    stage limits (accept, sign for, verify) are in working hours. `attributes` holds Open311
    service-definition attributes (code, datatype, description, required, values).
    """

    code = models.CharField(_("code"), max_length=12, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    kind = models.CharField(_("kind"), max_length=10, choices=CategoryKind.choices)
    name = models.CharField(_("name"), max_length=100)
    handling_modes = models.JSONField(_("handling modes"), default=list, blank=True)
    accept_limit_hours = models.PositiveSmallIntegerField(_("acceptance limit (working hours)"), default=2)
    sign_limit_hours = models.PositiveSmallIntegerField(_("sign-for limit (working hours)"), default=2)
    verify_limit_hours = models.PositiveSmallIntegerField(_("verification limit (working hours)"), default=7)
    default_department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True,
                                           blank=True, related_name="+", verbose_name=_("default department"))
    on_the_spot = models.BooleanField(_("may be resolved on the spot"), default=False)
    public = models.BooleanField(_("open to residents and Open311"), default=True)
    attributes = models.JSONField(_("Open311 attributes"), default=list, blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # Intake keeps the categories per process and re-reads them when the count or the last change moves.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def mode(self, code: str = "") -> dict:
        """The handling mode with this code, else the default (first), else 5 working days."""
        for mode in self.handling_modes or []:
            if not code or mode.get("code") == code:
                return mode
        return {"code": "", "name": "", "limit": 5, "unit": TimeUnit.DAYS}


class DispatchRule(models.Model):
    """Category (and its subtree) x area (and its subtree) -> department or level.

    The most specific rule wins: longest category code, then longest area path, then priority.
    `auto` dispatches at acceptance without a dispatcher's click.
    """

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="dispatch_rules",
                                 verbose_name=_("category"))
    area = models.ForeignKey("geography.Area", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+", verbose_name=_("area"))
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", verbose_name=_("department"))
    level = models.PositiveSmallIntegerField(_("handling level"), null=True, blank=True,
                                             help_text=_("1 district, 2 subdistrict, 3 community"))
    auto = models.BooleanField(_("dispatch automatically"), default=False)
    priority = models.SmallIntegerField(_("priority"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)  # as Category.updated_at

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        constraints = [models.CheckConstraint(condition=Q(department__isnull=False) | Q(level__isnull=False),
                                              name="dispatchrule_has_target")]

    def __str__(self) -> str:
        return f"{self.category} → {self.department or self.level}"


class Channel(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker patrol")
    RESIDENT_WEB = "web", _("Resident web form")
    APP = "app", _("Phone app")
    COUNTER = "counter", _("Counter (on behalf)")
    HOTLINE = "hotline", _("Hotline (on behalf)")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311")
    CCTV = "cctv", _("CCTV / other system")


class CaseQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(state__in=[s.value for s in (State.REPORTED, State.ACCEPTED, State.DISPATCHED,
                                                          State.IN_PROGRESS, State.TO_VERIFY, State.VERIFIED)])


def new_tracking_code() -> str:
    # Crockford-like alphabet without 0/O/1/I/L; a check pair is appended by services.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Case(models.Model):
    """One event or resident request, from intake to rating."""

    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category"))
    handling_mode = models.CharField(_("handling mode"), max_length=30, blank=True)
    grid = models.ForeignKey("geography.Area", on_delete=models.PROTECT, related_name="cases", verbose_name=_("grid"))
    area_path = models.CharField(max_length=15, editable=False)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey("geography.Building", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="cases", verbose_name=_("building"))
    description = models.TextField(_("description"), max_length=4000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="cases_created", verbose_name=_("recorded by"))
    reporter_name = models.CharField(_("reporter's name"), max_length=50, blank=True)
    # The reporter's phone, sealed (core.pii.sealed_columns): shown masked, looked up by keyed hash,
    # decrypted only by the audited reveal (personal.py).
    reporter_phone_cipher = models.TextField(editable=False, default="", blank=True)
    reporter_phone_hash = models.CharField(max_length=64, editable=False, default="", blank=True)
    reporter_phone_masked = models.CharField(_("reporter's phone"), max_length=24, editable=False, default="",
                                             blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.REPORTED)
    level = models.PositiveSmallIntegerField(_("level"), default=3)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="cases", verbose_name=_("department"))
    stage_started_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(_("stage deadline"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("handling deadline"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False)
    supervision = models.CharField(_("supervision"), max_length=6, choices=SupervisionMark.choices, blank=True,
                                   default="")
    extension_days = models.PositiveSmallIntegerField(null=True, blank=True)
    deferred = models.BooleanField(_("deferred (extension approved)"), default=False)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged",
                                    verbose_name=_("merged into"))
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    review_needed = models.BooleanField(_("needs review"), default=False)
    created_at = models.DateTimeField(_("reported"), db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    idempotency_scope = models.CharField(max_length=40, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    objects = CaseQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["area_path", "state", "id"], name="case_area_state"),
            # The queue (newest first) filters by open states: a few percent of the cases. PostgreSQL reads a
            # page of them from this index for "all open", one state, overdue, channel or area alike.
            models.Index(fields=["-id"], name="case_open_newest",
                         condition=Q(state__in=[s.value for s in OPEN_STATES])),
            # The rollups' recount of a grid's open cases (dashboards.rollups), index-only on PostgreSQL: without
            # it the drain read every open case of the district through case_open_newest, whatever the grids.
            models.Index(fields=["area_path"], name="case_open_by_grid",
                         include=["category", "department", "state", "overdue", "supervision", "id"],
                         condition=Q(state__in=[s.value for s in OPEN_STATES])),
            # PostgreSQL: prefix LIKE on area_path (scoping, area filter) needs pattern ops; ignored elsewhere.
            models.Index(fields=["area_path"], name="case_area_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["state", "deadline"], name="case_state_deadline"),
            models.Index(fields=["state", "warn_at"], name="case_state_warn"),
            models.Index(fields=["department", "state", "id"], name="case_dept_state"),
            models.Index(fields=["category", "state"], name="case_category_state"),
            models.Index(fields=["review_needed"], name="case_review", condition=Q(review_needed=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_scope", "idempotency_key"], name="case_idempotency",
                                    condition=~Q(idempotency_key="")),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=4), name="case_level_range"),
            models.CheckConstraint(condition=Q(state="merged", merged_into__isnull=False) | ~Q(state="merged"),
                                   name="case_merged_has_target"),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.category.name}"

    @property
    def reporter_name_masked(self) -> str:
        return pii.mask_name(self.reporter_name)

    @property
    def is_open(self) -> bool:
        return self.state not in (State.CLOSED, State.REJECTED, State.CANCELLED, State.MERGED)


class CaseStep(models.Model):
    """One recorded move of a case (append-only): who, when, what, with which deadline and outcome.

    `on_time` records whether the step met the deadline it answered (null when none applied);
    `department` is the department in charge after the step; indicators count these rows.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    actor_label = models.CharField(_("by"), max_length=150)
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    level = models.PositiveSmallIntegerField(default=3)
    area_path = models.CharField(max_length=15)
    at = models.DateTimeField(_("time"), db_index=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    on_time = models.BooleanField(null=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    reason_code = models.CharField(_("reason"), max_length=20, blank=True, choices=ReturnReason.choices)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    public = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        indexes = [
            models.Index(fields=["action", "at"], name="casestep_action_at"),
            models.Index(fields=["area_path", "at"], name="casestep_area_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "external_id"], name="casestep_external_unique",
                                    condition=~Q(external_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


def _attachment_path(instance, filename):
    return f"cases/{instance.created_at:%Y/%m}/{secrets.token_hex(12)}.jpg"


def _public_path(instance, filename):
    return f"cases/public/{instance.created_at:%Y/%m}/{secrets.token_hex(12)}.jpg"


class Attachment(models.Model):
    """A photo on a case, re-encoded as JPEG. `public_file` is a smaller copy without any EXIF."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    step = models.ForeignKey(CaseStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path)
    public_file = models.FileField(upload_to=_public_path)
    original_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.original_name}"


class CaseFollower(models.Model):
    """Someone notified of a case's public steps: a user or a phone number (a resident without account)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    # A resident's phone, sealed like Case.reporter_phone_*; one follower per (case, phone hash).
    phone_cipher = models.TextField(editable=False, default="", blank=True)
    phone_hash = models.CharField(max_length=64, editable=False, default="", blank=True)
    phone_masked = models.CharField(max_length=24, editable=False, default="", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="follower_user_unique", condition=Q(user__isnull=False)),
            models.UniqueConstraint(fields=["case", "phone_hash"], name="follower_phone_unique",
                                    condition=~Q(phone_hash="")),
        ]

    def __str__(self) -> str:
        return self.phone_masked or str(self.user_id)


class PhoneVerification(models.Model):
    """A one-time code sent to a phone (public intake). Only keyed digests of the code and of the phone
    are stored (and a masked copy of the phone): the number itself is never needed again."""

    phone_hash = models.CharField(max_length=64, db_index=True, default="")
    phone_masked = models.CharField(max_length=24, default="")
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.phone_masked


class CalendarOverride(models.Model):
    """One day whose working status an administrator sets by hand, consulted before the chinesecalendar
    package (workcal.is_working_day): a holiday (is_working_day False) or a make-up working day on a
    weekend (调休, True). For years the package does not cover yet, administrators enter the State
    Council's schedule here; the override also corrects a local exception."""

    day = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=60, blank=True, help_text=_("e.g. 春节 or 国庆节调休"))

    class Meta:
        ordering = ["day"]
        verbose_name = _("working-calendar day")
        verbose_name_plural = _("working-calendar days")

    def __str__(self) -> str:
        return f"{self.day} {self.name}".strip()
