"""Demo registry: dwellings, households and residents (valid, check-digited synthetic ID numbers in
region 141102), rentals, organisations, urban components, special-group tags, situation-log
entries and a few pending change requests. About 35 residents per grid at scale 1, all written with
bulk_create so the whole demo still loads in seconds on SQLite.
"""

import datetime as dt

from django.utils import timezone

from yiwang.accounts.models import User
from yiwang.core import pii

from . import records
from .models import (
    ChangeRequest,
    Component,
    ComponentCategory,
    Dwelling,
    Household,
    HouseholdMember,
    Organisation,
    Rental,
    Resident,
    ResidentTag,
    SituationLog,
    SpecialGroup,
)

REGION = "141102"
OCCUPATIONS = ["个体", "教师", "司机", "工人", "退休", "医生", "务农", "自由职业", "公务员", "销售", "厨师", "保安", "学生", "无业"]
SHOPS = ["便利店", "小吃店", "理发店", "药店", "水果店", "五金店", "快递驿站", "早餐店", "面馆", "超市"]
SITUATIONS = [
    ("楼道堆放杂物，影响消防通道", "消防,楼道"), ("居民反映夜间广场舞噪音扰民", "噪音"),
    ("小区东门路灯不亮", "路灯"), ("独居老人近日身体不适，已联系家属", "独居老人,关爱"),
    ("租户更换，新租客未登记", "出租房,流动人口"), ("车辆乱停占用盲道", "停车"),
    ("楼顶私搭乱建", "违建"), ("居民咨询医保缴费事宜", "咨询"), ("雨后地下室积水", "积水"),
]
DEPARTMENT_BY_MAJOR = {"01": "141102-GD", "02": "141102-GA", "03": "141102-CG", "04": "141102-CG",
                       "05": "141102-ZJ", "06": "141102-YJ"}
# special group code -> probability per eligible person
TAG_RATES = {"disabled": 0.02, "low_income": 0.03, "veteran_family": 0.01, "unemployed": 0.02,
             "community_correction": 0.002, "released_prisoner": 0.003, "drug_user": 0.001,
             "severe_mental_disorder": 0.003, "key_petitioner": 0.001}


class _Ids:
    """Unique valid ID numbers: (birth date, serial, gender) never repeats."""

    def __init__(self):
        self.used: set[str] = set()

    def make(self, birth: dt.date, gender: str, rng) -> str:
        serial = rng.randrange(100)
        for step in range(100):
            number = pii.make_id_number(REGION, birth, (serial + step) % 100, gender)
            if number not in self.used:
                self.used.add(number)
                return number
        raise RuntimeError("ran out of serials")


def _birth(rng, today: dt.date, low: int, high: int) -> dt.date:
    return today - dt.timedelta(days=rng.randint(low * 365 + 1, high * 365 + 300))


