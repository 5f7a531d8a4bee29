"""Patrols, household visits and the offline-sync receipts of the grid worker's phone app.

Everything a phone creates offline carries a client UUID. The server keeps one `SyncRecord` per UUID
(the receipt: what the first arrival produced), so a resent record returns the first result and never
creates a second object; the same UUID with different content is refused.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.scoping import ScopedQuerySet


class Patrol(models.Model):
    """One daily patrol (日巡查) of a grid worker in one grid: start/stop, GPS track and check-ins.

    The track is a list of [lon, lat, epoch_ms, accuracy_m] samples taken while the app was open; the
    check-ins are {lon, lat, at, note}. Distance and duration are computed on receipt.
    """

    client_uuid = models.UUIDField(_("client ID"), unique=True, default=uuid.uuid4, editable=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrols",
                               verbose_name=_("grid worker"))
    grid = models.ForeignKey("geography.Area", on_delete=models.PROTECT, related_name="patrols",
                             verbose_name=_("grid"))
    area_path = models.CharField(max_length=15, db_index=True, editable=False)
    day = models.DateField(_("day"), db_index=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    track = models.JSONField(_("track"), default=list, blank=True)
    checkins = models.JSONField(_("check-ins"), default=list, blank=True)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    duration_s = models.PositiveIntegerField(_("duration (s)"), default=0)
    note = models.TextField(_("note"), blank=True)
    clock_skew_s = models.IntegerField(_("phone clock offset (s)"), default=0)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        indexes = [models.Index(fields=["worker", "day"], name="patrol_worker_day_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ended_at__gte=models.F("started_at")),
                                   name="patrol_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.worker} {self.grid.name if self.grid_id else ''}"

    @property
    def point_count(self) -> int:
        return len(self.track or [])


class VisitPurpose(models.TextChoices):
    ROUTINE = "routine", _("Routine visit")
    SPECIAL_GROUP = "special_group", _("Special-group care visit")
    FOLLOW_UP = "follow_up", _("Follow-up visit")
    DATA_COLLECTION = "data_collection", _("Data collection")
    DISPUTE = "dispute", _("Dispute screening")
    OTHER = "other", _("Other")


class VisitMethod(models.TextChoices):
    IN_HOME = "in_home", _("In the home")
    PHONE = "phone", _("By phone")
    MEETING = "meeting", _("Meeting elsewhere")


class Visit(models.Model):
    """A household visit (日走访): who was met, what was found and heard, and what follow-up is due.

    `version` grows with every edit; an edit from a phone names the version it was based on, and an
    outdated base comes back as a conflict instead of silently overwriting.
    """

    client_uuid = models.UUIDField(_("client ID"), unique=True, default=uuid.uuid4, editable=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits",
                               verbose_name=_("grid worker"))
    grid = models.ForeignKey("geography.Area", on_delete=models.PROTECT, related_name="visits",
                             verbose_name=_("grid"))
    area_path = models.CharField(max_length=15, db_index=True, editable=False)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="visits", verbose_name=_("household"))
    household_label = models.CharField(_("household (as shown)"), max_length=200, blank=True)
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=VisitPurpose.choices,
                               default=VisitPurpose.ROUTINE)
    method = models.CharField(_("how"), max_length=20, choices=VisitMethod.choices, default=VisitMethod.IN_HOME)
    people_met = models.CharField(_("people met"), max_length=300, blank=True)
    findings = models.TextField(_("findings"), blank=True)
    needs = models.TextField(_("needs heard"), blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    follow_up_done_at = models.DateTimeField(_("follow-up done"), null=True, blank=True)
    photos = models.JSONField(_("photos"), default=list, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    clock_skew_s = models.IntegerField(_("phone clock offset (s)"), default=0)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-visited_at"]
        verbose_name = _("household visit")
        verbose_name_plural = _("household visits")
        indexes = [models.Index(fields=["worker", "visited_at"], name="visit_worker_time_idx"),
                   models.Index(fields=["household", "visited_at"], name="visit_household_time_idx")]

    def __str__(self) -> str:
        return f"{self.visited_at:%Y-%m-%d} {self.household_label}"


class SyncKind(models.TextChoices):
    PATROL = "patrol", _("Patrol")
    VISIT = "visit", _("Household visit")
    VISIT_EDIT = "visit_edit", _("Visit edit")
    EVENT = "event", _("Event report")
    VERIFY = "verify", _("On-site verification")
    SITUATION = "situation", _("Situation log entry")
    CORRECTION = "correction", _("Registry correction")


class SyncRecord(models.Model):
    """The receipt of one offline record, keyed by the phone's UUID.

    It stores a hash of the content and the result the first arrival produced; resends return that
    result. Client time is kept as sent, the server receipt time is separate, and a phone clock off by
    more than the tolerance is flagged.
    """

    client_uuid = models.UUIDField(_("client ID"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=SyncKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("sent by"))
    area_path = models.CharField(max_length=15, db_index=True, blank=True)
    content_hash = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    result = models.JSONField(default=dict, blank=True)
    client_time = models.DateTimeField(_("time on the phone"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    clock_skew_s = models.IntegerField(_("phone clock offset (s)"), default=0)
    clock_skew_flag = models.BooleanField(_("phone clock off"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("sync receipt")
        verbose_name_plural = _("sync receipts")

    def __str__(self) -> str:
        return f"{self.kind} {self.client_uuid}"


class UploadStatus(models.TextChoices):
    RECEIVING = "receiving", _("Receiving")
    COMPLETE = "complete", _("Complete")
    REJECTED = "rejected", _("Rejected")


class PhotoUpload(models.Model):
    """A photo uploaded in chunks (resumable): the phone names the upload, sends bytes at an offset,
    and can ask how far the server got after a broken connection. Validated as an image when complete.
    """

    upload_id = models.UUIDField(_("upload ID"), unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    area_path = models.CharField(max_length=15, blank=True, db_index=True)
    filename = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField(_("size (bytes)"))
    received = models.PositiveIntegerField(_("bytes received"), default=0)
    status = models.CharField(max_length=12, choices=UploadStatus.choices, default=UploadStatus.RECEIVING)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("photo upload")
        verbose_name_plural = _("photo uploads")

    def __str__(self) -> str:
        return f"{self.filename} ({self.received}/{self.size})"

    @property
    def relative_path(self) -> str:
        return f"fieldwork/uploads/{self.upload_id}.part"


MAX_VISIT_INTERVAL_DAYS = 365


class VisitSchedule(models.Model):
    """A household's own visit interval, set by community staff; it overrides the interval that
    would follow from its members' special-group tags and the default."""

    household = models.OneToOneField("registry.Household", on_delete=models.CASCADE, related_name="visit_schedule",
                                     verbose_name=_("household"))
    area_path = models.CharField(max_length=15, db_index=True, editable=False)
    interval_days = models.PositiveSmallIntegerField(_("visit every (days)"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        verbose_name = _("visit schedule")
        verbose_name_plural = _("visit schedules")
        constraints = [models.CheckConstraint(condition=models.Q(interval_days__gte=1), name="visit_interval_positive"),
                       models.CheckConstraint(condition=models.Q(interval_days__lte=MAX_VISIT_INTERVAL_DAYS),
                                              name="visit_interval_at_most_a_year")]

    def __str__(self) -> str:
        return f"{self.household} / {self.interval_days}"
