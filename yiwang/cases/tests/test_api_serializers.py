"""The cases API serializers build their fields once per class (api.serializers.FieldsBuiltOnce): what they
answer and how they validate must stay exactly what DRF's own serializers, declared the same way, answer."""

import copy
import json
from datetime import timedelta

import pytest
from django.utils import translation
from rest_framework import serializers

from yiwang.cases import services
from yiwang.cases.api import serializers as api_serializers
from yiwang.cases.api.serializers import CaseCreateInput, CaseOutput, FieldsBuiltOnce
from yiwang.cases.models import Case, Channel
from yiwang.cases.services import case_act, case_create
from yiwang.cases.workflow import Action
from yiwang.geography.tests.factories import BuildingFactory

from .factories import BIN_LAT, BIN_LON, jpeg
from .test_services import T0


def stock(serializer_class):
    """DRF's own serializer with the same declarations: fields deep-copied, built and bound per instance."""
    base = serializers.ModelSerializer if issubclass(serializer_class, serializers.ModelSerializer) else \
        serializers.Serializer
    attrs = {name: copy.deepcopy(field) for name, field in serializer_class._declared_fields.items()}
    attrs.update({name: value for name, value in vars(serializer_class).items()
                  if name == "Meta" or name.startswith(("get_", "validate"))})
    twin = type(f"Stock{serializer_class.__name__}", (base,), attrs)
    assert not issubclass(twin, FieldsBuiltOnce)
    return twin


def assert_same_output(case, **kwargs):
    ours = CaseOutput(case, **kwargs).data
    theirs = stock(CaseOutput)(case, **kwargs).data
    assert json.dumps(ours, default=str) == json.dumps(theirs, default=str)  # keys, order, values
    assert {k: type(v) for k, v in ours.items()} == {k: type(v) for k, v in theirs.items()}
    return ours


def varied_cases(world, cats):
    """Cases in many states and shapes: dispatched with a department and photos, reported by a resident with a
    masked name and phone, closed on the spot and rated, merged, escalated, deferred, with a building."""
    gw, disp, handler = world.people.grid_worker, world.people.dispatcher_comm, world.people.handler
    staff = dict(actor=gw, channel=Channel.GRID_WORKER, category=cats.garbage, lon=BIN_LON, lat=BIN_LAT, now=T0)
    public = dict(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=BIN_LON, lat=BIN_LAT)
    dispatched = case_create(description="垃圾桶满溢", photos=[jpeg()], **staff)
    reported = case_create(description="楼上噪音", reporter_name="张小明", reporter_phone="13800000001", **public)
    closed = case_create(description="当场清理", resolve_on_spot=True, comment="清理完毕",
                         **{**staff, "now": T0 + timedelta(hours=1)})
    closed = services.case_rate(actor=None, case=closed, rating=1, tracking_code=closed.tracking_code)
    merged = case_create(description="噪音很大", reporter_phone="13800000002", **public)
    merged = case_act(actor=disp, case=merged, action=Action.MERGE, expected_version=merged.version,
                      merged_into=reported)
    escalated = case_create(description="噪音", **public)
    escalated = case_act(actor=disp, case=escalated, action=Action.ESCALATE, expected_version=escalated.version,
                         comment="超出社区能力")
    deferred = case_create(description="路面脏", **{**staff, "category": cats.road})
    deferred = case_act(actor=handler, case=deferred, action=Action.SIGN_FOR, expected_version=deferred.version,
                        now=T0) if deferred.department_id else deferred
    building = BuildingFactory(grid=world.tree.grid_a1)
    with_building = case_create(description="楼道堆物", building=building.pk, address="", **staff)
    returned = case_create(description="不归我们", **{**staff, "now": T0 + timedelta(minutes=5)})
    returned = case_act(actor=handler, case=returned, action=Action.RETURN, expected_version=returned.version,
                        comment="不归我们", reason_code="not_ours")
    made = [dispatched, reported, closed, merged, escalated, deferred, with_building, returned]
    # As the create answers (just written, `replayed` set) and as a read answers (from the database).
    fresh = list(Case.objects.select_related("category", "grid", "department").filter(pk__in=[c.pk for c in made]))
    return made + fresh