def generate(ctx) -> None:
    from django.apps import apps

    from .seed import load_seed

    load_seed(apps)  # reference data: flushed by transactional tests, so make sure it is there
    rng = ctx.rng
    today = timezone.localdate()
    ids = _Ids()
    groups = {g.code: g for g in SpecialGroup.objects.all()}
    workers = {u.username: u for u in User.objects.filter(username__startswith="wg")}
    departments = {d.code: d for d in ctx.departments}
    categories = list(ComponentCategory.objects.all())
    buildings_by_grid: dict[int, list] = {}
    for building in ctx.buildings:
        buildings_by_grid.setdefault(building.grid_id, []).append(building)

    # Dwellings: a few per building, enough for the grid's demo households.
    households_per_grid = max(3, round(10 * ctx.scale))
    dwellings = []
    for grid in ctx.grids:
        buildings = buildings_by_grid.get(grid.pk, [])
        for n in range(households_per_grid + 2):
            if not buildings:
                break
            building = buildings[n % len(buildings)]
            unit = 1 + (n // len(buildings)) % building.units
            floor = 1 + rng.randrange(building.floors)
            use = rng.choices([Dwelling.Use.OWNER_OCCUPIED, Dwelling.Use.RENTED, Dwelling.Use.VACANT,
                               Dwelling.Use.COMMERCIAL], [70, 18, 9, 3])[0]
            dwellings.append(Dwelling(building=building, grid=grid, area_path=grid.path, unit=unit, floor=floor,
                                      room=f"{floor}{rng.randint(1, 4):02d}", use=use,
                                      floor_area=rng.choice([56, 72, 89, 96, 110, 128])))
    seen = set()
    dwellings = [d for d in dwellings if (d.building.pk, d.unit, d.room) not in seen
                 and not seen.add((d.building.pk, d.unit, d.room))]
    dwellings = Dwelling.objects.bulk_create(dwellings, batch_size=1000)
    by_grid: dict[int, list[Dwelling]] = {}
    for d in dwellings:
        by_grid.setdefault(d.grid_id, []).append(d)

    # Households and their people.
    residents: list[Resident] = []
    plan = []  # (household index, resident index, relation)
    households: list[Household] = []
    tags_plan = []  # (resident index, group code, grid)
    for grid in ctx.grids:
        homes = [d for d in by_grid.get(grid.pk, []) if d.use != Dwelling.Use.VACANT]
        for h, dwelling in enumerate(homes[:households_per_grid]):
            floating = dwelling.use == Dwelling.Use.RENTED
            hukou = "floating" if floating else rng.choices(["registered", "resident", "foreign"], [95, 4, 1])[0]
            household = Household(grid=grid, area_path=grid.path, dwelling=dwelling, address=dwelling.address,
                                  number=f"{grid.path[-6:]}{h + 1:03d}")
            households.append(household)
            hi = len(households) - 1
            kind = rng.random()
            members = []
            if kind < 0.10:  # an old person living alone
                members.append(("head", 68, 92, None))
            elif kind < 0.25:  # older couple
                members += [("head", 60, 85, "M"), ("spouse", 58, 85, "F")]
            else:  # a family
                members += [("head", 28, 58, None), ("spouse", 26, 56, None)]
                for _c in range(rng.choice([0, 1, 1, 2, 2, 3])):
                    members.append(("child", 0, 17, None))
                if rng.random() < 0.25:
                    members.append(("parent", 60, 88, None))
            head_gender = rng.choice("MF")
            for relation, low, high, gender in members:
                if gender is None:
                    gender = head_gender if relation == "head" else (
                        ("F" if head_gender == "M" else "M") if relation == "spouse" else rng.choice("MF"))
                birth = _birth(rng, today, low, high)
                number = ids.make(birth, gender, rng)
                name = ctx.person_name()
                full, initials = records.pinyin_keys(name)
                phone = f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}" \
                    if low >= 14 and rng.random() < 0.9 else ""
                age = (today - birth).days // 365
                residents.append(Resident(
                    grid=grid, area_path=grid.path, name=name, name_pinyin=full, name_initials=initials,
                    gender=gender, birth_date=birth, ethnicity=rng.choices(["汉族", "回族", "满族", "蒙古族"],
                                                                         [96, 2, 1, 1])[0],
                    hukou_type=hukou, dwelling=dwelling, address=dwelling.address,
                    education=("primary" if age < 12 else "junior" if age < 15 else "senior" if age < 19 else
                               rng.choice(["junior", "senior", "senior", "college", "bachelor", "bachelor",
                                           "postgraduate"])) if age >= 6 else "",
                    occupation="学生" if 6 <= age < 22 else ("退休" if age >= 60 else rng.choice(OCCUPATIONS)),
                    political_status=rng.choices(["masses", "cpc", "cyl"], [80, 12, 8])[0] if age >= 14 else "",
                    **records.pii_columns("id_number", number), **records.pii_columns("phone", phone)))
                ri = len(residents) - 1
                plan.append((hi, ri, relation))
                if kind < 0.10:
                    tags_plan.append((ri, "elderly_alone", grid))
                elif age >= 65 and kind < 0.25 and rng.random() < 0.3:
                    tags_plan.append((ri, "empty_nest_elderly", grid))
                if relation == "child" and rng.random() < 0.03:
                    tags_plan.append((ri, "left_behind_child", grid))
                if 14 <= age <= 25 and rng.random() < 0.01:
                    tags_plan.append((ri, "key_youth", grid))
                for code, rate in TAG_RATES.items():
                    if age >= 18 and rng.random() < rate:
                        tags_plan.append((ri, code, grid))
    households = Household.objects.bulk_create(households, batch_size=1000)
    residents = Resident.objects.bulk_create(residents, batch_size=1000)
    HouseholdMember.objects.bulk_create([
        HouseholdMember(household=households[hi], resident=residents[ri], relation=relation,
                        joined_on=today - dt.timedelta(days=rng.randint(30, 3000)))
        for hi, ri, relation in plan], batch_size=2000)
    ResidentTag.objects.bulk_create([
        ResidentTag(resident=residents[ri], group=groups[code], area_path=grid.path,
                    helper=workers.get(f"wg{grid.path[6:]}"), visit_interval_days=groups[code].visit_interval_days,
                    since=today - dt.timedelta(days=rng.randint(10, 900)))
        for ri, code, grid in {(ri, code, grid.pk): (ri, code, grid) for ri, code, grid in tags_plan}.values()],
        batch_size=2000)

    # Rentals: rented dwellings with their (floating) occupants as tenants.
    occupants: dict[int, list[Resident]] = {}
    for r in residents:
        occupants.setdefault(r.dwelling_id, []).append(r)
    rentals = []
    rented = [d for d in dwellings if d.use == Dwelling.Use.RENTED]
    for d in rented:
        rentals.append(Rental(dwelling=d, grid_id=d.grid_id, area_path=d.area_path, landlord_name=ctx.person_name(),
                              registration_no=f"LS{rng.randint(100000, 999999)}",
                              monthly_rent=rng.choice([600, 800, 1000, 1200, 1500]), rooms_let=rng.choice([1, 2, 3]),
                              max_occupants=rng.choice([2, 3, 4, 5]),
                              start_date=today - dt.timedelta(days=rng.randint(20, 700))))
    rentals = Rental.objects.bulk_create(rentals, batch_size=1000)
    Rental.tenants.through.objects.bulk_create([
        Rental.tenants.through(rental_id=rental.pk, resident_id=r.pk)
        for rental, d in zip(rentals, rented, strict=True) for r in occupants.get(d.pk, [])], batch_size=2000)

    # Organisations: per community a party organisation, owners' committee and property company; shops
    # and enterprises in grids; a school and a clinic in some communities.
    organisations = []
    grids_by_community: dict[int, list] = {}
    for grid in ctx.grids:
        grids_by_community.setdefault(grid.parent_id, []).append(grid)
    credit = 0

    def org(grid, kind, name, **extra):
        nonlocal credit
        credit += 1
        building = rng.choice(buildings_by_grid[grid.pk]) if buildings_by_grid.get(grid.pk) else None
        organisations.append(Organisation(
            grid=grid, area_path=grid.path, kind=kind, name=name, name_initials=records.pinyin_keys(name)[1],
            credit_code=f"91141102MA{credit:07d}X" if kind in ("enterprise", "shop", "property_company") else "",
            legal_representative=ctx.person_name(), contact_name=ctx.person_name(),
            contact_phone=f"0358-{rng.randint(8200000, 8299999)}", building=building,
            address=building.address if building else grid.name, lon=building.lon if building else None,
            lat=building.lat if building else None, **extra))

    for community in ctx.communities:
        grids = grids_by_community.get(community.pk, [])
        if not grids:
            continue
        short = community.name[:-2]
        org(grids[0], "party", f"中共{community.name}委员会")
        org(grids[0], "owners_committee", f"{short}小区业主委员会")
        org(grids[-1], "property_company", f"吕梁{short}物业服务有限公司", sector="物业管理", employees=rng.randint(12, 60))
        if rng.random() < 0.4:
            org(rng.choice(grids), "school", f"离石区{short}小学", sector="教育", employees=rng.randint(40, 120))
        if rng.random() < 0.5:
            org(rng.choice(grids), "hospital", f"{short}社区卫生服务站", sector="卫生", employees=rng.randint(5, 20))
        for grid in grids:
            for _n in range(max(1, round(2 * ctx.scale))):
                shop = rng.choice(SHOPS)
                org(grid, "shop", f"{short}{ctx.person_name()[0]}记{shop}", sector="零售餐饮",
                    employees=rng.randint(1, 8))
            if rng.random() < 0.3:
                org(grid, "enterprise", f"吕梁{short}{rng.choice(['商贸', '建材', '科技', '家政'])}有限公司",
                    sector="商务服务", employees=rng.randint(5, 80))
    organisations = Organisation.objects.bulk_create(organisations, batch_size=1000)
    parties = {o.grid.parent_id: o for o in organisations if o.kind == "party"}
    for o in organisations:
        if o.kind in ("owners_committee", "property_company", "enterprise", "school") and o.grid.parent_id in parties:
            o.party_organisation = parties[o.grid.parent_id]
    Organisation.objects.bulk_update([o for o in organisations if o.party_organisation_id], ["party_organisation"],
                                     batch_size=1000)

    # Urban components near buildings, coded from their parts.
    components = []
    serials: dict[int, int] = {}
    for grid in ctx.grids:
        spots = buildings_by_grid.get(grid.pk, [])
        for _n in range(max(2, round(6 * ctx.scale))):
            category = rng.choice(categories)
            serials[category.pk] = serials.get(category.pk, 0) + 1
            near = rng.choice(spots) if spots else None
            lon = (near.lon if near else grid.centroid_lon) + (rng.random() - 0.5) * 0.0006
            lat = (near.lat if near else grid.centroid_lat) + (rng.random() - 0.5) * 0.0006
            components.append(Component(
                grid=grid, area_path=grid.path, category=category, serial=serials[category.pk],
                code=f"{REGION}{category.large_code:0>2}{category.small_code:0>2}{serials[category.pk]:06d}"[:16],
                name=category.name, location=f"{near.name}旁" if near else grid.name, lon=round(lon, 7),
                lat=round(lat, 7), department=departments.get(DEPARTMENT_BY_MAJOR.get(category.large_code)),
                state=rng.choices(list(Component.State.values), [88, 6, 2, 3, 1])[0],
                installed_on=today - dt.timedelta(days=rng.randint(100, 3000))))
    Component.objects.bulk_create(components, batch_size=1000)

    # Situation log entries by each grid's worker.
    logs = []
    now = timezone.now()
    for grid in ctx.grids:
        author = workers.get(f"wg{grid.path[6:]}")
        if author is None:
            continue
        for _n in range(2):
            text, tags = rng.choice(SITUATIONS)
            logs.append(SituationLog(grid=grid, area_path=grid.path, author=author, text=text, tags=tags,
                                     occurred_at=now - dt.timedelta(hours=rng.randint(1, 24 * 20)),
                                     place=rng.choice(buildings_by_grid.get(grid.pk) or [grid]).name,
                                     follow_up_needed=rng.random() < 0.3))
    SituationLog.objects.bulk_create(logs, batch_size=1000)

    # A few pending change requests in the first community, for its staff to review.
    first = [r for r in residents if r.area_path.startswith(ctx.communities[0].path)][:4] if ctx.communities else []
    requests = []
    for r in first:
        author = workers.get(f"wg{r.area_path[6:]}")
        if author is None:
            continue
        new = rng.choice([o for o in OCCUPATIONS if o != r.occupation])
        changes = {"occupation": {"old": r.occupation, "new": new}}
        requests.append(ChangeRequest(target_type="resident", target_id=r.pk, target_repr=str(r)[:200],
                                      area_path=r.area_path, changes=changes, reason="入户走访核实",
                                      fingerprint=f"demo-{r.pk}", submitted_by=author))
    ChangeRequest.objects.bulk_create(requests)
