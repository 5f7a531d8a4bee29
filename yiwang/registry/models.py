"""The base registry (人、事、物、地、情、组织): people and households, housing, organisations, urban
components, special-group tags, the situation log, change requests and import jobs.

Every area-owned table carries a denormalized, indexed `area_path` (the path of its grid) so that
`visible_to(actor, perm)` is a prefix match on the row itself, with no join, on a million rows.
Identity numbers and phones are stored encrypted (`*_cipher`, yiwang.core.pii) with a keyed hash
for exact search and a masked copy for display; the plaintext never touches the database.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yiwang.core.scoping import ScopedQuerySet


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class IdType(models.TextChoices):
    ID_CARD = "id_card", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_TAIWAN = "hmt", _("Hong Kong, Macao or Taiwan permit")
    OTHER = "other", _("Other document")


class HukouType(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    FLOATING = "floating", _("Floating (流动)")
    RESIDENT = "resident", _("Resident, registered elsewhere (常住)")
    FOREIGN = "foreign", _("Foreign national (境外)")


class Education(models.TextChoices):
    NONE = "none", _("No schooling")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior secondary")
    SENIOR = "senior", _("Senior secondary / vocational")
    COLLEGE = "college", _("Junior college")
    BACHELOR = "bachelor", _("Bachelor")
    POSTGRADUATE = "postgraduate", _("Postgraduate")


class PoliticalStatus(models.TextChoices):
    MASSES = "masses", _("Masses (群众)")
    CPC = "cpc", _("CPC member")
    CPC_PROBATIONARY = "cpc_probationary", _("CPC probationary member")
    CYL = "cyl", _("Communist Youth League member")
    OTHER_PARTY = "other_party", _("Member of another party")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class AreaOwned(models.Model):
    """Rows that belong to a grid; `area_path` copies the grid's path for join-free scoping."""

    grid = models.ForeignKey("geography.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    area_path = models.CharField(_("area"), max_length=15, db_index=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.grid_id and not self.area_path:
            self.area_path = self.grid.path
        super().save(*args, **kwargs)

    def set_grid(self, grid) -> None:
        self.grid = grid
        self.area_path = grid.path


class Dwelling(AreaOwned):
    """A dwelling (房屋) in a building: building → unit → room. `use` says who lives there."""

    class Use(models.TextChoices):
        OWNER_OCCUPIED = "owner", _("Owner-occupied")
        RENTED = "rented", _("Rented")
        VACANT = "vacant", _("Vacant")
        COMMERCIAL = "commercial", _("Commercial")

    building = models.ForeignKey("geography.Building", on_delete=models.PROTECT, related_name="dwellings",
                                 verbose_name=_("building"))
    unit = models.PositiveSmallIntegerField(_("unit"), default=1)
    floor = models.SmallIntegerField(_("floor"), default=1)
    room = models.CharField(_("room"), max_length=20)
    floor_area = models.DecimalField(_("floor area (m²)"), max_digits=7, decimal_places=2, null=True, blank=True)
    use = models.CharField(_("use"), max_length=12, choices=Use.choices, default=Use.OWNER_OCCUPIED)
    owner_name = models.CharField(_("owner"), max_length=100, blank=True)
    owner = models.ForeignKey("Resident", on_delete=models.SET_NULL, null=True, blank=True, related_name="owned",
                              verbose_name=_("owner (resident)"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["building_id", "unit", "room"]
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        constraints = [models.UniqueConstraint(fields=["building", "unit", "room"], name="dwelling_unique_room")]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return f"{self.building.name}{self.unit}单元{self.room}室"


class Resident(AreaOwned):
    """A person who lives (or is registered) in a grid: 实有人口."""

    # A person's name is 姓名 in Chinese, a thing's 名称: the "person" context keeps them apart.
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    name_pinyin = models.CharField(_("pinyin"), max_length=200, editable=False, default="")
    name_initials = models.CharField(_("pinyin initials"), max_length=50, editable=False, default="")
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, default="汉族", blank=True)
    id_type = models.CharField(_("ID type"), max_length=10, choices=IdType.choices, default=IdType.ID_CARD)
    id_cipher = models.TextField(editable=False, default="", blank=True)
    id_hash = models.CharField(max_length=64, editable=False, default="", blank=True)
    id_masked = models.CharField(_("ID number"), max_length=32, editable=False, default="", blank=True)
    phone_cipher = models.TextField(editable=False, default="", blank=True)
    phone_hash = models.CharField(max_length=64, editable=False, default="", blank=True)
    phone_masked = models.CharField(_("phone"), max_length=24, editable=False, default="", blank=True)
    hukou_type = models.CharField(_("household registration"), max_length=12, choices=HukouType.choices,
                                  default=HukouType.REGISTERED)
    education = models.CharField(_("education"), max_length=14, choices=Education.choices, blank=True)
    occupation = models.CharField(_("occupation"), max_length=100, blank=True)
    political_status = models.CharField(_("political status"), max_length=20, choices=PoliticalStatus.choices,
                                        default=PoliticalStatus.MASSES, blank=True)
    dwelling = models.ForeignKey(Dwelling, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="residents", verbose_name=_("dwelling"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ResidentStatus.choices,
                              default=ResidentStatus.ACTIVE)
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area_path", "name", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        constraints = [
            # One person, one record: the keyed hash of the ID number is unique where known.
            models.UniqueConstraint(fields=["id_hash"], condition=~Q(id_hash=""), name="resident_id_hash_unique"),
        ]
        indexes = [
            # Prefix search (LIKE 'x%') on PostgreSQL needs pattern ops unless the collation is C;
            # other backends ignore opclasses. The area path rides along so scoping filters inside
            # the index scan.
            models.Index(fields=["name", "area_path"], name="resident_name_idx",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["name_pinyin", "area_path"], name="resident_pinyin_idx",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["name_initials", "area_path"], name="resident_initials_idx",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["address", "area_path"], name="resident_address_idx",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["phone_hash"], name="resident_phone_hash_idx"),
            models.Index(fields=["area_path", "birth_date"], name="resident_area_birth_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_masked})" if self.id_masked else self.name

    def age(self, today: dt.date | None = None) -> int | None:
        if not self.birth_date:
            return None
        today = today or dt.date.today()
        return today.year - self.birth_date.year - ((today.month, today.day) < (self.birth_date.month,
                                                                                 self.birth_date.day))

    @property
    def is_child(self) -> bool:
        """Under 14: personal information of children is sensitive (PIPL art. 28)."""
        age = self.age()
        return age is not None and age < 14


class Household(AreaOwned):
    """A household (户) with its members; exactly one current head (see HouseholdMember)."""

    number = models.CharField(_("household number"), max_length=30, blank=True)
    dwelling = models.ForeignKey(Dwelling, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="households", verbose_name=_("dwelling"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area_path", "number", "id"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [models.UniqueConstraint(fields=["grid", "number"], condition=~Q(number=""),
                                               name="household_number_unique_in_grid")]

    def __str__(self) -> str:
        return self.number or self.address or f"#{self.pk}"

    def current_members(self):
        return self.memberships.filter(left_on__isnull=True).select_related("resident")

    def head(self):
        member = self.memberships.filter(left_on__isnull=True, relation=HouseholdMember.Relation.HEAD).first()
        return member.resident if member else None


class HouseholdMember(models.Model):
    """A person's membership of a household over time; ended rows are the move history."""

    class Relation(models.TextChoices):
        HEAD = "head", _("Head of household")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        GRANDCHILD = "grandchild", _("Grandchild")
        GRANDPARENT = "grandparent", _("Grandparent")
        SIBLING = "sibling", _("Sibling")
        OTHER = "other", _("Other relative or lodger")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships",
                                  verbose_name=_("household"))
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="memberships",
                                 verbose_name=_("resident"))
    relation = models.CharField(_("relation to head"), max_length=12, choices=Relation.choices)
    joined_on = models.DateField(_("joined"), default=dt.date.today)
    left_on = models.DateField(_("left"), null=True, blank=True)

    class Meta:
        ordering = ["household_id", "left_on", "id"]
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(relation="head", left_on__isnull=True),
                                    name="household_one_current_head"),
            models.UniqueConstraint(fields=["resident"], condition=Q(left_on__isnull=True),
                                    name="resident_one_current_household"),
            models.CheckConstraint(condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                                   name="household_member_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.resident.name} · {self.get_relation_display()}"


class Rental(AreaOwned):
    """A rental of a dwelling (出租房登记) with its tenants and dates."""

    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="rentals",
                                 verbose_name=_("dwelling"))
    landlord_name = models.CharField(_("landlord"), max_length=100)
    registration_no = models.CharField(_("lease registration number"), max_length=50, blank=True)
    monthly_rent = models.DecimalField(_("monthly rent (yuan)"), max_digits=9, decimal_places=2, null=True,
                                       blank=True)
    rooms_let = models.PositiveSmallIntegerField(_("rooms let"), default=1)
    max_occupants = models.PositiveSmallIntegerField(_("maximum occupants"), null=True, blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    tenants = models.ManyToManyField(Resident, related_name="rentals", blank=True, verbose_name=_("tenants"))
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "id"]
        verbose_name = _("rental")
        verbose_name_plural = _("rentals")
        constraints = [models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                              name="rental_dates_ordered")]

    def __str__(self) -> str:
        return f"{self.dwelling} {self.start_date:%Y-%m-%d}"


