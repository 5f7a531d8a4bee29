"""Reference data loaded by migration: the special-group list (GB/T 31000 "9+X") and the standard
component tree (CJ/T 214 / GB/T 30428.2 lineage; names as deployed in Beijing 朝阳, see
reference/grid-governance-china.md §1.3). Names are Chinese data, not UI strings."""

# code, name, sensitivity (1 ordinary, 2 sensitive, 3 restricted), visit interval in days
SPECIAL_GROUPS = [
    ("elderly_alone", "独居老人", 2, 7),
    ("empty_nest_elderly", "空巢老人", 1, 30),
    ("left_behind_child", "留守儿童", 2, 30),
    ("disabled", "残疾人", 1, 30),
    ("low_income", "低保/特困人员", 1, 90),
    ("veteran_family", "优抚对象", 1, 90),
    ("unemployed", "失业人员", 1, 90),
    ("community_correction", "社区矫正人员", 3, 7),
    ("released_prisoner", "刑满释放人员", 3, 30),
    ("drug_user", "吸毒人员", 3, 14),
    ("severe_mental_disorder", "严重精神障碍患者", 3, 14),
    ("key_youth", "重点青少年", 3, 30),
    ("key_petitioner", "重点信访人员", 3, 30),
    ("hiv_risk", "艾滋病危险人员", 3, 30),
]

# (major code, major name, [(minor code, minor name), ...])
COMPONENT_TREE = [
    ("01", "公用设施", [("01", "上水井盖"), ("02", "污水井盖"), ("03", "雨水井盖"), ("04", "雨水箅子"),
                    ("05", "电力井盖"), ("06", "路灯井盖"), ("07", "电信井盖"), ("11", "燃气井盖"),
                    ("13", "消防设施"), ("15", "电信交接箱"), ("16", "电力设施"), ("17", "电杆"),
                    ("18", "路灯"), ("21", "报刊亭"), ("23", "邮筒"), ("26", "健身设施"), ("33", "燃气调压站（箱）"),
                    ("41", "监控摄像头"), ("99", "其他公用设施")]),
    ("02", "道路交通", [("01", "停车场"), ("03", "公交站亭"), ("05", "过街天桥"), ("06", "地下通道"),
                    ("09", "交通标志牌"), ("11", "交通护栏"), ("12", "存车支架"), ("13", "路名牌"),
                    ("14", "交通信号灯"), ("15", "路边停车场"), ("95", "便道桩"), ("99", "其他道路交通设施")]),
    ("03", "市容环境", [("01", "公共厕所"), ("04", "垃圾间"), ("05", "垃圾箱"), ("06", "灯箱霓虹灯"),
                    ("07", "广告牌匾"), ("15", "垃圾桶（箱、台、站）"), ("17", "移动厕所"), ("99", "其他市容环境设施")]),
    ("04", "园林绿化", [("01", "古树名木"), ("02", "行道树"), ("03", "树池箅子"), ("04", "花架花钵"),
                    ("05", "绿地"), ("06", "雕塑"), ("07", "街头座椅"), ("99", "其他园林绿化设施")]),
    ("05", "房屋土地", [("01", "宣传栏"), ("02", "人防工事"), ("03", "公房地下室"), ("99", "其他房屋土地设施")]),
    ("06", "其他设施", [("01", "重大危险源"), ("02", "工地"), ("99", "其他")]),
]


def load_seed(apps, schema_editor=None):
    SpecialGroup = apps.get_model("registry", "SpecialGroup")
    ComponentCategory = apps.get_model("registry", "ComponentCategory")
    for order, (code, name, sensitivity, interval) in enumerate(SPECIAL_GROUPS, start=1):
        SpecialGroup.objects.update_or_create(code=code, defaults={
            "name": name, "sensitivity": sensitivity, "visit_interval_days": interval, "order": order * 10})
    for large, large_name, minors in COMPONENT_TREE:
        for small, name in minors:
            ComponentCategory.objects.update_or_create(large_code=large, small_code=small,
                                                       defaults={"large_name": large_name, "name": name})
