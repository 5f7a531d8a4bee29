"""Residents, households and dwellings for the registry benchmarks, written with COPY into the
registry's own tables. Personal data goes through the registry's own helpers (records.pii_columns:
AES-GCM ciphertext, keyed hash, masked copy; records.pinyin_keys), so search finds generated people
exactly as it finds imported ones. Deterministic for a seed (the ciphertexts' random nonces aside)."""

import datetime as dt
import functools

from ..db import analyze, truncate
from .common import ModelCopier, id_number

PHONE_PREFIXES = ["134", "135", "136", "138", "139", "150", "151", "158", "159", "182", "186", "187", "188", "199"]
HUKOU = [("registered", 70), ("resident", 12), ("floating", 17), ("foreign", 1)]
EDUCATION = [("primary", 15), ("junior", 30), ("senior", 25), ("college", 12), ("bachelor", 14),
             ("postgraduate", 2), ("none", 2)]
RELATIONS_AFTER_HEAD = ["spouse", "child", "child", "parent", "grandchild", "other"]


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, weight in pairs:
        x -= weight
        if x <= 0:
            return value
    return pairs[-1][0]


def generate(ctx, residents: int, households: int) -> dict:
    from yiwang.accounts.models import Membership
    from yiwang.accounts.roles import Role
    from yiwang.demo.names import GIVEN, SURNAMES
    from yiwang.geography.models import Area, AreaLevel, Building
    from yiwang.registry import records
    from yiwang.registry.models import (
        Dwelling,
        Household,
        HouseholdMember,
        Resident,
        ResidentTag,
        SpecialGroup,
    )

    rng = ctx.rng("registry")
    truncate(ResidentTag._meta.db_table, HouseholdMember._meta.db_table, Resident._meta.db_table,
             Household._meta.db_table, Dwelling._meta.db_table)
    grids = list(Area.objects.filter(level=AreaLevel.GRID).order_by("path").values("id", "path",
                                                                                     "households_estimate"))
    buildings: dict[int, list[tuple]] = {}
    for b in Building.objects.order_by("id").values_list("id", "grid_id", "address", "units", "floors"):
        buildings.setdefault(b[1], []).append(b)
    helpers = dict(Membership.objects.filter(role=Role.GRID_WORKER).values_list("area_id", "user_id"))
    groups = {g.code: g for g in SpecialGroup.objects.all()}
    total_estimate = sum(g["households_estimate"] or 300 for g in grids)
    # The registry's own pinyin_keys, per character and joined: the same keys for these names at a
    # thousandth of the cost of converting a million whole names.
    char_keys = functools.lru_cache(maxsize=None)(records.pinyin_keys)

    def pinyin(name: str) -> tuple[str, str]:
        parts = [char_keys(ch) for ch in name]
        return "".join(p[0] for p in parts)[:200], "".join(p[1] for p in parts)[:50]
    today = dt.date.today()

    dwellings, homes, people, members, tags = (ModelCopier(m) for m in (Dwelling, Household, Resident,
                                                                        HouseholdMember, ResidentTag))
    household_rows, dwelling_rows = [], []
    for grid in grids:
        share = round(households * (grid["households_estimate"] or 300) / total_estimate)
        grid_buildings = buildings.get(grid["id"]) or []
        if not grid_buildings:
            continue
        rooms: dict[int, int] = {}
        for k in range(share):
            b_id, _g, address, units, floors = grid_buildings[k % len(grid_buildings)]
            n = rooms[b_id] = rooms.get(b_id, 0) + 1
            unit = 1 + (n - 1) % max(1, units)
            floor = 1 + ((n - 1) // max(1, units)) % max(1, floors)
            room = f"{floor}{n:03d}"
            d_id = dwellings.new_id()
            dwelling_rows.append({"id": d_id, "grid_id": grid["id"], "area_path": grid["path"], "building_id": b_id,
                                  "unit": unit, "floor": floor, "room": room,
                                  "use": "rented" if rng.random() < 0.18 else "owner"})
            household_rows.append({"id": homes.new_id(), "grid_id": grid["id"], "area_path": grid["path"],
                                   "number": f"{grid['path'][-6:]}{k + 1:05d}", "dwelling_id": d_id,
                                   "address": f"{address}{unit}单元{room}室"})
    n_dwellings = dwellings.load(dwelling_rows)
    n_households = homes.load(household_rows)

    # Household sizes averaging residents / households, every household at least one person.
    average = residents / max(1, len(household_rows))
    serials: dict[dt.date, int] = {}
    state = {"residents": 0, "tags": 0}

    def person_rows():
        remaining = residents
        for index, home in enumerate(household_rows):
            left_homes = len(household_rows) - index
            if left_homes == 1:
                size = remaining
            else:
                size = max(1, min(remaining - (left_homes - 1), round(rng.gauss(average, 1.0))))
            remaining -= size
            for position in range(size):
                age = rng.randint(30, 85) if position == 0 else min(99, max(0, int(rng.gauss(38, 22))))
                birth = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
                serial = serials[birth] = serials.get(birth, 0) + 1
                gender = "M" if rng.random() < 0.51 else "F"
                serial = serial * 2 + (1 if gender == "M" else 0)
                idn = id_number("141102", birth, serial)
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
                full, initials = pinyin(name)
                phone = "" if age < 14 else rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                r_id = people.new_id()
                values = {"id": r_id, "grid_id": home["grid_id"], "area_path": home["area_path"], "name": name,
                          "name_pinyin": full, "name_initials": initials, "gender": gender, "birth_date": birth,
                          "hukou_type": _weighted(rng, HUKOU), "education": _weighted(rng, EDUCATION) if age > 6 else "",
                          "dwelling_id": home["dwelling_id"], "address": home["address"], "status": "active"}
                values.update(records.pii_columns("id_number", idn))
                values.update(records.pii_columns("phone", phone) if phone else {})
                state["residents"] += 1
                members_rows.append({"household_id": home["id"], "resident_id": r_id,
                                     "relation": "head" if position == 0 else rng.choice(RELATIONS_AFTER_HEAD),
                                     "joined_on": birth if position and age < 18 else today - dt.timedelta(days=400)})
                group = None
                if age >= 70 and rng.random() < 0.12:
                    group = groups.get("elderly_alone")
                elif age < 14 and rng.random() < 0.03:
                    group = groups.get("left_behind_child")
                elif rng.random() < 0.015:
                    group = groups.get(rng.choice(["disabled", "low_income", "unemployed", "community_correction"]))
                if group is not None:
                    tag_rows.append({"resident_id": r_id, "group_id": group.id, "area_path": home["area_path"],
                                     "helper_id": helpers.get(home["grid_id"]),
                                     "visit_interval_days": group.visit_interval_days,
                                     "since": today - dt.timedelta(days=rng.randint(10, 900))})
                yield values

    members_rows: list[dict] = []
    tag_rows: list[dict] = []
    n_residents = people.load(person_rows())
    n_members = members.load(members_rows)
    n_tags = tags.load(tag_rows)
    analyze()
    return {"residents": n_residents, "households": n_households, "dwellings": n_dwellings,
            "household_members": n_members, "special_group_tags": n_tags}
