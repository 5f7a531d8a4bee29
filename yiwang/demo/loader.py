"""Loads the demo district: geography and accounts here, then each app's own `demo.generate(ctx)`."""

import importlib
import random
import time

from django.apps import apps
from django.db import transaction

from yiwang.accounts.models import Membership
from yiwang.accounts.roles import Role
from yiwang.audit.services import audit_record
from yiwang.geography.models import Area

from .generate import DemoContext, generate_accounts, generate_buildings, generate_geography


def demo_is_loaded() -> bool:
    return Area.objects.exists()


def app_demo_modules():
    for config in apps.get_app_configs():
        if not config.name.startswith("yiwang.") or config.name == "yiwang.demo":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        if hasattr(module, "generate"):
            yield config.label, module


def demo_load(*, seed: int = 20261128, scale: float = 1.0, progress=print) -> DemoContext:
    """Create the whole demo in one transaction; deterministic for a given seed and scale."""
    ctx = DemoContext(rng=random.Random(seed), scale=scale)
    with transaction.atomic():
        for label, step in (("geography", generate_geography), ("buildings", generate_buildings),
                            ("accounts", generate_accounts)):
            started = time.monotonic()
            step(ctx)
            progress(f"  {label}: {time.monotonic() - started:.1f}s")
        for label, module in app_demo_modules():
            started = time.monotonic()
            module.generate(ctx)
            progress(f"  {label}: {time.monotonic() - started:.1f}s")
        audit_record(actor=None, action="demo.load", area_path=ctx.district.path,
                     changes={"seed": seed, "scale": scale, "grids": len(ctx.grids)})
    return ctx


# (label, username); None means "the first grid worker", whose username follows the grid code.
DEMO_LOGINS = [
    ("Django admin (superuser) 系统管理员", "root"),
    ("District administrator 区管理员", "qu_admin"),
    ("District dispatcher 区综治中心", "qu_ddy"),
    ("Subdistrict dispatcher 街道综治中心", "jd1_ddy"),
    ("Subdistrict administrator 街道管理员", "jd1_admin"),
    ("Community dispatcher 社区综治中心", "sq01_01"),
    ("Community staff 社区工作人员", "sq01_02"),
    ("Staff of another community (outsider) 他社区", "sq02_02"),
    ("Grid worker 网格员", None),
    ("Department handler 部门处置人员", "bm01_1"),
    ("Resident 居民", "jumin01"),
    ("Volunteer 志愿者", "zyz01"),
]


def known_logins() -> list[tuple[str, str, str]]:
    """(label, username, scope) for the demo accounts present in the database."""
    rows = []
    for label, username in DEMO_LOGINS:
        memberships = Membership.objects.select_related("user", "area", "department").order_by("area__path", "id")
        if username is None:
            membership = memberships.filter(role=Role.GRID_WORKER).first()
        else:
            membership = memberships.filter(user__username=username).first()
        if membership is None:
            continue
        scope = membership.department.name if membership.department_id else membership.area.name
        rows.append((label, membership.user.username, scope))
    return rows
