"""The area tree (district > subdistrict > community > grid) and buildings.

Codes follow DOMAIN.md: a 6-digit administrative division code (GB/T 2260), then 3 digits each for
the subdistrict, community and grid (15 digits in all). The parts are stored; `path` is the code
prefix that identifies an area at its level (6, 9, 12 or 15 digits), which doubles as the
materialized path: every descendant's path starts with its ancestor's path.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.scoping import ScopedQuerySet


class AreaLevel(models.IntegerChoices):
    DISTRICT = 1, _("District")
    SUBDISTRICT = 2, _("Subdistrict")
    COMMUNITY = 3, _("Community")
    GRID = 4, _("Grid")

    @classmethod
    def from_slug(cls, value) -> "AreaLevel":
        slugs = {"district": cls.DISTRICT, "subdistrict": cls.SUBDISTRICT,
                 "community": cls.COMMUNITY, "grid": cls.GRID}
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return cls(int(value))
        return slugs[str(value).strip().lower()]

    @property
    def slug(self) -> str:
        return self.name.lower()


PATH_LENGTH = {AreaLevel.DISTRICT: 6, AreaLevel.SUBDISTRICT: 9, AreaLevel.COMMUNITY: 12, AreaLevel.GRID: 15}


def format_code(division_code: str, street_no: int = 0, community_no: int = 0, grid_no: int = 0) -> str:
    return f"{division_code}{street_no:03d}{community_no:03d}{grid_no:03d}"


def split_code(code: str) -> tuple[str, int, int, int]:
    return code[:6], int(code[6:9]), int(code[9:12]), int(code[12:15])


def level_of_code(code: str) -> AreaLevel:
    _division, street, community, grid = split_code(code)
    if grid:
        return AreaLevel.GRID
    if community:
        return AreaLevel.COMMUNITY
    if street:
        return AreaLevel.SUBDISTRICT
    return AreaLevel.DISTRICT


class Area(models.Model):
    """One node of the governance tree with its GeoJSON boundary (WGS-84)."""

    level = models.PositiveSmallIntegerField(_("level"), choices=AreaLevel.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent"))
    name = models.CharField(_("name"), max_length=100)
    division_code = models.CharField(_("division code"), max_length=6)
    street_no = models.PositiveSmallIntegerField(_("subdistrict number"), default=0)
    community_no = models.PositiveSmallIntegerField(_("community number"), default=0)
    grid_no = models.PositiveSmallIntegerField(_("grid number"), default=0)
    path = models.CharField(_("path"), max_length=15, unique=True, editable=False)
    boundary = models.JSONField(_("boundary"), null=True, blank=True,
                                help_text=_("GeoJSON Polygon or MultiPolygon in WGS-84"))
    centroid_lon = models.FloatField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    households_estimate = models.PositiveIntegerField(_("households (estimate)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "path"

    class Meta:
        ordering = ["path"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(level=1, parent__isnull=True) | models.Q(level__gt=1, parent__isnull=False)),
                name="area_root_is_district",
            ),
        ]
        # The area switcher on every page reads the levels down to communities (a few dozen of a district's
        # thousands of areas): with this index PostgreSQL reads them instead of scanning every area.
        indexes = [models.Index(fields=["level"], name="area_level")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        return format_code(self.division_code, self.street_no, self.community_no, self.grid_no)[
            : PATH_LENGTH[AreaLevel(self.level)]
        ]

    @property
    def code(self) -> str:
        """The 15-digit code, zero-filled below this area's level."""
        return format_code(self.division_code, self.street_no, self.community_no, self.grid_no)

    @property
    def level_enum(self) -> AreaLevel:
        return AreaLevel(self.level)

    def ancestor_paths(self) -> list[str]:
        return [self.path[:n] for n in (6, 9, 12, 15) if n < len(self.path)]


class Building(models.Model):
    """A residential or other building (楼栋) inside one grid, with a point location."""

    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="buildings",
                             limit_choices_to={"level": AreaLevel.GRID}, verbose_name=_("grid"))
    number = models.CharField(_("number"), max_length=20)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    floors = models.PositiveSmallIntegerField(_("floors"), default=6)
    units = models.PositiveSmallIntegerField(_("units"), default=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_lookup = "grid__path"

    class Meta:
        ordering = ["grid__path", "number"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [models.UniqueConstraint(fields=["grid", "number"], name="building_number_unique_in_grid")]

    def __str__(self) -> str:
        return self.name