def test_case_output_equals_drfs_own_for_varied_cases(world, cats):
    cases = varied_cases(world, cats)
    seen = [assert_same_output(case) for case in cases]
    # The variety is real: states, departments, masks, merges, closures and replays all differ somewhere.
    assert len({row["state"] for row in seen}) >= 5
    assert {row["department"] is None for row in seen} == {True, False}
    assert {row["reporter_phone_masked"] == "" for row in seen} == {True, False}
    assert {row["reporter_name_masked"] == "" for row in seen} == {True, False}
    assert any(row["merged_into"] for row in seen) and any(row["closed_at"] for row in seen)
    assert any(row["building"] for row in seen) and any(row["rating"] for row in seen)
    assert {row["level"] for row in seen} >= {2, 3}
    cases[0].replayed = True
    assert assert_same_output(cases[0])["replayed"] is True
    with translation.override("en"):
        for case in cases:
            assert_same_output(case)


def test_case_output_many_equals_drfs_own(world, cats):
    cases = varied_cases(world, cats)
    ours = CaseOutput(cases, many=True).data
    assert json.dumps(ours, default=str) == json.dumps(stock(CaseOutput)(cases, many=True).data, default=str)
    assert len(ours) == len(cases)


def test_case_api_reads_answer_as_with_drfs_own_serializer(world, cats, api_for, monkeypatch):
    varied_cases(world, cats)
    api = api_for(world.people.dispatcher_sub)
    ours = [api.get("/api/v1/cases/?page_size=50"), api.get(f"/api/v1/cases/{Case.objects.first().pk}/")]
    monkeypatch.setattr("yiwang.cases.api.views.CaseViewSet.serializer_class", stock(CaseOutput))
    theirs = [api.get("/api/v1/cases/?page_size=50"), api.get(f"/api/v1/cases/{Case.objects.first().pk}/")]
    assert [r.status_code for r in ours] == [r.status_code for r in theirs] == [200, 200]
    assert [r.content for r in ours] == [r.content for r in theirs]
    assert len(ours[0].json()["results"]) >= 8


GOOD = {"channel": "app", "category": "200102", "lon": BIN_LON, "lat": BIN_LAT, "description": "垃圾桶满溢"}
VALID = [
    GOOD,
    {**GOOD, "channel": "grid_worker", "idempotency_key": "k-1", "address": "测试路1号", "building": 3,
     "reporter_name": "张三", "reporter_phone": "13800000001", "handling_mode": "clear", "resolve_on_spot": True},
    {**GOOD, "lon": "111.1", "lat": "37.5", "building": None, "resolve_on_spot": "false", "category": ""},
    {**GOOD, "unknown": 1},
]
INVALID = [
    {},
    {"description": ""},
    {**GOOD, "channel": "web"},
    {**GOOD, "channel": "open311", "lon": "east", "lat": None},
    {**GOOD, "description": "x" * 4001, "address": "y" * 201, "reporter_phone": "1" * 21},
    {**GOOD, "building": "third", "resolve_on_spot": "perhaps", "idempotency_key": "k" * 65},
    {**GOOD, "description": "a\x00b"},
    {**GOOD, "photos": "not a list"},
    ["not", "a", "dict"],
]
PAYLOADS = VALID + INVALID


def validation_of(serializer_class, data):
    serializer = serializer_class(data=data)
    valid = serializer.is_valid()
    errors = json.dumps(serializer.errors, ensure_ascii=False)
    codes = serializer.errors and json.dumps({k: [getattr(e, "code", None) for e in v] if isinstance(v, list) else v
                                              for k, v in serializer.errors.items()}, default=str)
    return valid, dict(serializer.validated_data) if valid else None, errors, codes


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_case_create_input_validates_as_drfs_own(db, language):
    with translation.override(language):
        assert [validation_of(CaseCreateInput, data)[0] for data in PAYLOADS] == [True] * len(VALID) + [False] * len(
            INVALID)
        for data in PAYLOADS:
            assert validation_of(CaseCreateInput, data) == validation_of(stock(CaseCreateInput), data), data
    assert validation_of(CaseCreateInput, GOOD)[1] == {
        "channel": "app", "category": "200102", "lon": BIN_LON, "lat": BIN_LAT, "description": "垃圾桶满溢",
        "address": "", "building": None, "reporter_name": "", "reporter_phone": "", "handling_mode": "",
        "resolve_on_spot": False, "idempotency_key": "", "photos": []}


