"""Deterministic demo district modelled on Lishi (DOMAIN.md): 3 subdistricts, 27 communities, grids of
about 300 households that tile each community, buildings, 279 community staff, grid workers,
dispatchers at every level and departments with handlers.

Geometry: the urban core is cut by a jittered lattice into 9 x 3 community quads (3 x 3 per
subdistrict, numbered west to east, north to south); each community quad is split into grid quads by
bilinear interpolation, so neighbours share exact edges: no gaps, no overlaps, nothing crossing a
community boundary.

Later apps add their own demo data in `yiwang/<app>/demo.py: generate(ctx)`, called in
INSTALLED_APPS order after this module.
"""

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password
from shapely.geometry import Polygon

from yiwang.accounts.models import Department, Membership, User
from yiwang.accounts.roles import Role
from yiwang.geography.models import Area, AreaLevel, Building

from .names import DEPARTMENTS, GIVEN, STREETS, SUBDISTRICTS, SURNAMES

DIVISION = "141102"
DEMO_PASSWORD = "Yiwang2026"
DATA = Path(__file__).parent / "data" / "lishi-district.wgs84.geojson"
STAFF_TOTAL = 279

# The urban core in WGS-84 (the seed data's centre, converted from GCJ-02), about 6.6 x 4.4 km.
CORE_WEST, CORE_EAST = 111.0905, 111.1655
CORE_NORTH, CORE_SOUTH = 37.5435, 37.5035


