"""The seed category tree: components and events (Beijing Chaoyang deployed tree, data/categories-chaoyang.csv)
plus resident-request types 9001-9017 (reference/grid-governance-china.md §1.4), with handling modes,
time limits and the department each class goes to. Administrators edit all of it in the admin
afterwards; seeding again only adds what is missing and never overwrites an edit.

Time limits follow the local examples quoted in reference §1.7 (暴露垃圾 4 working hours, 积存垃圾渣土
2 working days, 道路保洁 2 working hours, 绿地保洁 4 working hours, 私搭乱建 by mode 4h / 7d / 20d);
the rest default by class.
"""

import csv
from pathlib import Path

from .models import Category, CategoryKind, DispatchRule

CSV = Path(__file__).parent / "data" / "categories-chaoyang.csv"

REQUESTS = {
    "9001": ("噪声扰民", ["生活噪声扰民", "交通噪声扰民", "公共区域噪声扰民", "商业噪声扰民", "其他噪声"]),
    "9002": ("乱收费", ["停车乱收费", "物业乱收费", "物业费纠纷", "教育乱收费", "小区改造收费"]),
    "9003": ("劳动纠纷", ["拖欠工资", "劳动合同", "五险一金", "加班费", "其他劳动纠纷"]),
    "9004": ("季节性问题", ["供暖", "房屋漏雨"]),
    "9005": ("拆迁问题", ["拆迁补偿", "拆迁安置", "拆迁施工扰民"]),
    "9006": ("停水问题", ["计划停水", "突发停水", "水压不足"]),
    "9007": ("有线电视", ["有线电视故障"]),
    "9008": ("不稳定事件", ["群体不稳定事件", "个体不稳定事件"]),
    "9009": ("停车场管理", ["停车场管理"]),
    "9010": ("非法停车场", ["非法停车场"]),
    "9012": ("生活困难", ["低保", "临时救助"]),
    "9013": ("水质问题", ["水质问题"]),
    "9014": ("文化教育", ["就近入学", "教育质量"]),
    "9015": ("电梯停运", ["电梯物业纠纷", "电梯质量年检", "电梯损坏"]),
    "9016": ("防盗门（门禁）", ["防盗门（门禁）损坏"]),
    "9017": ("百姓举报", ["物业管理", "宠物", "停电", "生活环境", "企业经营", "私安地锁", "住房"]),
}

# Department codes of the demo (yiwang/demo/names.py) by category class or leaf.
DEPARTMENT_BY_CLASS = {
    "2001": "CG", "2002": "CG", "2003": "ZJ", "2004": "YJ", "2005": "CG", "2007": "CG",
    "1001": "SW", "1002": "GA", "1003": "CG", "1004": "CG", "1005": "ZJ",
    "9001": "HB", "9002": "SJ", "9003": "RS", "9004": "ZJ", "9005": "ZJ", "9006": "SW", "9007": "GD",
    "9008": "GA", "9009": "GA", "9010": "GA", "9012": "MZ", "9013": "SW", "9014": "JY", "9015": "SJ",
    "9016": "ZJ", "9017": "ZJ",
    "100118": "GD", "100116": "GD", "100117": "GD", "100141": "GD", "100144": "GD",
}

MODES = {
    "200101": [("stop", "责令停工", 4, "hours"), ("penalty", "立案处罚", 7, "days"), ("demolish", "拆除", 20, "days")],
    "200102": [("clear", "清运", 4, "hours")],
    "200103": [("construction", "建筑垃圾清运", 4, "hours"), ("muck", "渣土清运", 2, "days")],
    "200104": [("clean", "保洁", 2, "hours")],
    "200106": [("clean", "保洁", 4, "hours")],
    "200137": [("clear", "清运", 2, "hours")],
    "200403": [("urgent", "紧急处置", 2, "hours")],
    "200411": [("urgent", "紧急处置", 1, "hours")],
    "9004": [("general", "一般", 3, "days")],
    "9006": [("urgent", "抢修", 7, "hours")],
    "9015": [("urgent", "抢修", 7, "hours")],
}
DEFAULT_BY_KIND = {
    CategoryKind.COMPONENT: [("repair", "维修", 2, "days"), ("replace", "更换", 5, "days")],
    CategoryKind.EVENT: [("general", "一般处置", 5, "days")],
    CategoryKind.REQUEST: [("general", "一般诉求", 7, "days"), ("complex", "复杂诉求", 15, "days")],
}
ON_THE_SPOT = {"200102", "200104", "200106", "200109", "200201", "200204", "200505", "200506", "200507"}
NOT_PUBLIC = {"2004", "9008", "200407", "200412", "200413"}