class Organisation(AreaOwned):
    """An organisation in a grid (单位/组织): enterprise, shop, owners' committee, school..."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        SHOP = "shop", _("Shop / sole trader")
        SOCIAL = "social", _("Social organisation")
        OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
        PROPERTY_COMPANY = "property_company", _("Property management company")
        SCHOOL = "school", _("School")
        HOSPITAL = "hospital", _("Hospital / clinic")
        PUBLIC_BODY = "public_body", _("Government or public institution")
        PARTY = "party", _("Party organisation")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=150)
    name_initials = models.CharField(max_length=80, editable=False, default="")
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey("geography.Building", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="organisations", verbose_name=_("building"))
    sector = models.CharField(_("sector"), max_length=60, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    party_organisation = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="member_units", limit_choices_to={"kind": "party"},
                                           verbose_name=_("party organisation"))
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area_path", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [models.UniqueConstraint(fields=["credit_code"], condition=~Q(credit_code=""),
                                               name="organisation_credit_code_unique")]
        indexes = [models.Index(fields=["name", "area_path"], name="organisation_name_idx",
                                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name


class ComponentCategory(models.Model):
    """A class of the standard component tree (大类/小类, CJ/T 214 / GB/T 30428.2 lineage)."""

    large_code = models.CharField(_("major class code"), max_length=2)
    large_name = models.CharField(_("major class"), max_length=30)
    small_code = models.CharField(_("minor class code"), max_length=3)
    name = models.CharField(_("minor class"), max_length=60)

    class Meta:
        ordering = ["large_code", "small_code"]
        verbose_name = _("component category")
        verbose_name_plural = _("component categories")
        constraints = [models.UniqueConstraint(fields=["large_code", "small_code"], name="component_category_unique")]

    def __str__(self) -> str:
        return f"{self.large_name} · {self.name}"


class Component(AreaOwned):
    """An urban component (部件): manhole cover, hydrant, lamp... with its 16-character code."""

    class State(models.TextChoices):
        NORMAL = "normal", _("Normal")
        DAMAGED = "damaged", _("Damaged")
        MISSING = "missing", _("Missing")
        OCCUPIED = "occupied", _("Obstructed / occupied")
        REMOVED = "removed", _("Removed")

    category = models.ForeignKey(ComponentCategory, on_delete=models.PROTECT, related_name="components",
                                 verbose_name=_("category"))
    serial = models.PositiveIntegerField(_("serial"))
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="components", verbose_name=_("responsible department"))
    owner_unit = models.CharField(_("owner unit"), max_length=100, blank=True)
    maintainer_unit = models.CharField(_("maintenance unit"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.NORMAL)
    installed_on = models.DateField(_("recorded on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("urban component")
        verbose_name_plural = _("urban components")
        constraints = [models.UniqueConstraint(fields=["category", "serial"], name="component_serial_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name or self.category.name}"


class SpecialGroup(models.Model):
    """A special-group category (GB/T 31000 "9+X") with its sensitivity and default visit interval."""

    class Sensitivity(models.IntegerChoices):
        ORDINARY = 1, _("Ordinary (care)")
        SENSITIVE = 2, _("Sensitive")
        RESTRICTED = 3, _("Restricted (key persons)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    sensitivity = models.PositiveSmallIntegerField(_("sensitivity"), choices=Sensitivity.choices,
                                                   default=Sensitivity.SENSITIVE)
    visit_interval_days = models.PositiveSmallIntegerField(_("visit every (days)"), default=30)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("special group")
        verbose_name_plural = _("special groups")

    def __str__(self) -> str:
        return self.name


class ResidentTag(models.Model):
    """A resident's membership of a special group, with the assigned helper (包联人) and visit interval."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="tags",
                                 verbose_name=_("resident"))
    group = models.ForeignKey(SpecialGroup, on_delete=models.PROTECT, related_name="tags",
                              verbose_name=_("special group"))
    area_path = models.CharField(max_length=15, db_index=True, editable=False)
    helper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="helped_tags", verbose_name=_("assigned helper"))
    visit_interval_days = models.PositiveSmallIntegerField(_("visit every (days)"))
    since = models.DateField(_("since"), default=dt.date.today)
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["group__order", "id"]
        verbose_name = _("special-group tag")
        verbose_name_plural = _("special-group tags")
        constraints = [models.UniqueConstraint(fields=["resident", "group"], condition=Q(until__isnull=True),
                                               name="resident_tag_unique_current")]
        indexes = [models.Index(fields=["group", "area_path"], name="resident_tag_group_area_idx")]

    def __str__(self) -> str:
        return f"{self.resident.name} · {self.group.name}"


