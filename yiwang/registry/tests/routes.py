"""Permission specs for every registry route (see yiwang/tests/test_route_permissions.py).

`_seed(w)` creates community A's registry objects once per test world; list specs call it through
`kwargs` so the objects exist before the request.
"""

import datetime as dt

from yiwang.core.testing import RouteSpec

VIEWERS = ("staff", "grid_worker", "dispatcher_comm", "dispatcher_sub", "admin")
EDITORS = ("staff", "admin")
NOT_REGISTRY = ("resident", "volunteer", "nobody")


def _seed(w):
    if getattr(w, "_registry", None):
        return w._registry
    from types import SimpleNamespace

    from yiwang.registry import services
    from yiwang.registry.models import ComponentCategory, ImportJob, SpecialGroup
    from yiwang.registry.tests.factories import make_household, make_resident

    resident = make_resident(w.tree.grid_a1, "甲登记人", phone="13800001111")
    household = make_household(w.tree.grid_a1, resident, number="甲户001")
    organisation = services.organisation_create(actor=w.people.staff, grid=w.tree.grid_a1, kind="shop",
                                                name="甲社区小卖部")
    category = ComponentCategory.objects.get(large_code="01", small_code="18")
    component = services.component_create(actor=w.people.staff, grid=w.tree.grid_a1, category=category,
                                          lon=111.105, lat=37.505, name="甲路灯")
    situation = services.situation_log_create(actor=w.people.grid_worker, grid=w.tree.grid_a1,
                                              text="甲楼道堆物", occurred_at=None)
    services.tag_add(actor=w.people.staff, resident=resident, group=SpecialGroup.objects.get(code="elderly_alone"))
    _o, change_request = services.record_edit(actor=w.people.grid_worker, target=resident,
                                              changes={"occupation": "甲职业"})
    job = ImportJob.objects.create(created_by=w.people.staff, filename="甲导入.xlsx", sha256="0" * 64,
                                   state="checked", rows_total=1)
    dwelling = services.dwelling_create(actor=w.people.staff, building=w.building_a1, unit=1, room="101",
                                        owner_name="甲房主")
    rental = services.rental_create(actor=w.people.staff, dwelling=dwelling, landlord_name="甲房东",
                                    start_date=dt.date(2026, 1, 1))
    w._registry = SimpleNamespace(resident=resident, household=household, organisation=organisation,
                                  component=component, situation=situation, change_request=change_request, job=job,
                                  dwelling=dwelling, rental=rental, born=dt.date.today())
    return w._registry


def seeded(w):
    _seed(w)
    return {}


def pk(attr):
    return lambda w: {"pk": getattr(_seed(w), attr).pk}


def marker(text):
    return lambda w: text