def _modes(code: str, parent: str, kind: str) -> list[dict]:
    rows = MODES.get(code) or MODES.get(parent) or DEFAULT_BY_KIND[kind]
    return [{"code": c, "name": n, "limit": limit, "unit": unit} for c, n, limit, unit in rows]


def _attributes(kind: str) -> list[dict]:
    if kind == CategoryKind.COMPONENT:
        return [{"code": "component_id", "datatype": "string", "required": False, "order": 1,
                 "description": "部件标识码（如有）", "datatype_description": "16 位部件编码"}]
    if kind == CategoryKind.REQUEST:
        return [{"code": "request_type", "datatype": "singlevaluelist", "required": True, "order": 1,
                 "description": "诉求类型", "datatype_description": "",
                 "values": [{"key": k, "name": n} for k, n in (("complaint", "投诉"), ("report", "举报"),
                                                               ("suggestion", "建议"), ("enquiry", "咨询"))]}]
    return []


def category_rows() -> list[tuple[str, str, str, str]]:
    """(code, parent_code, kind, name) for the whole seed tree, parents first."""
    rows = []
    with CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append((row["code"], row["parent_code"], row["kind"], row["name_zh"]))
    for code, (name, children) in REQUESTS.items():
        rows.append((code, "", CategoryKind.REQUEST, name))
        for n, child in enumerate(children, start=1):
            rows.append((f"{code}{n:02d}", code, CategoryKind.REQUEST, child))
    return rows


def seed_categories(departments_by_code: dict | None = None, *, rules: bool = True) -> int:
    """Create missing categories (and default dispatch rules) in bulk; returns how many were added."""
    departments_by_code = departments_by_code or {}
    existing = set(Category.objects.values_list("code", flat=True))
    rows = [r for r in category_rows() if r[0] not in existing]
    parents = [r for r in rows if not r[1]]
    children = [r for r in rows if r[1]]

    def build(code, parent_code, kind, name, parent=None):
        dept_code = DEPARTMENT_BY_CLASS.get(code) or DEPARTMENT_BY_CLASS.get(parent_code)
        return Category(code=code, parent=parent, kind=kind, name=name, handling_modes=_modes(code, parent_code, kind),
                        default_department=departments_by_code.get(dept_code), on_the_spot=code in ON_THE_SPOT,
                        public=code not in NOT_PUBLIC and parent_code not in NOT_PUBLIC,
                        attributes=_attributes(kind), accept_limit_hours=2, sign_limit_hours=2, verify_limit_hours=7)

    Category.objects.bulk_create([build(*r) for r in parents])
    by_code = {c.code: c for c in Category.objects.filter(parent__isnull=True)}
    Category.objects.bulk_create([build(*r, parent=by_code[r[1]]) for r in children], batch_size=500)
    if rules and departments_by_code:
        have = set(DispatchRule.objects.values_list("category__code", flat=True))
        top = {c.code: c for c in Category.objects.filter(parent__isnull=True)}
        new_rules = []
        for code, dept_code in DEPARTMENT_BY_CLASS.items():
            category = top.get(code) or Category.objects.filter(code=code).first()
            department = departments_by_code.get(dept_code)
            if category is None or department is None or code in have:
                continue
            # Sanitation and street order go straight to the department; the rest wait for a dispatcher.
            new_rules.append(DispatchRule(category=category, department=department,
                                          auto=code in {"2001", "2002", "2005", "1003", "1004"}))
        DispatchRule.objects.bulk_create(new_rules)
    return len(rows)