def test_case_create_input_validates_photos_as_drfs_own(db):
    def run(serializer_class):
        data = {**GOOD, "photos": [jpeg(), jpeg(name="b.jpg")]}
        serializer = serializer_class(data=data)
        assert serializer.is_valid(), serializer.errors
        photos = serializer.validated_data["photos"]
        broken = serializer_class(data={**GOOD, "photos": [jpeg(), _not_an_image()]})
        broken.is_valid()
        return [p.name for p in photos], json.dumps(broken.errors, ensure_ascii=False)

    assert run(CaseCreateInput) == run(stock(CaseCreateInput))


def _not_an_image():
    from django.core.files.uploadedfile import SimpleUploadedFile
    return SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_case_create_error_bodies_as_with_drfs_own(world, cats, api_for, monkeypatch, language):
    api = api_for(world.people.grid_worker)

    def answers():
        return [(r.status_code, r.content) for r in
                (api.post("/api/v1/cases/", data, format="json", HTTP_ACCEPT_LANGUAGE=language) for data in INVALID)]

    ours = answers()
    monkeypatch.setattr("yiwang.cases.api.views.CaseCreateInput", stock(CaseCreateInput))
    assert ours == answers()
    assert {status for status, _ in ours} == {400} and Case.objects.count() == 0


# -- the mixin itself, on serializers whose fields depend on their instance --------------------------------

class Greeting(FieldsBuiltOnce, serializers.Serializer):
    name = serializers.CharField()
    greeting = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField(), required=False)

    def get_greeting(self, obj) -> str:
        return f"{self.context['word']} {obj['name']}"


def test_each_instance_has_its_own_bound_fields():
    first, second = Greeting(context={"word": "hello"}), Greeting(context={"word": "bye"})
    assert first.data is not None
    assert first.to_representation({"name": "a"})["greeting"] == "hello a"
    assert second.to_representation({"name": "b"})["greeting"] == "bye b"
    assert first.to_representation({"name": "c"})["greeting"] == "hello c"
    for serializer in (first, second):
        assert all(field.parent is serializer for field in serializer.fields.values())
        assert serializer.fields["tags"].child.parent is serializer.fields["tags"]
        assert serializer.fields["tags"].child.context == serializer.context
    assert first.fields["name"] is not second.fields["name"]
    first.fields["name"].required = False
    assert second.fields["name"].required and Greeting().fields["name"].required
    assert [f.field_name for f in first.fields.values()] == ["name", "greeting", "tags"]
    assert first.fields["greeting"].method_name == "get_greeting" and first.fields["name"].label == "Name"


def test_serializers_nesting_a_serializer_keep_drfs_own_fields():
    class Nest(FieldsBuiltOnce, serializers.Serializer):
        inner = Greeting(many=True)

    first, second = Nest(context={"word": "hi"}), Nest(context={"word": "yo"})
    assert first.fields["inner"] is not second.fields["inner"]
    assert first.fields["inner"].child is not second.fields["inner"].child
    assert second.to_representation({"inner": [{"name": "z"}]})["inner"][0]["greeting"] == "yo z"


def test_case_serializers_build_their_fields_once(world, cats, monkeypatch):
    case = varied_cases(world, cats)[0]
    CaseOutput(case).data, CaseCreateInput(data=GOOD).is_valid()
    calls = []
    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", lambda self: calls.append(self) or {})
    monkeypatch.setattr(serializers.Serializer, "get_fields", lambda self: calls.append(self) or {})
    assert CaseOutput(case).data["id"] == case.pk and CaseCreateInput(data=GOOD).is_valid()
    assert calls == []
    assert api_serializers.CaseOutput.__dict__["_bound_fields_once"]["id"].parent is None