ROUTES = [
    # pages
    RouteSpec("registry:resident_list", kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY, outsider="hidden",
              marker=marker("甲登记人")),
    RouteSpec("registry:resident_detail", kwargs=pk("resident"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲登记人")),
    RouteSpec("registry:resident_edit", kwargs=pk("resident"), allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY + ("dispatcher_comm",), outsider="404", marker=marker("甲登记人")),
    RouteSpec("registry:resident_reveal", kwargs=pk("resident"), allowed=(), denied=()),  # POST only: test_views
    RouteSpec("registry:resident_action", kwargs=pk("resident"), allowed=(), denied=()),  # POST only: test_views
    RouteSpec("registry:resident_create", allowed=EDITORS, denied=NOT_REGISTRY + ("grid_worker",)),
    RouteSpec("registry:resident_export", allowed=EDITORS, denied=NOT_REGISTRY + ("grid_worker",)),
    RouteSpec("registry:history", kwargs=lambda w: {"target_type": "resident", "pk": _seed(w).resident.pk},
              allowed=VIEWERS, denied=NOT_REGISTRY, outsider="404", marker=marker("甲登记人")),
    RouteSpec("registry:household_list", kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY, outsider="hidden",
              marker=marker("甲户001")),
    RouteSpec("registry:household_detail", kwargs=pk("household"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲户001")),
    RouteSpec("registry:organisation_list", kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY, outsider="hidden",
              marker=marker("甲社区小卖部")),
    RouteSpec("registry:organisation_detail", kwargs=pk("organisation"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲社区小卖部")),
    RouteSpec("registry:component_list", kwargs=seeded, allowed=VIEWERS + ("handler",), denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲路灯")),
    RouteSpec("registry:component_detail", kwargs=pk("component"), allowed=VIEWERS + ("handler",),
              denied=NOT_REGISTRY, outsider="404", marker=marker("甲路灯")),
    RouteSpec("registry:organisation_create", allowed=EDITORS, denied=NOT_REGISTRY + ("grid_worker", "dispatcher_comm")),
    RouteSpec("registry:component_create", allowed=EDITORS,
              denied=NOT_REGISTRY + ("grid_worker", "dispatcher_comm", "handler")),
    RouteSpec("registry:dwelling_list", kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY, outsider="hidden",
              marker=marker("甲房主")),
    RouteSpec("registry:dwelling_detail", kwargs=pk("dwelling"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲房主")),
    RouteSpec("registry:dwelling_create", allowed=EDITORS, denied=NOT_REGISTRY + ("grid_worker", "dispatcher_comm")),
    RouteSpec("registry:rental_create", kwargs=pk("dwelling"), allowed=EDITORS,
              denied=NOT_REGISTRY + ("grid_worker", "dispatcher_comm"), outsider="404", marker=marker("甲一号楼")),
    # Staff edit, grid workers propose (a change request); viewers without either are refused.
    RouteSpec("registry:rental_edit", kwargs=pk("rental"), allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY + ("dispatcher_comm",), outsider="404", marker=marker("甲房东")),
    RouteSpec("registry:history", kwargs=lambda w: {"target_type": "rental", "pk": _seed(w).rental.pk},
              allowed=VIEWERS, denied=NOT_REGISTRY, outsider="404", marker=marker("甲一号楼")),
    RouteSpec("registry:rental_list", kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY, outsider="hidden",
              marker=marker("甲房东")),
    RouteSpec("registry:situation_list", kwargs=seeded, allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY + ("dispatcher_comm", "handler"), outsider="hidden", marker=marker("甲楼道堆物")),
    RouteSpec("registry:change_request_list", kwargs=seeded, allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY, outsider="hidden", marker=marker("甲登记人")),
    RouteSpec("registry:change_request_detail", kwargs=pk("change_request"), allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY + ("dispatcher_comm",), outsider="404", marker=marker("甲职业")),
    RouteSpec("registry:search", kwargs=seeded, query="q=jdj", allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲登记人")),
    RouteSpec("registry:needs", kwargs=lambda w: (seeded(w), {"pk": w.tree.grid_a1.pk})[1], allowed=VIEWERS,
              denied=NOT_REGISTRY, outsider="404", marker=marker("甲1网格")),
    RouteSpec("registry:map", allowed=VIEWERS + ("handler",), denied=NOT_REGISTRY),
    RouteSpec("registry:map_buildings", kwargs=lambda w: {}, allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="hidden", marker=lambda w: w.building_a1.name),
    RouteSpec("registry:map_components", kwargs=seeded, allowed=VIEWERS + ("handler",), denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲路灯")),
    RouteSpec("registry:import_start", allowed=EDITORS, denied=NOT_REGISTRY + ("grid_worker",)),
    RouteSpec("registry:import_template", allowed=EDITORS, denied=NOT_REGISTRY + ("grid_worker",)),
    # Import jobs belong to their uploader: anyone else gets 404.
    RouteSpec("registry:import_detail", kwargs=pk("job"), allowed=("staff",),
              denied=NOT_REGISTRY + ("grid_worker", "admin"), outsider="404", marker=marker("甲导入.xlsx")),
    RouteSpec("registry:import_progress", kwargs=pk("job"), allowed=("staff",),
              denied=NOT_REGISTRY + ("grid_worker", "admin"), outsider="404"),
    RouteSpec("registry:import_errors", kwargs=pk("job"), allowed=(),
              denied=NOT_REGISTRY + ("grid_worker", "admin"), outsider="404"),  # content: test_excel
    # API
    RouteSpec("api:resident-list", api=True, kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲登记人")),
    RouteSpec("api:resident-detail", api=True, kwargs=pk("resident"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲登记人")),
    RouteSpec("api:resident-search", api=True, kwargs=seeded, query="q=jdj", allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲登记人")),
    RouteSpec("api:resident-reveal", api=True, kwargs=pk("resident"), allowed=(), denied=()),  # POST: test_api
    RouteSpec("api:household-list", api=True, kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲户001")),
    RouteSpec("api:household-detail", api=True, kwargs=pk("household"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲户001")),
    RouteSpec("api:organisation-list", api=True, kwargs=seeded, allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲社区小卖部")),
    RouteSpec("api:organisation-detail", api=True, kwargs=pk("organisation"), allowed=VIEWERS, denied=NOT_REGISTRY,
              outsider="404", marker=marker("甲社区小卖部")),
    RouteSpec("api:component-list", api=True, kwargs=seeded, allowed=VIEWERS + ("handler",), denied=NOT_REGISTRY,
              outsider="hidden", marker=marker("甲路灯")),
    RouteSpec("api:component-detail", api=True, kwargs=pk("component"), allowed=VIEWERS + ("handler",),
              denied=NOT_REGISTRY, outsider="404", marker=marker("甲路灯")),
    RouteSpec("api:situation-log-list", api=True, kwargs=seeded, allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY, outsider="hidden", marker=marker("甲楼道堆物")),
    RouteSpec("api:situation-log-detail", api=True, kwargs=pk("situation"), allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY + ("dispatcher_comm",), outsider="404", marker=marker("甲楼道堆物")),
    RouteSpec("api:change-request-list", api=True, kwargs=seeded, allowed=("staff", "grid_worker", "admin"),
              denied=NOT_REGISTRY, outsider="hidden", marker=marker("甲登记人")),
    RouteSpec("api:change-request-detail", api=True, kwargs=pk("change_request"),
              allowed=("staff", "grid_worker", "admin"), denied=NOT_REGISTRY + ("dispatcher_comm",),
              outsider="404", marker=marker("甲登记人")),
    RouteSpec("api:change-request-approve", api=True, kwargs=pk("change_request"), allowed=(), denied=()),  # POST
    RouteSpec("api:change-request-reject", api=True, kwargs=pk("change_request"), allowed=(), denied=()),  # POST
    RouteSpec("api:special-group-list", api=True, allowed=VIEWERS, denied=NOT_REGISTRY),
    RouteSpec("api:special-group-detail", api=True, kwargs=lambda w: {"pk": 1}, allowed=(), denied=NOT_REGISTRY),
]
