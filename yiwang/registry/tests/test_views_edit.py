"""Create pages for organisations, components, dwellings and rentals; the dwelling page's edit."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from yiwang.audit.models import AuditEvent
from yiwang.geography.tests.factories import BuildingFactory
from yiwang.registry import services
from yiwang.registry.models import (
    ChangeRequest,
    Component,
    ComponentCategory,
    Dwelling,
    Organisation,
    Rental,
)
from yiwang.registry.tests.factories import make_dwelling, make_resident

pytestmark = pytest.mark.django_db


def _zh(message: str) -> str:
    """Django's form message as the site shows it in Chinese (apps' catalogs may override Django's)."""
    with translation.override("zh-hans"):
        text = str(translation.gettext(message))
    assert text != message  # there is a Chinese text to look for
    return text


REQUIRED = _zh("This field is required.")
NOT_A_CHOICE = _zh("Select a valid choice. That choice is not one of the available choices.")


def _organisation(grid, **extra):
    return {"grid": grid.pk, "kind": "shop", "name": "甲便利店", "active": "on", **extra}


# -- organisations ---------------------------------------------------------------------------------

def test_staff_registers_an_organisation_in_their_grid_and_it_is_audited(world, client_for):
    response = client_for(world.people.staff).post(reverse("registry:organisation_create"),
                                                   _organisation(world.tree.grid_a1, credit_code="91141102MA0XXXXX1A"))
    organisation = Organisation.objects.get(name="甲便利店")
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:organisation_detail", args=[organisation.pk])
    assert organisation.area_path == world.tree.grid_a1.path and organisation.name_initials == "jbld"
    assert AuditEvent.objects.filter(action="organisation.create", actor=world.people.staff).count() == 1


def test_an_outsider_cannot_register_an_organisation_in_community_a(world, client_for):
    response = client_for(world.people.outsider).post(reverse("registry:organisation_create"),
                                                      _organisation(world.tree.grid_a1))
    assert response.status_code == 200 and NOT_A_CHOICE in response.content.decode()
    assert world.tree.grid_a1.name not in response.content.decode()  # not even offered
    assert not Organisation.objects.exists()


@pytest.mark.parametrize("role", ["grid_worker", "dispatcher_comm", "resident"])
def test_roles_without_the_change_permission_are_refused(world, client_for, role):
    response = client_for(getattr(world.people, role)).post(reverse("registry:organisation_create"),
                                                            _organisation(world.tree.grid_a1))
    assert response.status_code == 403
    assert not Organisation.objects.exists()


def test_invalid_organisation_input_shows_chinese_errors_and_saves_nothing(world, client_for):
    client = client_for(world.people.staff)
    page = client.post(reverse("registry:organisation_create"), _organisation(world.tree.grid_a1, name="")).content
    assert REQUIRED in page.decode()
    services.organisation_create(actor=world.people.staff, grid=world.tree.grid_a2, kind="shop", name="乙店",
                                 credit_code="91141102MA0XXXXX1A")
    page = client.post(reverse("registry:organisation_create"),
                       _organisation(world.tree.grid_a1, credit_code="91141102MA0XXXXX1A")).content.decode()
    assert "该统一社会信用代码的单位已登记。" in page and 'value="甲便利店"' in page  # the input is kept
    assert list(Organisation.objects.values_list("name", flat=True)) == ["乙店"]


def test_list_pages_offer_the_create_link_to_editors_only(world, client_for):
    for list_name, create_name in (("organisation_list", "organisation_create"),
                                   ("component_list", "component_create"), ("dwelling_list", "dwelling_create")):
        link = f'href="{reverse(f"registry:{create_name}")}"'
        assert link in client_for(world.people.staff).get(reverse(f"registry:{list_name}")).content.decode()
        assert link not in client_for(world.people.grid_worker).get(reverse(f"registry:{list_name}")).content.decode()


# -- components ------------------------------------------------------------------------------------

def _component(grid, category, **extra):
    return {"grid": grid.pk, "category": category.pk, "name": "甲井盖", "lon": grid.centroid_lon,
            "lat": grid.centroid_lat, "state": "normal", **extra}


def test_a_new_component_gets_the_next_serial_and_its_16_character_code(world, client_for):
    category = ComponentCategory.objects.get(large_code="01", small_code="18")
    client = client_for(world.people.staff)
    for _n in range(2):
        response = client.post(reverse("registry:component_create"), _component(world.tree.grid_a1, category))
        assert response.status_code == 302
    first, second = Component.objects.order_by("serial")
    assert first.code == f"{world.tree.grid_a1.division_code}0118000001" and len(first.code) == 16
    assert second.code == f"{world.tree.grid_a1.division_code}0118000002"
    assert response["Location"] == reverse("registry:component_detail", args=[second.pk])
    assert first.area_path == world.tree.grid_a1.path
    assert AuditEvent.objects.filter(action="component.create").count() == 2


def test_the_component_code_follows_the_configured_layout(world, client_for, settings):
    settings.YIWANG_COMPONENT_CODE_FORMAT = "{division}{large:0>2}{small:0>3}{serial:05d}"  # GB/T 30428.2
    category = ComponentCategory.objects.get(large_code="01", small_code="18")
    client_for(world.people.staff).post(reverse("registry:component_create"), _component(world.tree.grid_a1, category))
    assert Component.objects.get().code == f"{world.tree.grid_a1.division_code}0101800001"


def test_a_component_outside_its_grid_or_without_a_place_is_refused_in_chinese(world, client_for):
    category = ComponentCategory.objects.get(large_code="01", small_code="18")
    client = client_for(world.people.staff)
    outside = _component(world.tree.grid_a1, category, lon=world.tree.grid_b1.centroid_lon)
    page = client.post(reverse("registry:component_create"), outside).content.decode()
    assert "该位置不在所选网格内" in page
    page = client.post(reverse("registry:component_create"), _component(world.tree.grid_a1, category, lat="")).content
    assert REQUIRED in page.decode()
    assert not Component.objects.exists()


