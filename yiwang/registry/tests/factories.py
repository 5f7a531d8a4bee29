"""Test data for the registry. IDs are valid GB 11643 numbers (region 141102)."""

import datetime as dt
import itertools

from yiwang.core.pii import make_id_number
from yiwang.registry import records
from yiwang.registry.models import Dwelling, Household, HouseholdMember, Resident

_serial = itertools.count(1)


def id_number(birth=dt.date(1980, 5, 17), gender="M") -> str:
    n = next(_serial)
    return make_id_number("141102", birth.replace(day=1 + n % 28), n % 100, gender)


def make_resident(grid, name="张三", *, id_no=None, phone="", birth=dt.date(1980, 5, 17), gender="M",
                  dwelling=None, **extra) -> Resident:
    """A resident saved without services (fast set-up); PII stored exactly as services store it."""
    number = id_no if id_no is not None else id_number(birth, gender)
    cleaned = records.clean_resident({"name": name, "id_number": number, "phone": phone})
    columns = {**records.pii_columns("id_number", cleaned["id_number"]), **records.pii_columns("phone", cleaned["phone"])}
    full, initials = records.pinyin_keys(cleaned["name"])
    return Resident.objects.create(grid=grid, area_path=grid.path, name=cleaned["name"], name_pinyin=full,
                                   name_initials=initials, birth_date=cleaned.get("birth_date"),
                                   gender=cleaned.get("gender", ""), dwelling=dwelling, **columns, **extra)


def make_dwelling(building, unit=1, room="101") -> Dwelling:
    return Dwelling.objects.create(building=building, grid=building.grid, area_path=building.grid.path, unit=unit,
                                   room=room)


def make_household(grid, head, number="H001") -> Household:
    household = Household.objects.create(grid=grid, area_path=grid.path, number=number)
    HouseholdMember.objects.create(household=household, resident=head, relation="head")
    return household
