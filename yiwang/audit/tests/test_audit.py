import pytest
from django.db import DatabaseError, connection, transaction

from yiwang.audit.models import AppendOnlyError, AuditEvent
from yiwang.audit.selectors import audit_event_list_visible_to
from yiwang.audit.services import audit_record
from yiwang.core.context import reset_client_ip, set_client_ip


def test_audit_record_captures_actor_object_changes_area_and_ip(world):
    token = set_client_ip("192.168.0.9")
    try:
        event = audit_record(actor=world.people.staff, action="thing.update", obj=world.tree.grid_a1,
                             changes={"name": ["旧", "新"]})
    finally:
        reset_client_ip(token)
    assert (event.actor_label, event.object_type, event.object_id) == ("staff_a", "geography.area",
                                                                       str(world.tree.grid_a1.pk))
    assert event.area_path == world.tree.grid_a1.path and event.ip == "192.168.0.9"
    assert event.changes == {"name": ["旧", "新"]}


def test_audit_events_cannot_be_changed_or_deleted(world):
    event = audit_record(actor=world.people.staff, action="x", obj=world.tree.grid_a1)
    event.action = "y"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="y")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger exists on PostgreSQL only")
def test_the_database_itself_refuses_updates_and_deletes(world):
    event = audit_record(actor=world.people.staff, action="x", obj=world.tree.grid_a1)
    for sql in ("UPDATE audit_auditevent SET action = 'y' WHERE id = %s", "DELETE FROM audit_auditevent WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "x"


def test_administrators_see_audit_only_for_their_area(world, people):
    from yiwang.accounts.roles import Role
    from yiwang.accounts.tests.factories import member

    audit_record(actor=people.staff, action="a.write", obj=world.tree.grid_a1)
    audit_record(actor=people.outsider, action="c.write", obj=world.tree.grid_c1)
    sub2_admin = member("admin_sub2", world.tree.sub2, Role.ADMIN)
    assert set(audit_event_list_visible_to(sub2_admin).values_list("action", flat=True)) == {"c.write"}
    assert {"a.write", "c.write"} <= set(audit_event_list_visible_to(people.admin).values_list("action", flat=True))
    assert not audit_event_list_visible_to(people.staff).exists()


def test_audit_page_lists_events_for_administrators(world, client_for):
    audit_record(actor=world.people.staff, action="area.update", obj=world.tree.grid_a1, changes={"name": ["a", "b"]})
    html = client_for(world.people.admin).get("/audit/?action=area").content.decode()
    assert "area.update" in html and "staff_a" in html