def test_an_outsider_cannot_register_a_component_in_community_a(world, client_for):
    category = ComponentCategory.objects.get(large_code="01", small_code="18")
    page = client_for(world.people.outsider).post(reverse("registry:component_create"),
                                                  _component(world.tree.grid_a1, category)).content.decode()
    assert NOT_A_CHOICE in page and not Component.objects.exists()


# -- dwellings -------------------------------------------------------------------------------------

def test_staff_registers_a_dwelling_and_a_duplicate_room_is_refused(world, client_for):
    building = BuildingFactory(grid=world.tree.grid_a1, name="甲五号楼")
    client = client_for(world.people.staff)
    data = {"building": building.pk, "unit": 2, "floor": 3, "room": "302", "use": "owner", "owner_name": "王五"}
    response = client.post(reverse("registry:dwelling_create"), data)
    dwelling = Dwelling.objects.get()
    assert response["Location"] == reverse("registry:dwelling_detail", args=[dwelling.pk])
    assert dwelling.address == "甲五号楼2单元302室" and dwelling.area_path == world.tree.grid_a1.path
    assert AuditEvent.objects.filter(action="dwelling.create").count() == 1
    page = client.post(reverse("registry:dwelling_create"), data).content.decode()
    assert "该楼栋中此房号已登记。" in page
    assert Dwelling.objects.count() == 1


def test_an_outsider_cannot_register_a_dwelling_in_a_building_of_community_a(world, client_for):
    building = BuildingFactory(grid=world.tree.grid_a1, name="甲五号楼")
    client = client_for(world.people.outsider)
    assert "甲五号楼" not in client.get(reverse("registry:dwelling_create")).content.decode()
    page = client.post(reverse("registry:dwelling_create"), {"building": building.pk, "unit": 1, "floor": 1,
                                                            "room": "101", "use": "owner"}).content.decode()
    assert NOT_A_CHOICE in page and not Dwelling.objects.exists()


def test_a_grid_workers_dwelling_edit_becomes_a_change_request_and_staff_edits_apply(world, client_for):
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1))
    url = reverse("registry:dwelling_detail", args=[dwelling.pk])
    edit = {"use": "vacant", "owner_name": "", "floor_area": "", "floor": 1, "note": "空置"}
    client_for(world.people.grid_worker).post(url, edit)
    dwelling.refresh_from_db()
    assert dwelling.use == "owner" and dwelling.note == ""
    request = ChangeRequest.objects.get(target_type="dwelling", target_id=dwelling.pk)
    assert request.changes["use"] == {"old": "owner", "new": "vacant"} and request.state == "pending"
    client_for(world.people.staff).post(url, {**edit, "use": "commercial"})
    dwelling.refresh_from_db()
    assert dwelling.use == "commercial" and dwelling.note == "空置"
    assert AuditEvent.objects.filter(action="dwelling.update", actor=world.people.staff).exists()
    assert client_for(world.people.outsider).post(url, edit).status_code == 404


# -- rentals ---------------------------------------------------------------------------------------

def test_staff_registers_a_rental_with_a_tenant_and_the_dwelling_becomes_rented(world, client_for):
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1))
    tenant = make_resident(world.tree.grid_a1, "租客甲", dwelling=dwelling)
    elsewhere = make_resident(world.tree.grid_a1, "别处的人")
    client = client_for(world.people.staff)
    url = reverse("registry:rental_create", args=[dwelling.pk])
    page = client.get(url).content.decode()
    assert "租客甲" in page and "别处的人" not in page  # tenants: the people registered at the dwelling
    refused = client.post(url, {"landlord_name": "房东乙", "start_date": "2026-03-01", "rooms_let": 1,
                                "tenants": [elsewhere.pk]}).content.decode()
    not_offered = _zh("Select a valid choice. %(value)s is not one of the available choices.")
    assert not_offered % {"value": elsewhere.pk} in refused and not Rental.objects.exists()
    response = client.post(url, {"landlord_name": "房东乙", "start_date": "2026-03-01", "rooms_let": 1,
                                 "monthly_rent": "1200", "tenants": [tenant.pk]})
    assert response["Location"] == reverse("registry:dwelling_detail", args=[dwelling.pk])
    rental = Rental.objects.get()
    assert list(rental.tenants.all()) == [tenant] and rental.start_date == dt.date(2026, 3, 1)
    dwelling.refresh_from_db()
    assert dwelling.use == "rented"
    assert AuditEvent.objects.filter(action="rental.create").count() == 1


def test_a_rental_ending_before_it_starts_is_refused_in_chinese(world, client_for):
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1))
    page = client_for(world.people.staff).post(reverse("registry:rental_create", args=[dwelling.pk]), {
        "landlord_name": "房东乙", "start_date": "2026-03-01", "end_date": "2026-02-01", "rooms_let": 1,
    }).content.decode()
    assert "结束日期早于开始日期。" in page and not Rental.objects.exists()


def test_rentals_of_community_a_are_closed_to_outsiders_and_grid_workers(world, client_for):
    dwelling = make_dwelling(BuildingFactory(grid=world.tree.grid_a1))
    url = reverse("registry:rental_create", args=[dwelling.pk])
    data = {"landlord_name": "房东乙", "start_date": "2026-03-01", "rooms_let": 1}
    assert client_for(world.people.outsider).post(url, data).status_code == 404
    assert client_for(world.people.grid_worker).post(url, data).status_code == 403
    assert not Rental.objects.exists()
