"""Editing rentals: staff apply directly, grid workers propose; every edit carries the version it was
read at, so an outdated one is refused and loses nothing; edits are audited and shown as history."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.geography.tests.factories import BuildingFactory
from yiwang.registry import services
from yiwang.registry.models import ChangeRequest, Rental
from yiwang.registry.tests.factories import make_dwelling, make_resident

pytestmark = pytest.mark.django_db

CONFLICT = "该记录已被他人修改，请刷新后重试。"


@pytest.fixture
def rental(world):
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1, name="租住楼"), room="602")
    tenant = make_resident(world.tree.grid_a1, "租客甲", dwelling=dwelling)
    make_resident(world.tree.grid_a1, "租客乙", dwelling=dwelling)
    return services.rental_create(actor=world.people.staff, dwelling=dwelling, landlord_name="房东老李",
                                  start_date=dt.date(2026, 3, 1), monthly_rent=Decimal("1500"), tenants=[tenant])


def _form(rental, **changes) -> dict:
    values = {"landlord_name": rental.landlord_name, "registration_no": rental.registration_no,
              "monthly_rent": rental.monthly_rent or "", "rooms_let": rental.rooms_let,
              "max_occupants": rental.max_occupants or "", "start_date": rental.start_date.isoformat(),
              "end_date": rental.end_date.isoformat() if rental.end_date else "",
              "tenants": [t.pk for t in rental.tenants.all()], "version": rental.version}
    return {**values, **changes}


def test_staff_edit_applies_bumps_the_version_and_is_audited_and_shown(world, rental, client_for):
    client = client_for(world.people.staff)
    url = reverse("registry:rental_edit", args=[rental.pk])
    other = rental.dwelling.residents.get(name="租客乙")
    response = client.post(url, _form(rental, monthly_rent="1800", end_date="2027-02-28",
                                      tenants=[t.pk for t in rental.dwelling.residents.all()]))
    assert response.status_code == 302 and response["Location"] == url
    rental.refresh_from_db()
    assert rental.version == 2 and rental.monthly_rent == Decimal("1800") and rental.end_date == dt.date(2027, 2, 28)
    assert set(rental.tenants.values_list("name", flat=True)) == {"租客甲", "租客乙"}
    event = AuditEvent.objects.get(action="rental.update")
    assert event.actor == world.people.staff and event.changes == {
        "monthly_rent": ["1500.00", "1800"], "end_date": ["", "2027-02-28"], "tenants": ["租客甲", "租客甲, 租客乙"]}
    page = client.get(url).content.decode()
    assert "月租金" in page and "1500.00 → 1800" in page and "租客甲, 租客乙" in page  # the history, labelled
    assert f'value="{other.pk}"' in page and 'name="version" value="2"' in page
    history = client.get(reverse("registry:history", args=["rental", rental.pk])).content.decode()
    assert "rental.update" in history and "rental.create" in history


def test_an_outdated_edit_is_refused_keeps_the_input_and_shows_what_was_saved(world, rental, client_for):
    client = client_for(world.people.staff)
    url = reverse("registry:rental_edit", args=[rental.pk])
    read_at = _form(rental)  # both staff opened the form at version 1
    assert client.post(url, {**read_at, "landlord_name": "房东老王"}).status_code == 302
    page = client.post(url, {**read_at, "registration_no": "备案-0099", "monthly_rent": "2000"}).content.decode()
    assert CONFLICT in page
    rental.refresh_from_db()
    assert rental.landlord_name == "房东老王" and rental.registration_no == "" and rental.version == 2
    assert rental.monthly_rent == Decimal("1500")
    # Nothing typed is lost; the value saved meanwhile is shown; the form now replaces version 2.
    assert 'value="备案-0099"' in page and 'value="2000"' in page
    assert 'data-testid="saved-meanwhile"' in page and "房东老王" in page
    assert 'name="version" value="2"' in page
    assert AuditEvent.objects.filter(action="rental.update").count() == 1
    # Saving again, knowingly, applies the form as it stands.
    assert client.post(url, {**read_at, "registration_no": "备案-0099", "monthly_rent": "2000",
                             "version": 2}).status_code == 302
    rental.refresh_from_db()
    assert rental.registration_no == "备案-0099" and rental.landlord_name == "房东老李" and rental.version == 3


def test_grid_worker_edit_becomes_a_change_request_that_staff_approve(world, rental, client_for):
    url = reverse("registry:rental_edit", args=[rental.pk])
    second = rental.dwelling.residents.get(name="租客乙")
    page = client_for(world.people.grid_worker).get(url).content.decode()
    assert "您的修改将提交社区工作人员审核" in page
    response = client_for(world.people.grid_worker).post(url, _form(rental, rooms_let=2, tenants=[second.pk],
                                                                    reason="走访发现换租"))
    assert response.status_code == 302
    rental.refresh_from_db()
    assert rental.version == 1 and rental.rooms_let == 1 and list(rental.tenants.values_list("name", flat=True)) == [
        "租客甲"]
    request = ChangeRequest.objects.get(target_type="rental", target_id=rental.pk)
    assert request.changes["rooms_let"] == {"old": 1, "new": 2}
    assert request.changes["tenants"]["new"] == [{"id": second.pk, "label": "租客乙"}]
    detail = client_for(world.people.staff).get(reverse("registry:change_request_detail", args=[request.pk]))
    assert "<ins>租客乙</ins>" in detail.content.decode() and "<del>租客甲</del>" in detail.content.decode()
    services.change_request_approve(actor=world.people.staff, change_request=request)
    rental.refresh_from_db()
    assert rental.version == 2 and rental.rooms_let == 2
    assert list(rental.tenants.values_list("name", flat=True)) == ["租客乙"]


def test_a_grid_workers_outdated_edit_is_refused_too(world, rental, client_for):
    read_at = _form(rental)
    services.record_update(actor=world.people.staff, target=rental, changes={"registration_no": "备案-1"})
    page = client_for(world.people.grid_worker).post(reverse("registry:rental_edit", args=[rental.pk]),
                                                     {**read_at, "rooms_let": 3}).content.decode()
    assert CONFLICT in page and not ChangeRequest.objects.exists()


def test_approval_of_a_stale_rental_request_is_refused(world, rental):
    _o, request = services.record_edit(actor=world.people.grid_worker, target=rental,
                                       changes={"landlord_name": "新房东"})
    services.record_update(actor=world.people.staff, target=rental, changes={"landlord_name": "另一房东"})
    with pytest.raises(services.ConflictError):
        services.change_request_approve(actor=world.people.staff, change_request=request)
    rental.refresh_from_db()
    assert rental.landlord_name == "另一房东"


def test_rental_dates_and_tenants_are_checked_and_nothing_is_saved(world, rental, client_for):
    with pytest.raises(ValidationError) as exc:
        services.record_update(actor=world.people.staff, target=rental, changes={"end_date": "2026-01-01"})
    assert exc.value.message_dict == {"end_date": ["结束日期早于开始日期。"]}
    services.record_update(actor=world.people.staff, target=rental, changes={"end_date": "2026-06-30"})
    with pytest.raises(ValidationError) as exc:  # moving the start past the saved end is caught as well
        services.record_update(actor=world.people.staff, target=rental, changes={"start_date": "2026-07-01"})
    assert exc.value.message_dict == {"end_date": ["结束日期早于开始日期。"]}
    # A tenant the editor may not see (another community's resident) is refused like a made-up one.
    stranger = make_resident(world.tree.grid_b1, "外社区人")
    for tenants in ([stranger.pk], [999999]):
        with pytest.raises(ValidationError) as exc:
            services.record_update(actor=world.people.staff, target=rental, changes={"tenants": tenants})
        assert "tenants" in exc.value.message_dict
    rental.refresh_from_db()
    assert rental.version == 2 and rental.start_date == dt.date(2026, 3, 1)
    assert list(rental.tenants.values_list("name", flat=True)) == ["租客甲"]


def test_edit_links_from_the_rental_list_and_the_dwelling_page(world, rental, client_for):
    url = reverse("registry:rental_edit", args=[rental.pk])
    for user in (world.people.staff, world.people.grid_worker):
        client = client_for(user)
        assert f'href="{url}"' in client.get(reverse("registry:rental_list")).content.decode()
        assert f'href="{url}"' in client.get(reverse("registry:dwelling_detail", args=[rental.dwelling_id])).content.decode()
    client = client_for(world.people.dispatcher_comm)  # may view, not edit
    assert f'href="{url}"' not in client.get(reverse("registry:rental_list")).content.decode()
    assert client.get(url).status_code == 403
    assert client_for(world.people.outsider).get(url).status_code == 404
    assert client_for(world.people.outsider).post(url, _form(rental, landlord_name="x")).status_code == 404
    assert Rental.objects.get().landlord_name == "房东老李"
