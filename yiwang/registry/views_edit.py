"""Create pages for organisations, urban components, dwellings and rentals, and the housing pages
(dwelling list/detail/edit, rental list). Same shape as the resident pages in views.py: the user picks
a grid among those where they may create, the service checks the permission again, validates, writes
and audits; errors go back onto the form and nothing is saved. Edits of existing records reuse
views._edit_generic (staff apply directly, grid workers' edits become change requests)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely.geometry import Point, shape

from yiwang.core.scoping import require_perm_anywhere
from yiwang.geography.models import Building

from . import records, selectors, services
from .filtersets import DwellingFilterSet, RentalFilterSet
from .forms import (
    ComponentCreateForm,
    DwellingCreateForm,
    DwellingForm,
    GridChoiceForm,
    OrganisationCreateForm,
    RentalCreateForm,
    RentalForm,
)
from .models import Rental, Resident
from .permissions import CHANGE_COMPONENT, CHANGE_ORGANISATION, CHANGE_RESIDENT, PROPOSE_CHANGE, VIEW_RESIDENT
from .views import _attach, _edit_generic, _filtered_list, _grids, _within


def _create_page(request, *, form, create, title: str, grid_form=None, context=None):
    """Validate `form` (and the grid choice), call `create(values)` -> (object, url), show errors or
    go to the new record's page."""
    if request.method == "POST" and form.is_valid() and (grid_form is None or grid_form.is_valid()):
        values = dict(form.cleaned_data)
        if grid_form is not None:
            values["grid"] = grid_form.cleaned_data["grid"]
        try:
            obj, url = create(values)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("%(name)s was registered.") % {"name": obj})
            return redirect(url)
    return render(request, "registry/record_form.html", {"form": form, "grid_form": grid_form, "title": title,
                                                         **(context or {})})


# -- organisations and components ---------------------------------------------------------------

@login_required
def organisation_create(request):
    require_perm_anywhere(request.user, CHANGE_ORGANISATION)

    def create(values):
        organisation = services.organisation_create(actor=request.user, **values)
        return organisation, reverse("registry:organisation_detail", args=[organisation.pk])

    return _create_page(request, form=OrganisationCreateForm(request.POST or None), create=create,
                        grid_form=GridChoiceForm(request.POST or None, grids=_grids(request.user, CHANGE_ORGANISATION)),
                        title=_("Register an organisation"))


OUTSIDE_GRID = gettext_lazy("This point is outside the chosen grid; check the coordinates or the grid.")


@login_required
def component_create(request):
    """The code comes from the grid's division code, the category and the next serial
    (services.component_code, layout setting YIWANG_COMPONENT_CODE_FORMAT)."""
    require_perm_anywhere(request.user, CHANGE_COMPONENT)
    form = ComponentCreateForm(request.POST or None)

    def create(values):
        grid = values["grid"]
        if grid.boundary and not shape(grid.boundary).covers(Point(values["lon"], values["lat"])):
            raise ValidationError({"lon": [OUTSIDE_GRID]})
        component = services.component_create(actor=request.user, **values)
        return component, reverse("registry:component_detail", args=[component.pk])

    return _create_page(request, form=form, create=create, title=_("Register an urban component"),
                        grid_form=GridChoiceForm(request.POST or None, grids=_grids(request.user, CHANGE_COMPONENT)))


# -- dwellings and rentals ---------------------------------------------------------------------------

@login_required
def dwelling_list(request):
    return _filtered_list(request, VIEW_RESIDENT, selectors.dwelling_list_visible_to(request.user)
                          .select_related("grid").order_by("area_path", "building_id", "unit", "room"),
                          DwellingFilterSet, "registry/dwelling_list.html", create_perm=CHANGE_RESIDENT)


@login_required
def dwelling_detail(request, pk: int):
    dwelling = selectors.dwelling_get_visible(request.user, pk)
    return _edit_generic(request, dwelling, DwellingForm, "registry/dwelling_detail.html", {
        "rentals": selectors.rental_list_visible_to(request.user).filter(dwelling=dwelling).prefetch_related(
            Prefetch("tenants", queryset=selectors.resident_list_visible_to(request.user).order_by("name"))),
        "residents": selectors.resident_list_visible_to(request.user).filter(dwelling=dwelling).order_by("name"),
        "may_add_rental": services.can(request.user, CHANGE_RESIDENT, dwelling.area_path),
    })


@login_required
def dwelling_create(request):
    require_perm_anywhere(request.user, CHANGE_RESIDENT)
    buildings = Building.objects.visible_to(request.user, CHANGE_RESIDENT).select_related("grid")
    if _within(request):
        buildings = buildings.within(_within(request))
    form = DwellingCreateForm(request.POST or None, buildings=buildings,
                              initial={"building": request.GET.get("building")})

    def create(values):
        dwelling = services.dwelling_create(actor=request.user, **values)
        return dwelling, reverse("registry:dwelling_detail", args=[dwelling.pk])

    return _create_page(request, form=form, create=create, title=_("Register a dwelling"))