class SituationLog(AreaOwned):
    """A situation-log entry (民情日志): what a grid worker heard and saw."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    occurred_at = models.DateTimeField(_("when"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    text = models.TextField(_("what was heard or seen"))
    tags = models.CharField(_("tags"), max_length=200, blank=True, help_text=_("Separated by commas"))
    residents = models.ManyToManyField(Resident, blank=True, related_name="situation_logs",
                                       verbose_name=_("people concerned"))
    households = models.ManyToManyField(Household, blank=True, related_name="situation_logs",
                                        verbose_name=_("households concerned"))
    follow_up_needed = models.BooleanField(_("follow-up needed"), default=False)
    followed_up_at = models.DateTimeField(_("followed up"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("situation log entry")
        verbose_name_plural = _("situation log")

    def __str__(self) -> str:
        return self.text[:40]

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()]


class ChangeRequest(models.Model):
    """A proposed edit of a registry record by someone who may not edit it directly (a grid worker).

    `changes` maps field -> {"old": ..., "new": ...} (JSON values; personal data only as
    ciphertext tokens). Approval applies the new values if the old ones still hold.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    target_type = models.CharField(_("record type"), max_length=20)
    target_id = models.PositiveBigIntegerField(_("record"))
    target_repr = models.CharField(_("record"), max_length=200)
    area_path = models.CharField(max_length=15, db_index=True, editable=False)
    changes = models.JSONField(_("changes"))
    fingerprint = models.CharField(max_length=64, editable=False)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "area_path"

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        constraints = [
            # A replayed submission (double tap, offline resend) finds the pending one instead.
            models.UniqueConstraint(fields=["fingerprint"], condition=Q(state="pending"),
                                    name="change_request_pending_unique"),
        ]
        indexes = [models.Index(fields=["target_type", "target_id"], name="change_request_target_idx")]

    def __str__(self) -> str:
        return f"{self.target_repr} ({self.get_state_display()})"


class ImportJob(models.Model):
    """One Excel import: the uploaded file, its dry-run summary, progress and outcome."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKED = "checked", _("Checked (dry run)")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed, nothing imported")

    class DuplicateMode(models.TextChoices):
        SKIP = "skip", _("Skip people already registered")
        MERGE = "merge", _("Update people already registered with the file's values")

    kind = models.CharField(_("kind"), max_length=20, default="resident")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("imported by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    file = models.FileField(upload_to="registry/imports/%Y/%m/", max_length=300)
    filename = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.UPLOADED)
    duplicate_mode = models.CharField(_("people already registered"), max_length=5,
                                      choices=DuplicateMode.choices, default=DuplicateMode.SKIP)
    rows_total = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    error_report = models.FileField(upload_to="registry/import-errors/%Y/%m/", max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"