@dataclass
class DemoContext:
    rng: random.Random
    scale: float
    district: Area | None = None
    subdistricts: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    password_hash: str = ""

    def person_name(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given


def _lerp(a, b, t):
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _bilinear(quad, u, v):
    """Point at (u, v) in a quad given as (nw, ne, se, sw)."""
    nw, ne, se, sw = quad
    return _lerp(_lerp(nw, ne, u), _lerp(sw, se, u), v)


def _lattice(cols: int, rows: int, west, east, north, south, rng, jitter: float):
    """(cols+1) x (rows+1) points; interior points moved by up to `jitter` of a cell."""
    points = []
    for r in range(rows + 1):
        row = []
        for c in range(cols + 1):
            x = west + (east - west) * c / cols
            y = north + (south - north) * r / rows
            if 0 < c < cols and 0 < r < rows:
                x += (rng.random() - 0.5) * 2 * jitter * (east - west) / cols
                y += (rng.random() - 0.5) * 2 * jitter * (south - north) / rows
            row.append((x, y))
        points.append(row)
    return points


def _quad_geojson(quad) -> dict:
    ring = [list(map(lambda v: round(v, 7), p)) for p in (quad[0], quad[1], quad[2], quad[3], quad[0])]
    return {"type": "Polygon", "coordinates": [ring]}


def _split_quad(quad, cols: int, rows: int, rng, jitter: float):
    """Sub-quads of a quad; edge points stay on the quad's straight edges so tiling is exact."""
    uv = _lattice(cols, rows, 0.0, 1.0, 0.0, 1.0, rng, jitter)
    pts = [[_bilinear(quad, u, v) for (u, v) in row] for row in uv]
    cells = []
    for r in range(rows):
        for c in range(cols):
            cells.append((pts[r][c], pts[r][c + 1], pts[r + 1][c + 1], pts[r + 1][c]))
    return cells


def _area(level, parent, name, street=0, community=0, grid=0, boundary=None, households=None) -> Area:
    area = Area(level=level, parent=parent, name=name, division_code=DIVISION, street_no=street,
                community_no=community, grid_no=grid, boundary=boundary, households_estimate=households)
    if boundary:
        point = Polygon(boundary["coordinates"][0]).representative_point()
        area.centroid_lon, area.centroid_lat = round(point.x, 7), round(point.y, 7)
    area.path = area.compute_path()
    return area


def generate_geography(ctx: DemoContext) -> None:
    rng = ctx.rng
    district_geometry = json.loads(DATA.read_text())["features"][0]["geometry"]
    ctx.district = _area(AreaLevel.DISTRICT, None, "离石区", boundary=district_geometry)
    ctx.district.save()

    community_lattice = _lattice(9, 3, CORE_WEST, CORE_EAST, CORE_NORTH, CORE_SOUTH, rng, 0.18)
    sub_rows = []
    for s, (sub_name, _communities) in enumerate(SUBDISTRICTS):
        c0, c1 = s * 3, s * 3 + 3
        ring = ([community_lattice[0][c] for c in range(c0, c1 + 1)]
                + [community_lattice[r][c1] for r in range(1, 4)]
                + [community_lattice[3][c] for c in range(c1 - 1, c0 - 1, -1)]
                + [community_lattice[r][c0] for r in range(2, -1, -1)])
        boundary = {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}
        sub_rows.append(_area(AreaLevel.SUBDISTRICT, ctx.district, sub_name, street=s + 1, boundary=boundary))
    Area.objects.bulk_create(sub_rows)
    ctx.subdistricts = list(Area.objects.filter(level=AreaLevel.SUBDISTRICT).order_by("path"))

    communities, quads = [], []
    for s, (_sub_name, names) in enumerate(SUBDISTRICTS):
        for i, name in enumerate(names):
            r, c = divmod(i, 3)  # north to south, west to east inside the subdistrict
            col = s * 3 + c
            quad = (community_lattice[r][col], community_lattice[r][col + 1],
                    community_lattice[r + 1][col + 1], community_lattice[r + 1][col])
            communities.append(_area(AreaLevel.COMMUNITY, ctx.subdistricts[s], name, street=s + 1,
                                     community=i + 1, boundary=_quad_geojson(quad)))
            quads.append(quad)
    Area.objects.bulk_create(communities)
    ctx.communities = list(Area.objects.filter(level=AreaLevel.COMMUNITY).order_by("path"))

    shapes = [(3, 3), (3, 4), (4, 3), (4, 4), (3, 5)]
    grids = []
    for community, quad in zip(ctx.communities, quads, strict=True):
        cols, rows = shapes[rng.randrange(len(shapes))]
        factor = max(ctx.scale, 0.1) ** 0.5
        cols, rows = max(1, round(cols * factor)), max(1, round(rows * factor))
        total = 0
        for n, cell in enumerate(_split_quad(quad, cols, rows, rng, 0.15), start=1):
            households = rng.randint(260, 340)
            total += households
            grids.append(_area(AreaLevel.GRID, community, f"{community.name[:-2]}第{n}网格",
                               street=community.street_no, community=community.community_no, grid=n,
                               boundary=_quad_geojson(cell), households=households))
        community.households_estimate = total
    Area.objects.bulk_create(grids, batch_size=500)
    Area.objects.bulk_update(ctx.communities, ["households_estimate"])
    ctx.grids = list(Area.objects.filter(level=AreaLevel.GRID).order_by("path"))


def generate_buildings(ctx: DemoContext) -> None:
    rng = ctx.rng
    rows = []
    for grid in ctx.grids:
        ring = grid.boundary["coordinates"][0]
        quad = (ring[0], ring[1], ring[2], ring[3])
        street = rng.choice(STREETS)
        count = max(1, round((grid.households_estimate or 300) / 24))
        cols = max(1, round(count ** 0.5))
        for b in range(count):
            r, c = divmod(b, cols)
            rows_n = (count + cols - 1) // cols
            u = (c + 0.5) / cols + (rng.random() - 0.5) * 0.3 / cols
            v = (r + 0.5) / rows_n + (rng.random() - 0.5) * 0.3 / rows_n
            lon, lat = _bilinear(quad, u, v)
            number = f"{b + 1}"
            rows.append(Building(grid=grid, number=number, name=f"{grid.parent.name[:-2]}小区{grid.grid_no}区{b + 1}号楼",
                                 address=f"离石区{street}{rng.randint(1, 300)}号{b + 1}号楼",
                                 lon=round(lon, 7), lat=round(lat, 7), floors=rng.choice([5, 6, 6, 7, 11, 18]),
                                 units=rng.choice([2, 2, 3, 4])))
    Building.objects.bulk_create(rows, batch_size=1000)
    ctx.buildings = list(Building.objects.order_by("id"))


def _user(ctx: DemoContext, username: str, name: str, *, is_staff=False, is_superuser=False) -> User:
    phone = f"13{ctx.rng.randint(0, 9)}{ctx.rng.randint(10000000, 99999999)}"
    return User(username=username, display_name=name, phone=phone, password=ctx.password_hash,
                is_staff=is_staff, is_superuser=is_superuser)


def generate_accounts(ctx: DemoContext) -> None:
    rng = ctx.rng
    ctx.password_hash = make_password(DEMO_PASSWORD)
    ctx.departments = Department.objects.bulk_create([
        Department(code=f"141102-{code}", name=name, duty=duty, area=ctx.district,
                   phone=f"0358-{rng.randint(8200000, 8299999)}") for code, name, duty in DEPARTMENTS])
    users: list[User] = []
    plan: list[tuple[int, Area, str, Department | None]] = []  # (user index, area, role, department)

    def add(user: User, area: Area, role: str, department=None):
        users.append(user)
        plan.append((len(users) - 1, area, role, department))

    add(_user(ctx, "root", "系统管理员", is_staff=True, is_superuser=True), ctx.district, Role.ADMIN)
    add(_user(ctx, "qu_admin", ctx.person_name(), is_staff=True), ctx.district, Role.ADMIN)
    add(_user(ctx, "qu_ddy", ctx.person_name()), ctx.district, Role.DISPATCHER)
    for s, sub in enumerate(ctx.subdistricts, start=1):
        add(_user(ctx, f"jd{s}_ddy", ctx.person_name()), sub, Role.DISPATCHER)
        add(_user(ctx, f"jd{s}_admin", ctx.person_name()), sub, Role.ADMIN)
    # 279 community staff across 27 communities (10 or 11 each); the first of each is also its
    # community governance-centre dispatcher.
    per_community = [STAFF_TOTAL // len(ctx.communities)] * len(ctx.communities)
    for i in range(STAFF_TOTAL - sum(per_community)):
        per_community[i] += 1
    for c, (community, count) in enumerate(zip(ctx.communities, per_community, strict=True), start=1):
        for n in range(1, count + 1):
            user = _user(ctx, f"sq{c:02d}_{n:02d}", ctx.person_name())
            add(user, community, Role.STAFF)
            if n == 1:
                plan.append((len(users) - 1, community, Role.DISPATCHER, None))
    for grid in ctx.grids:
        add(_user(ctx, f"wg{grid.path[6:]}", ctx.person_name()), grid, Role.GRID_WORKER)
    for d, department in enumerate(ctx.departments, start=1):
        for n in (1, 2):
            add(_user(ctx, f"bm{d:02d}_{n}", ctx.person_name()), ctx.district, Role.HANDLER, department)
    for n, community in enumerate(ctx.communities[:3], start=1):
        add(_user(ctx, f"jumin{n:02d}", ctx.person_name()), community, Role.RESIDENT)
        add(_user(ctx, f"zyz{n:02d}", ctx.person_name()), community, Role.VOLUNTEER)
    User.objects.bulk_create(users, batch_size=1000)
    by_name = {u.username: u for u in User.objects.all()}
    Membership.objects.bulk_create([
        Membership(user=by_name[users[i].username], area=area, role=role, department=department)
        for i, area, role, department in plan], batch_size=1000)