@login_required
def rental_list(request):
    return _filtered_list(request, VIEW_RESIDENT, selectors.rental_list_visible_to(request.user)
                          .order_by("-start_date", "id"), RentalFilterSet, "registry/rental_list.html",
                          edit_perms=(CHANGE_RESIDENT, PROPOSE_CHANGE))


@login_required
def rental_create(request, pk: int):
    """A rental of dwelling `pk` (from the dwelling's page); the dwelling's use becomes "rented"."""
    dwelling = selectors.dwelling_get_visible(request.user, pk)
    if not services.can(request.user, CHANGE_RESIDENT, dwelling.area_path):
        raise PermissionDenied
    tenants = Resident.objects.visible_to(request.user, VIEW_RESIDENT).filter(dwelling=dwelling).order_by("name")
    form = RentalCreateForm(request.POST or None, tenants=tenants, initial={"landlord_name": dwelling.owner_name})

    def create(values):
        rental = services.rental_create(actor=request.user, dwelling=dwelling, **values)
        return rental, reverse("registry:dwelling_detail", args=[dwelling.pk])

    return _create_page(request, form=form, create=create, context={"dwelling": dwelling},
                        title=_("Register a rental of %(dwelling)s") % {"dwelling": dwelling})


def _rental_initial(rental: Rental) -> dict:
    initial = {f: records.current_value(rental, f) for f in records.EDITABLE["rental"][1]}
    initial["tenants"] = [t.pk for t in initial["tenants"]]
    return initial | {"version": rental.version}


def _differs(field: str, saved, typed) -> bool:
    if field in records.MANY_FIELDS:
        return sorted(v.pk for v in saved) != sorted(v.pk for v in typed or [])
    return saved != typed and not (saved in (None, "") and typed in (None, ""))


@login_required
def rental_edit(request, pk: int):
    """Edit a rental: staff's edit applies at once, a grid worker's becomes a change request. The form
    carries the version it was read at; if the rental changed meanwhile, nothing is saved, the user's
    input stays on the form beside the values now saved, and saving again replaces those knowingly."""
    rental = selectors.rental_get_visible(request.user, pk)
    direct = services.can(request.user, CHANGE_RESIDENT, rental.area_path)
    if not direct and not services.can(request.user, PROPOSE_CHANGE, rental.area_path):
        raise PermissionDenied
    tenants = (Resident.objects.visible_to(request.user, VIEW_RESIDENT)
               .filter(Q(dwelling_id=rental.dwelling_id) | Q(rentals=rental)).distinct().order_by("name"))
    initial = _rental_initial(rental)
    form = RentalForm(request.POST or None, tenants=tenants, initial=initial)
    saved_meanwhile = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {f: (list(data[f]) if f == "tenants" else data[f]) for f in form.changed_data
                   if f in records.EDITABLE["rental"][1]}
        try:
            if not changes:
                raise ValidationError(_("Nothing was changed."))
            outcome, _result = services.record_edit(actor=request.user, target=rental, changes=changes,
                                                    reason=data.get("reason", ""), expected_version=data["version"])
        except services.ConflictError as exc:
            current = Rental.objects.get(pk=rental.pk)
            saved_meanwhile = [
                {"label": records.field_label("rental", f),
                 "value": records.choice_label("rental", f, records.to_json(f, records.current_value(current, f)))}
                for f in records.EDITABLE["rental"][1]
                if _differs(f, records.current_value(current, f), data.get(f))]
            # Keep what the user typed; the form now says which version it replaces.
            typed = request.POST.copy()
            typed["version"] = str(current.version)
            form = RentalForm(typed, tenants=tenants, initial=_rental_initial(current))
            form.is_valid()
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.info(request, _("Your change waits for approval by community staff.") if outcome == "pending"
                          else _("Saved."))
            return redirect("registry:rental_edit", pk=rental.pk)
    events, change_requests = selectors.record_history(rental)
    return render(request, "registry/rental_form.html", {
        "rental": rental, "form": form, "direct": direct, "saved_meanwhile": saved_meanwhile,
        "events": [_history_row(e) for e in events[:20]], "pending": change_requests.filter(state="pending")})


def _history_row(event) -> dict:
    """An audit event with its changes under the fields' labels (the full history page shows them raw)."""
    fields = records.EDITABLE["rental"][1]
    def text(value):
        return ", ".join(map(str, value)) if isinstance(value, list) else value

    rows = [{"label": records.field_label("rental", f), "old": text(v[0]), "new": text(v[1])}
            for f, v in (event.changes or {}).items() if f in fields and isinstance(v, list) and len(v) == 2]
    return {"at": event.at, "actor": event.actor_label, "action": event.action, "reason": event.reason, "rows": rows}
