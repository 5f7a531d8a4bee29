"""core.inserts.insert_new writes exactly the rows the ORM writes, for every model an intake writes with it
(the case, its followers and steps, audit events, notifications): defaults, auto_now and auto_now_add,
JSON, dates, nullable foreign keys, related objects saved after they were assigned."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db.models.signals import post_save, pre_save
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy

from yiwang.audit.models import AuditEvent
from yiwang.audit.services import audit_event
from yiwang.cases.models import Case, CaseFollower, CaseStep
from yiwang.core import pii
from yiwang.core.inserts import insert_new
from yiwang.notifications.models import Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def _row(obj, *, without=()) -> dict:
    row = type(obj).objects.filter(pk=obj.pk).values().get()
    return {k: v for k, v in row.items() if k not in {"id", *without}}


def _case(world, cats, code: str, key: str = "") -> Case:
    grid = world.tree.grid_a1
    return Case(tracking_code=code, channel="app", category=cats.garbage, grid=grid, area_path=grid.path, lon=111.1,
                lat=37.5, description="垃圾桶满溢", created_by=world.people.grid_worker,
                department=world.people.department, created_at=NOW, deadline=NOW, stage_started_at=NOW,
                idempotency_scope="u1" if key else "", idempotency_key=key,
                **pii.sealed_columns("reporter_phone", "13800001234", kind="phone"))


def test_a_case_is_written_as_save_writes_it_with_its_signals(world, cats):
    by_orm, ours = _case(world, cats, "AAAAAAAAAA22", "k1"), _case(world, cats, "AAAAAAAAAA23", "k2")
    seen = []

    def record(sender, instance, **kwargs):
        seen.append((kwargs["signal"], instance, kwargs.get("created"), kwargs["update_fields"], kwargs["raw"]))

    pre_save.connect(record, sender=Case)
    post_save.connect(record, sender=Case)
    try:
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            by_orm.save()
            orm_signals = [(s, c, u, r) for s, _i, c, u, r in seen]
            seen.clear()
            assert insert_new([ours], send_save_signals=True) == [ours]
    finally:
        pre_save.disconnect(record, sender=Case)
        post_save.disconnect(record, sender=Case)
    assert [(s, c, u, r) for s, _i, c, u, r in seen] == orm_signals
    assert all(instance is ours for _s, instance, *_rest in seen)
    assert ours.pk and ours.pk != by_orm.pk and not ours._state.adding and ours._state.db == "default"
    differs = ("tracking_code", "idempotency_key", "reporter_phone_cipher")  # the cipher has a random nonce
    assert _row(ours, without=differs) == _row(by_orm, without=differs)
    assert _row(ours)["updated_at"] == NOW and _row(ours)["reporter_phone_masked"].endswith("1234")
    assert Case.objects.get(pk=ours.pk).reporter_phone_cipher == ours.reporter_phone_cipher


def test_followers_and_steps_of_a_case_saved_after_they_were_made(world, cats):
    """The rows were made with the case before it had a key, as the intake makes them."""
    rows = {}
    for name, write in (("orm", lambda objs: type(objs[0]).objects.bulk_create(objs)), ("ours", insert_new)):
        case = _case(world, cats, f"BBBBBBBBBB2{len(rows)}")
        followers = [CaseFollower(case=case, user=world.people.grid_worker),
                     CaseFollower(case=case, **pii.sealed_columns("phone", "13900001111", kind="phone"))]
        steps = [CaseStep(case=case, action="create", from_state="", to_state="reported", actor=world.people.grid_worker,
                          actor_label="gw", level=3, area_path=case.area_path, at=NOW, deadline=NOW,
                          data={"channel": "app", "数": [1, 2.5, None]}),
                 CaseStep(case=case, action="dispatch", from_state="accepted", to_state="dispatched", actor=None,
                          actor_label="system", department=world.people.department, level=3,
                          area_path=case.area_path, at=NOW, on_time=False, rating=3, public=False)]
        case.save()
        write(followers)
        write(steps)
        assert all(obj.pk and not obj._state.adding and obj.case_id == case.pk for obj in followers + steps)
        rows[name] = ([_row(f, without=("case_id", "phone_cipher")) for f in followers],
                      [_row(s, without=("case_id",)) for s in steps])
        assert [s.pk for s in steps] == sorted(s.pk for s in steps)
    assert rows["ours"] == rows["orm"]
    assert rows["ours"][1][0]["data"] == {"channel": "app", "数": [1, 2.5, None]}
    assert rows["ours"][1][1]["on_time"] is False and rows["ours"][1][0]["on_time"] is None


def test_audit_events_get_their_time_from_auto_now_add(world, cats):
    case = _case(world, cats, "CCCCCCCCCC22")
    case.save()

    def events():
        return [audit_event(actor=world.people.grid_worker, action="cases.create", obj=case,
                            changes={"grid": "1411", "when": NOW.isoformat()}),
                audit_event(actor=None, action="cases.accept", obj=case, reason="自动")]

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        orm = AuditEvent.objects.bulk_create(events())
        ours = insert_new(events())
    assert [_row(e) for e in ours] == [_row(e) for e in orm]
    assert _row(ours[0])["at"] == NOW and _row(ours[1])["actor_id"] is None


def test_notifications_with_and_without_a_user(world):
    def notices(tag):
        return [Notification(user_id=world.people.grid_worker.pk, kind="cases.public_step", title="标题",
                             body="正文", link="/cases/1/", dedupe_key=f"{tag}-u"),
                Notification(**pii.sealed_columns("phone", "13700002222", kind="phone"), kind="cases.public_step",
                             title="短信", dedupe_key=f"{tag}-p")]

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        orm = Notification.objects.bulk_create(notices("orm"))
        ours = insert_new(notices("ours"))
    differs = ("dedupe_key", "phone_cipher")
    assert [_row(n, without=differs) for n in ours] == [_row(n, without=differs) for n in orm]
    assert Notification.objects.get(pk=ours[1].pk).phone == "13700002222"


def test_the_statement_is_reused_for_the_same_row_count_and_rebuilt_for_another(world, cats):
    case = _case(world, cats, "DDDDDDDDDD22")
    case.save()
    for count in (1, 3, 1):
        made = insert_new([CaseStep(case=case, action="create", to_state="reported", actor_label=f"n{count}-{i}",
                                    area_path=case.area_path, at=NOW) for i in range(count)])
        assert [s.actor_label for s in CaseStep.objects.filter(pk__in=[s.pk for s in made]).order_by("pk")] == \
            [f"n{count}-{i}" for i in range(count)]
    assert insert_new([]) == []


def test_saved_rows_or_mixed_models_are_refused(world, cats):
    case = _case(world, cats, "EEEEEEEEEE22")
    case.save()
    with pytest.raises(ValueError):
        insert_new([case])
    with pytest.raises(ValueError):
        insert_new([CaseFollower(case=case), Notification(kind="x", title="y", dedupe_key="z")])


def test_text_that_is_not_a_plain_str_is_converted_as_the_orm_converts_it(world, cats):
    """Plain strings go as they are; lazy translations and other values still go through the field."""
    case = _case(world, cats, "FFFFFFFFFF22")
    case.save()

    def steps():
        return [CaseStep(case=case, action="accept", to_state="accepted", actor_label=gettext_lazy("system"),
                         comment=12345, area_path=case.area_path, at=NOW, external_id=SafeString("ext-1"))]

    orm = CaseStep.objects.bulk_create(steps())
    orm[0].external_id = ""
    CaseStep.objects.filter(pk=orm[0].pk).update(external_id="")
    [ours] = insert_new(steps())
    row = CaseStep.objects.filter(pk=ours.pk).values("actor_label", "comment", "external_id").get()
    assert row == {"actor_label": "system", "comment": "12345", "external_id": "ext-1"}
    assert _row(ours, without=("external_id",)) == _row(orm[0], without=("external_id",))
