"""Writes for cases. Every move goes through `case_act`, which reads the transition table in
workflow.py; named wrappers (case_accept, case_dispatch, case_verify...) are there for callers.

Concurrency: the case row is locked (select_for_update) and its `version` compared with the
version the caller saw; a mismatch raises CaseConflict (HTTP 409, a message on pages), so when two
people act at once one wins and the other is told, and no update is lost.
Idempotency: case_create with the same (creator, idempotency_key) returns the first case.
"""

import copy
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.accounts.models import Department, Membership
from yiwang.audit.services import audit_event, audit_record_many
from yiwang.core import pii
from yiwang.core.inserts import insert_new
from yiwang.core.prepared import PreparedQuery, instance_from_row
from yiwang.core.refcache import RefCache, count_and_last_change
from yiwang.geography.models import Area, AreaLevel, Building
from yiwang.geography.spatial import grid_id_for_point, grid_memo
from yiwang.notifications.services import notify_many, notify_transient

from . import personal, workcal
from .models import (
    Attachment,
    Case,
    CaseFollower,
    CaseStep,
    Category,
    Channel,
    DispatchRule,
    PhoneVerification,
    new_tracking_code,
)
from .permissions import ADD_CASE, DISPATCH_CASE, VERIFY_CASE, covers, handler_department_ids
from .photos import ProcessedPhoto, process_photos
from .signals import case_created
from .workflow import (
    LEVEL_PATH_LENGTH,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    ReturnReason,
    State,
    SupervisionMark,
)

_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
AUTO_ACCEPT_CHANNELS = {Channel.GRID_WORKER, Channel.APP, Channel.COUNTER, Channel.HOTLINE, Channel.CCTV}
PUBLIC_CHANNELS = {Channel.RESIDENT_WEB, Channel.OPEN311}


class CaseConflict(Exception):
    """Someone else changed the case since the caller loaded it."""

    def __init__(self, case=None):
        self.case = case
        super().__init__(_("Someone else has just changed this case. Reload it to see the latest state, "
                           "then try again."))


# -- tracking codes --------------------------------------------------------------------------------
def _check_pair(base: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), base.encode(), hashlib.sha256).digest()
    return _ALPHABET[digest[0] % len(_ALPHABET)] + _ALPHABET[digest[1] % len(_ALPHABET)]


def tracking_code_new() -> str:
    base = new_tracking_code()
    return base + _check_pair(base)


def tracking_code_is_well_formed(code: str) -> bool:
    """Forged or mistyped codes fail the keyed check pair before any database lookup."""
    code = (code or "").strip().upper()
    return (len(code) == 12 and all(c in _ALPHABET for c in code)
            and hmac.compare_digest(code[10:], _check_pair(code[:10])))


# -- lookups on every intake, compiled once per process (core.prepared) ---------------------------
def _attnames(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _marker(model, field: str, value) -> tuple:
    return model._meta.get_field(field), value


# The unique index on (scope, key) is partial (keys not empty): the query repeats its condition, else
# SQLite does not use it (nor PostgreSQL when it cannot prove the key is not empty) and scans every case.
_CASE_BY_IDEMPOTENCY_KEY = PreparedQuery(
    lambda scope, key: Case.objects.filter(idempotency_scope=scope, idempotency_key=key)
    .exclude(idempotency_key="").order_by().values("pk"),
    scope=_marker(Case, "idempotency_scope", "\x1fscope"), key=_marker(Case, "idempotency_key", "\x1fkey"), prepare=True)
# Who is told of a supervision mark, by the state the case is in (see _step_notices).
_SUPERVISED_PARTY = {State.REPORTED: "centre", State.ACCEPTED: "centre", State.DISPATCHED: "department",
                     State.IN_PROGRESS: "department", State.TO_VERIFY: "verifier", State.VERIFIED: "centre"}


@dataclass(frozen=True)
class _Recipients:
    """Active memberships of the roles the case loop notifies, by where they sit."""

    dispatchers_at: dict[str, tuple[int, ...]]  # area path -> user ids
    grid_workers_at: dict[str, tuple[int, ...]]
    handlers_of: dict[int, tuple[int, ...]]  # department id -> user ids


def _recipients_load() -> _Recipients:
    places: dict[str, dict] = {"dispatcher": {}, "grid_worker": {}, "handler": {}}
    for role, path, department_id, user_id in (
            Membership.objects.filter(active=True, role__in=list(places)).order_by("id")
            .values_list("role", "area__path", "department_id", "user_id")):
        where = department_id if role == "handler" else path
        places[role].setdefault(where, []).append(user_id)
    freeze = {role: {where: tuple(ids) for where, ids in found.items()} for role, found in places.items()}
    return _Recipients(freeze["dispatcher"], freeze["grid_worker"], freeze["handler"])


# Every move notifies someone: who holds which role where is read from here, not once per step. A
# membership granted, ended or moved counts at once in this process, within two seconds in the others.
RECIPIENTS = RefCache("cases.recipients", _recipients_load, lambda: count_and_last_change(Membership, Area),
                      recheck_seconds=2.0, watch=(Membership, Area))


# The grid a point falls in, without its boundary (a polygon of hundreds of points, parsed for nothing).
_GRID_BY_PK = PreparedQuery(
    lambda pk: Area.objects.filter(pk=pk).order_by().values(*(n for n in _attnames(Area) if n != "boundary")),
    pk=_marker(Area, "id", -7303), prepare=True)
_DEPARTMENT_COLUMNS = ("id", "name", "code", "active")


# -- categories and dispatch rules: reference data kept per process (core.refcache) -----------------
@dataclass(frozen=True)
class _Reference:
    categories: dict[str, dict]  # code -> the category's columns and has_children
    categories_by_pk: dict[int, dict]
    rules_above: dict[int, list[tuple]]  # category id -> (rule id, category code, area path, priority) of its
    # rules and those of every category above it, by rule id
    rules_by_pk: dict[int, dict]  # rule id -> the rule's columns
    departments_by_pk: dict[int, dict]  # department id -> _DEPARTMENT_COLUMNS


def _reference_load() -> _Reference:
    rows = list(Category.objects.order_by().values(
        *_attnames(Category), has_children=Exists(Category.objects.filter(parent=OuterRef("pk")))))
    by_pk = {row["id"]: row for row in rows}
    rules: dict[int, list[tuple]] = {}
    rule_rows = {row["id"]: row for row in DispatchRule.objects.order_by("id").values(*_attnames(DispatchRule),
                                                                                     "area__path")}
    for rule in rule_rows.values():
        rules.setdefault(rule["category_id"], []).append(
            (rule["id"], by_pk[rule["category_id"]]["code"], rule.pop("area__path"), rule["priority"]))
    rules_above = {}
    for category_id in by_pk:
        chain, pk, seen = [], category_id, set()
        while pk is not None and pk not in seen:
            seen.add(pk)
            chain.extend(rules.get(pk, ()))
            pk = by_pk[pk]["parent_id"]
        if chain:
            rules_above[category_id] = sorted(chain)
    departments = {row["id"]: row for row in Department.objects.order_by().values(*_DEPARTMENT_COLUMNS)}
    return _Reference({row["code"]: row for row in rows}, by_pk, rules_above, rule_rows, departments)


# An administrator's change counts at once in this process, within two seconds in the others.
# (Any area's change counts, not only the rules' areas: areas change rarely, and a reload is cheap.)
REFERENCE = RefCache("cases.reference", _reference_load,
                     lambda: count_and_last_change(Category, DispatchRule, Department, Area),
                     recheck_seconds=2.0, watch=(Category, DispatchRule, Area, Department))


def _category_from_row(row: dict) -> Category:
    category = instance_from_row(Category, row)
    # The row is shared by the process: its lists are not handed out.
    category.handling_modes = copy.deepcopy(category.handling_modes)
    category.attributes = copy.deepcopy(category.attributes)
    return category


# -- dispatch rules --------------------------------------------------------------------------------
def dispatch_rule_for(category: Category, area_path: str) -> DispatchRule | None:
    """The most specific rule for the category (or an ancestor) and the area (or an ancestor), with its
    department, from the reference data (the caller must not change them)."""
    reference = REFERENCE.get()
    best, best_key = None, None
    for rule_id, code, path, priority in reference.rules_above.get(category.pk, ()):
        if path is not None and not area_path.startswith(path):
            continue
        key = (len(code), len(path) if path else 0, priority)
        if best_key is None or key > best_key:
            best, best_key = rule_id, key
    if best is None:
        return None
    rule = instance_from_row(DispatchRule, reference.rules_by_pk[best])
    if rule.department_id:
        rule.department = instance_from_row(Department, reference.departments_by_pk[rule.department_id])
    return rule


def suggested_department(case: Case) -> Department | None:
    rule = dispatch_rule_for(case.category, case.area_path)
    if rule and rule.department_id:
        return rule.department
    return case.category.default_department


# -- helpers -----------------------------------------------------------------------------------------
def _label(actor) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.get_username()
    return "system"


def _save_photos(case: Case, step: CaseStep, photos: list[ProcessedPhoto], now) -> list[Attachment]:
    saved = []
    for photo in photos:
        attachment = Attachment(case=case, step=step, original_name=photo.name, size=len(photo.full),
                                width=photo.width, height=photo.height, sha256=photo.sha256, created_at=now)
        attachment.file.save("photo.jpg", ContentFile(photo.full), save=False)
        attachment.public_file.save("photo.jpg", ContentFile(photo.public), save=False)
        attachment.save()
        saved.append(attachment)
    return saved


def _set_stage(case: Case, now, deadline) -> None:
    case.stage_started_at = now
    case.deadline = deadline
    case.warn_at = workcal.warning_time(now, deadline) if deadline else None
    case.overdue = False
    if case.supervision == SupervisionMark.YELLOW:
        case.supervision = SupervisionMark.NONE


def _record_step(case: Case, *, action, from_state, actor, now, comment="", reason_code="", on_time=None,
                 rating=None, data=None, public=True, external_id="", deadline=None) -> CaseStep:
    """The step of a move, unsaved (written by _Outbox.flush), with the case as it is after the move."""
    return CaseStep(
        case=case, action=action, from_state=from_state, to_state=case.state, actor=actor if _label(actor) != "system" else None,
        actor_label=_label(actor), department=case.department, level=case.level, area_path=case.area_path, at=now,
        deadline=deadline if deadline is not None else case.deadline, on_time=on_time, comment=comment,
        reason_code=reason_code, rating=rating, data=data or {}, public=public, external_id=external_id)


_AUTO_NOW = [f.attname for f in Case._meta.concrete_fields if getattr(f, "auto_now", False)]


def _column_values(case: Case) -> dict:
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields if not f.primary_key}


@dataclass
class _Pending:
    """A move made in memory: its step, photos and audit detail, written by _Outbox.flush."""

    step: CaseStep
    photos: list
    actor: object  # None for the system
    changes: dict
    reason: str


class _Outbox:
    """What one service call writes, made in memory first and written at its end: the case once (inserted,
    or updated in the columns that changed), its new steps, their photos, audit rows and notifications
    with one INSERT each. Intake with its automatic acceptance and dispatch makes three steps, and
    writing them move by move (case, step, audit, notices, again and again) was most of its cost."""

    def __init__(self, case: Case, followers: list[CaseFollower] | None = None, *, requester=None):
        self.case = case
        # Who asked for these steps sees their outcome on screen: nothing of them is sent to that person.
        self.requester_id = requester.pk if requester is not None and getattr(requester, "is_authenticated",
                                                                                 False) else None
        self.new_followers = followers or []
        self._followers = followers
        self._before = _column_values(case) if case.pk else None
        self.pending: list[_Pending] = []

    def followers(self) -> list[CaseFollower]:
        if self._followers is None:
            self._followers = list(self.case.followers.all())
        return self._followers

    def flush(self) -> None:
        case = self.case
        inserted = self._before is None
        if inserted:
            insert_new([case], send_save_signals=True)  # case.save(), its INSERT built once per process
        else:
            after = _column_values(case)
            changed = [name for name, value in after.items() if value != self._before[name]]
            if changed:  # and the auto_now columns, which save() sets only when asked to write them
                case.save(update_fields=changed + [name for name in _AUTO_NOW if name not in changed])
        self._before = _column_values(case)
        insert_new(self.new_followers)
        self.new_followers = []
        steps = insert_new([p.step for p in self.pending])
        for p in self.pending:
            _save_photos(case, p.step, p.photos, p.step.at)
        audit_record_many([audit_event(actor=p.actor, action=f"cases.{p.step.action}", obj=case, changes=p.changes,
                                       reason=p.reason) for p in self.pending])
        notify_many([notice for p in self.pending for notice in _step_notices(case, p.step, self)])
        self.pending = []
        if inserted:  # last: a receiver may write rows other transactions share (the rollups above the grid)
            case_created.send(sender=Case, case=case, steps=steps)
        for step in steps:  # insert_new, like bulk_create, sends no signals; receivers (the dashboards' rollups) expect save()'s
            post_save.send(sender=CaseStep, instance=step, created=True, update_fields=None, raw=False,
                           using=step._state.db)


def _step_notices(case: Case, step: CaseStep, outbox: _Outbox) -> list[dict]:
    """Tell followers of public steps, handlers of dispatch and supervision, centres of escalation (the
    department, level and state as the step recorded them); never the person whose request made the step
    (a grid worker's report, accepted and dispatched at once, would otherwise fill their own inbox)."""
    link = f"/cases/{case.pk}/"
    title = _("%(category)s (%(code)s): %(action)s") % {"category": case.category.name, "code": case.tracking_code,
                                                         "action": Action(step.action).label}
    notices = []
    transition = TRANSITIONS.get(step.action)
    if step.action == Action.CREATE or (transition and transition.public):
        for follower in outbox.followers():
            if follower.user_id:
                notices.append({"user_id": follower.user_id, "kind": "cases.public_step", "title": title,
                                "body": State(step.to_state).label, "link": link,
                                "dedupe_key": f"case:{case.pk}:step:{step.pk}:u{follower.user_id}"})
            elif follower.phone_hash:
                notices.append({"phone": pii.decrypt(follower.phone_cipher), "kind": "cases.public_step",
                                "title": title, "channels": ("sms",),
                                "body": _("Follow it at /cases/track/%(code)s/") % {"code": case.tracking_code},
                                "dedupe_key": f"case:{case.pk}:step:{step.pk}:p{follower.phone_hash}"})
    user_ids = []
    # A supervision mark goes to whoever must act next: the department while it handles the case, the
    # grid workers while it waits for on-site verification, else the centre holding it.
    supervised_with = _SUPERVISED_PARTY.get(step.to_state) if step.action == Action.SUPERVISE else None
    if (step.action in (Action.DISPATCH, Action.APPROVE_EXTENSION, Action.DENY_EXTENSION, Action.VERIFY_FAIL)
            or supervised_with == "department") and step.department_id:
        user_ids += RECIPIENTS.get().handlers_of.get(step.department_id, ())
    if step.action in (Action.ESCALATE, Action.REQUEST_EXTENSION, Action.RETURN, Action.REPORT_BACK,
                       Action.CREATE, Action.REOPEN) or supervised_with == "centre":
        centre = case.area_path[:LEVEL_PATH_LENGTH[min(step.level, 3)]]  # the centre holding the case then
        user_ids += RECIPIENTS.get().dispatchers_at.get(centre, ())
    if supervised_with == "verifier":
        user_ids += RECIPIENTS.get().grid_workers_at.get(case.area_path, ())
    notices += [{"user_id": user_id, "kind": f"cases.{step.action}", "title": title, "body": step.comment,
                 "link": link, "dedupe_key": f"case:{case.pk}:step:{step.pk}:u{user_id}"} for user_id in user_ids]
    return [notice for notice in notices if notice.get("user_id") is None or notice["user_id"] != outbox.requester_id]


# -- phone verification (public intake) -----------------------------------------------------------
def _code_digest(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{pii.normalize_phone(phone)}:{code}".encode(),
                    hashlib.sha256).hexdigest()


REDACTED_CODE = "******"
PHONE_CODE_TRIES = 5


def phone_code_send(*, phone: str, now=None) -> None:
    """Send a 6-digit code by SMS (console by default); at most one per minute per phone. The code is
    stored only as a keyed digest (HMAC with SECRET_KEY), valid 10 minutes for 5 tries; the notification
    and delivery records keep the message with the code redacted."""
    now = now or timezone.now()
    phone = (phone or "").strip()
    if not (len(phone) == 11 and phone.isdigit() and phone.startswith("1")):
        raise ValidationError({"phone": [_("Enter an 11-digit mobile number.")]})
    phone_hash = personal.phone_lookup_hash(phone)
    if PhoneVerification.objects.filter(phone_hash=phone_hash, created_at__gt=now - timedelta(seconds=60)).exists():
        raise ValidationError({"phone": [_("A code was sent less than a minute ago; please wait.")]})
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = PhoneVerification.objects.create(phone_hash=phone_hash, phone_masked=pii.mask_phone(phone),
                                              code_digest=_code_digest(phone, code), created_at=now,
                                              expires_at=now + timedelta(minutes=10))
    message = _("Your Yiwang verification code is %(code)s")
    # The code is kept only as its keyed digest: the SMS backend gets the text, the records get "******".
    notify_transient(phone=phone, kind="cases.phone_code", title=message % {"code": code},
                     stored_title=message % {"code": REDACTED_CODE}, body=_("Valid for 10 minutes."),
                     stored_body=_("Valid for 10 minutes."), channels=("sms",), dedupe_key=f"phonecode:{record.pk}")


def phone_code_check(*, phone: str, code: str, now=None) -> None:
    """Accept the latest unused, unexpired code for this phone (5 tries), or raise ValidationError."""
    now = now or timezone.now()
    with transaction.atomic():
        record = (PhoneVerification.objects.select_for_update()
                  .filter(phone_hash=personal.phone_lookup_hash(phone), used_at__isnull=True, expires_at__gt=now)
                  .order_by("-created_at").first())
        if record is None or record.attempts >= PHONE_CODE_TRIES:
            raise ValidationError({"code": [_("The code has expired or was not requested. Ask for a new one.")]})
        record.attempts += 1
        matches = hmac.compare_digest(record.code_digest, _code_digest(phone, (code or "").strip()))
        if matches:
            record.used_at = now
        # A wrong try is counted before the error is raised: raising inside the block would roll it back.
        record.save(update_fields=["attempts", "used_at"])
    if not matches:
        raise ValidationError({"code": [_("The verification code is wrong.")]})


# -- intake -------------------------------------------------------------------------------------------
def _resolve_category(category) -> Category:
    has_children = None
    if isinstance(category, Category):
        found = category
    else:
        value = str(category or "").strip()
        if not value:
            raise ValidationError({"category": [_("Choose a category.")]})
        reference = REFERENCE.get()
        row = reference.categories.get(value)
        if row is None and value.isdigit():
            row = reference.categories_by_pk.get(int(value))
        if row is None:
            raise ValidationError({"category": [_("Unknown category “%(code)s”.") % {"code": value}]})
        found, has_children = _category_from_row(row), row["has_children"]
    if not found.active:
        raise ValidationError({"category": [_("Category “%(name)s” is no longer in use.") % {"name": found.name}]})
    if has_children if has_children is not None else found.children.exists():
        raise ValidationError({"category": [_("Choose a specific subcategory of “%(name)s”.") % {"name": found.name}]})
    return found


def _resolve_grid(lon, lat) -> Area:
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationError({"location": [_("Give the location as longitude and latitude.")]}) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError({"location": [_("Give the location as longitude and latitude.")]})
    grid_id = grid_id_for_point(lon, lat)
    # The grid's row is kept with the grid index, which drops it when any grid changes.
    rows = grid_memo(("cases.grid", grid_id), lambda: _GRID_BY_PK.rows(pk=grid_id)) if grid_id else []
    grid = instance_from_row(Area, rows[0]) if rows else None
    if grid is None:
        raise ValidationError({"location": [_("This location (%(lon).5f, %(lat).5f) is outside every grid of the "
                                              "district. Move the marker inside the district.")
                                            % {"lon": lon, "lat": lat}]})
    return grid


def _replayed(scope: str, key: str) -> Case | None:
    """The case an earlier request with this idempotency key made, marked `replayed`; None if none did.
    (Looked up by primary key first: nearly every request is new, and that probe is the cheaper query.)"""
    rows = _CASE_BY_IDEMPOTENCY_KEY.rows(scope=scope, key=key)
    if not rows:
        return None
    case = Case.objects.select_related("category", "grid", "department").get(pk=rows[0]["pk"])
    case.replayed = True
    return case


def case_create(*, actor, channel: str, category, lon, lat, description: str, photos=(), idempotency_key: str = "",
                address: str = "", building=None, reporter_name: str = "", reporter_phone: str = "",
                handling_mode: str = "", resolve_on_spot: bool = False, comment: str = "", now=None) -> Case:
    """Record a case from any channel and return it (the first one again on a replayed idempotency key).

    actor None is allowed only on public channels (web, Open311), after the caller verified the phone.
    The grid comes from (lon, lat); cases from staff channels are accepted at once and, when a
    dispatch rule says so, dispatched at once. `resolve_on_spot` closes it immediately (自办自结)
    when the category allows it.
    """
    now = now or timezone.now()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Unknown channel.")]})
    if not authenticated and channel not in PUBLIC_CHANNELS:
        raise PermissionDenied
    scope = f"u{actor.pk}" if authenticated else personal.public_idempotency_scope(reporter_phone)
    key = (idempotency_key or "").strip()[:64]
    # Nearly every request is new, and the unique index on (scope, key) finds a replay anyway when the case
    # is inserted (IntegrityError below): the probe runs first only when the work before the insert is
    # costly (photos to re-encode); otherwise only when a check fails, since a replay returns the first
    # result even when the request would no longer pass (a category retired since, say).
    existing = _replayed(scope, key) if key and photos else None
    if existing is not None:
        return existing
    try:
        errors = {}
        description = (description or "").strip()
        if not description:
            errors["description"] = [_("Describe the problem.")]
        elif len(description) > 4000:
            errors["description"] = [_("The description is limited to 4000 characters.")]
        try:
            category = _resolve_category(category)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            grid = _resolve_grid(lon, lat)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            processed = process_photos(photos)
        except ValidationError as exc:
            errors["photos"] = exc.messages
        try:
            reporter_phone_columns = personal.reporter_phone_columns(reporter_phone)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        if authenticated and not covers(actor, ADD_CASE, grid.path):
            raise PermissionDenied(_("You may not report cases in %(area)s.") % {"area": grid.name})
        if resolve_on_spot and not category.on_the_spot:
            raise ValidationError({"resolve_on_spot": [_("“%(name)s” may not be resolved on the spot.")
                                                       % {"name": category.name}]})
        if building is not None and not isinstance(building, Building):
            building = Building.objects.filter(pk=building).first()
        if building is not None and building.grid_id != grid.pk:
            raise ValidationError({"building": [_("That building is not in the grid of the chosen location.")]})
        mode = category.mode(handling_mode)
    except (ValidationError, PermissionDenied):
        existing = _replayed(scope, key) if key else None
        if existing is not None:
            return existing
        raise
    case = Case(
        tracking_code=tracking_code_new(), channel=channel, category=category, handling_mode=mode.get("code", ""),
        grid=grid, area_path=grid.path, lon=float(lon), lat=float(lat),
        address=(address or (building.address if building else ""))[:200], building=building,
        description=description, created_by=actor if authenticated else None,
        reporter_name=(reporter_name or "").strip()[:50], **reporter_phone_columns,
        state=State.REPORTED, level=AreaLevel.COMMUNITY, created_at=now,
        idempotency_scope=scope if key else "", idempotency_key=key)
    _set_stage(case, now, workcal.add_limit(now, category.accept_limit_hours, "hours"))
    followers = [CaseFollower(case=case, user=actor)] if authenticated else []
    if case.reporter_phone_hash:
        followers.append(CaseFollower(case=case, **personal.sealed_phone(case, "reporter_phone")))
    outbox = _Outbox(case, followers, requester=actor)
    outbox.pending.append(_Pending(_record_step(case, action=Action.CREATE, from_state="", actor=actor, now=now,
                                                data={"channel": channel}), processed, actor,
                                   {"category": category.code, "channel": channel, "grid": grid.path}, ""))
    if channel in AUTO_ACCEPT_CHANNELS and authenticated and not resolve_on_spot:
        # Nobody else can see the case before it is written: the automatic acceptance (a system move)
        # needs neither a lock nor a version check, and is written together with the report.
        case = _move(case, TRANSITIONS[Action.ACCEPT], actor=None, system=True, now=now, outbox=outbox,
                     comment=_("Accepted automatically: recorded by staff."))
    try:
        with transaction.atomic():
            outbox.flush()
            if resolve_on_spot:  # the reporter's own move: checked like any other
                case = case_act(actor=actor, case=case, action=Action.RESOLVE_ON_SPOT, expected_version=case.version,
                                comment=comment or description, now=now)
    except IntegrityError:
        existing = _replayed(scope, key) if key else None
        if existing is None:
            raise
        return existing
    case.replayed = False
    return case


# -- workflow -----------------------------------------------------------------------------------------
def actor_can(actor, case: Case, capability: str, *, tracking_code: str = "") -> bool:
    """Whether the actor may make a move needing `capability` (see workflow.py) on this case."""
    if capability == "reporter":
        if tracking_code and hmac.compare_digest(tracking_code.upper(), case.tracking_code):
            return True
        return covers(actor, ADD_CASE, case.area_path) or actor_can(actor, case, "dispatch")
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser:
        return True
    if capability == "dispatch":
        return covers(actor, DISPATCH_CASE, case.area_path, LEVEL_PATH_LENGTH[min(case.level, 3)])
    if capability == "handle":
        return case.department_id is not None and case.department_id in handler_department_ids(actor)
    if capability == "verify":
        return covers(actor, VERIFY_CASE, case.area_path)
    if capability == "report":
        return covers(actor, ADD_CASE, case.area_path)
    return False


def allowed_actions(actor, case: Case) -> list[str]:
    """Moves this actor may make now (for buttons)."""
    return [a for a, t in TRANSITIONS.items() if case.state in t.sources and actor_can(actor, case, t.capability)
            and not (a == Action.RESOLVE_ON_SPOT and not case.category.on_the_spot)
            and not (a in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION) and not case.extension_days)
            and not (a == Action.ESCALATE and case.level <= 1) and not (a == Action.ASSIGN_DOWN and case.level >= 3)]


def _require(transition, values: dict) -> None:
    messages = {
        "comment": _("Add a comment explaining this step."),
        "responsible": _("Name who is responsible instead."),
        "department": _("Choose a department."),
        "reason_code": _("Choose a reason."),
        "days": _("Give the number of working days."),
        "mark": _("Choose a yellow or red mark."),
        "photos": _("Add at least one photo taken on site."),
        "rating": _("Choose a rating."),
        "merged_into": _("Choose the case this one duplicates."),
    }
    missing = {f: [messages[f]] for f in transition.required if not values.get(f)}
    if missing:
        raise ValidationError(missing)


def case_act(*, actor, case: Case, action: str, expected_version: int | None, comment: str = "",
             reason_code: str = "", department=None, mark: str = "", days=None, rating=None, merged_into=None,
             responsible: str = "", photos=(), tracking_code: str = "", external_id: str = "", now=None,
             system: bool = False) -> Case:
    """Make one move of the transition table on a case and return the updated case.

    Raises ValidationError (not allowed from this state, missing or bad fields), PermissionDenied
    (not this actor's move) or CaseConflict (the case changed since `expected_version`).
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationError({"action": [_("Unknown action “%(action)s”.") % {"action": action}]})
    now = now or timezone.now()
    comment = (comment or "").strip()
    processed = process_photos(photos) if photos else []
    if isinstance(department, (int, str)) and str(department).isdigit():
        department = Department.objects.filter(pk=int(department), active=True).first() or department
    _require(transition, {"comment": comment, "responsible": (responsible or "").strip(), "department": department,
                          "reason_code": reason_code, "days": days, "mark": mark, "photos": processed,
                          "rating": rating, "merged_into": merged_into})
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("category", "department").get(pk=case.pk)
        if expected_version is not None and locked.version != int(expected_version):
            raise CaseConflict(locked)
        if locked.state not in transition.sources:
            raise ValidationError({"action": [_("“%(action)s” is not allowed while the case is “%(state)s”.")
                                              % {"action": Action(action).label, "state": locked.get_state_display()}]})
        if not system and not actor_can(actor, locked, transition.capability, tracking_code=tracking_code):
            raise PermissionDenied(_("This step is not yours to take on this case."))
        outbox = _Outbox(locked, requester=None if system else actor)
        locked = _move(locked, transition, actor=actor, system=system, now=now, outbox=outbox, comment=comment,
                       reason_code=reason_code, department=department, mark=mark, days=days, rating=rating,
                       merged_into=merged_into, responsible=responsible, processed=processed,
                       external_id=external_id)
        outbox.flush()
    return locked


def _move(case: Case, transition, *, actor, system: bool, now, outbox: _Outbox, comment: str = "",
          reason_code: str = "", department=None, mark: str = "", days=None, rating=None, merged_into=None,
          responsible: str = "", processed=(), external_id: str = "") -> Case:
    """Make one checked move on a case no one else can change meanwhile (locked by case_act, or not yet
    inserted by case_create), in memory: effect, new version, step; `outbox.flush()` writes it all.
    Acceptance and reopening then apply the dispatch rule (an automatic dispatch is one more move)."""
    action = transition.action
    from_state = case.state
    old_deadline = case.deadline
    on_time = (now <= old_deadline) if (old_deadline and transition.target) else None
    data: dict = {}
    step_deadline = None
    if transition.target:
        case.state = transition.target
    effect = _EFFECTS.get(action)
    if effect:
        result = effect(case, now=now, comment=comment, reason_code=reason_code, department=department, mark=mark,
                        days=days, rating=rating, merged_into=merged_into, responsible=responsible, actor=actor)
        if result:
            data.update(result.get("data", {}))
            on_time = result.get("on_time", on_time)
            step_deadline = result.get("deadline")
    case.version += 1
    step = _record_step(case, action=action, from_state=from_state, actor=None if system else actor, now=now,
                        comment=comment, reason_code=reason_code, on_time=on_time,
                        rating=int(rating) if rating else None, data=data, public=transition.public,
                        external_id=external_id, deadline=step_deadline)
    outbox.pending.append(_Pending(step, list(processed), None if system else actor,
                                   {"state": [from_state, case.state], **({"data": data} if data else {})},
                                   comment[:300]))
    if action in (Action.ACCEPT, Action.REOPEN):
        rule = dispatch_rule_for(case.category, case.area_path)
        if rule and rule.auto and rule.department_id and rule.department.active:
            return _move(case, TRANSITIONS[Action.DISPATCH], actor=None, system=True, now=now, outbox=outbox,
                         department=rule.department, comment=_("Dispatched automatically by rule."))
        if rule and rule.level and rule.level < case.level:
            case.level = rule.level
    return case


# Effects: each adjusts the locked case for one action and may return step data / on_time / deadline.
def _fx_accept(case, *, now, **kw):
    _set_stage(case, now, workcal.add_limit(now, case.category.accept_limit_hours, "hours"))


def _fx_reject(case, *, now, responsible, **kw):
    _set_stage(case, now, None)
    case.closed_at = now
    return {"data": {"responsible": responsible.strip()[:200]}}


def _fx_dispatch(case, *, now, department, **kw):
    if not isinstance(department, Department) or not department.active:
        raise ValidationError({"department": [_("Choose an active department.")]})
    case.department = department
    mode = case.category.mode(case.handling_mode)
    case.due_at = workcal.add_limit(now, float(mode.get("limit", 5)), mode.get("unit", "days"))
    case.deferred = False
    case.extension_days = None
    _set_stage(case, now, workcal.add_limit(now, case.category.sign_limit_hours, "hours"))
    return {"data": {"department": department.name, "due_at": case.due_at.isoformat()}}


def _fx_sign_for(case, *, now, **kw):
    _set_stage(case, now, case.due_at)


def _fx_return(case, *, now, reason_code, department, **kw):
    if reason_code not in ReturnReason.values:
        raise ValidationError({"reason_code": [_("Choose a reason.")]})
    returned_by = case.department.name if case.department else ""
    case.department = None
    case.due_at = None
    _set_stage(case, now, workcal.add_limit(now, case.category.accept_limit_hours, "hours"))
    return {"data": {"returned_by": returned_by}}


def _fx_request_extension(case, *, days, **kw):
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 30:
        raise ValidationError({"days": [_("An extension is 1 to 30 working days.")]})
    if case.extension_days:
        raise ValidationError({"days": [_("An extension request is already waiting for a decision.")]})
    case.extension_days = days
    return {"data": {"days": days}}


def _fx_approve_extension(case, *, now, **kw):
    if not case.extension_days:
        raise ValidationError({"action": [_("There is no extension request to decide.")]})
    days = case.extension_days
    case.due_at = workcal.add_limit(max(case.due_at or now, now), days, "days")
    case.deferred = True
    case.extension_days = None
    _set_stage(case, now, case.due_at)
    if case.supervision == SupervisionMark.RED:
        case.supervision = SupervisionMark.NONE
    return {"data": {"days": days, "due_at": case.due_at.isoformat()}}


def _fx_deny_extension(case, **kw):
    if not case.extension_days:
        raise ValidationError({"action": [_("There is no extension request to decide.")]})
    days = case.extension_days
    case.extension_days = None
    return {"data": {"days": days}}


def _fx_escalate(case, *, comment, **kw):
    if case.level <= AreaLevel.DISTRICT:
        raise ValidationError({"action": [_("The case is already at the district level.")]})
    case.level -= 1
    return {"data": {"level": case.level}}


def _fx_assign_down(case, **kw):
    if case.level >= AreaLevel.COMMUNITY:
        raise ValidationError({"action": [_("The case is already at the community level.")]})
    case.level += 1
    return {"data": {"level": case.level}}


def _fx_supervise(case, *, mark, **kw):
    if mark not in (SupervisionMark.YELLOW, SupervisionMark.RED):
        raise ValidationError({"mark": [_("Choose a yellow or red mark.")]})
    case.supervision = mark
    return {"data": {"mark": mark}}


def _fx_report_back(case, *, now, **kw):
    on_time = case.due_at is None or now <= case.due_at
    _set_stage(case, now, workcal.add_limit(now, case.category.verify_limit_hours, "hours"))
    return {"on_time": on_time, "deadline": case.due_at}


def _fx_verify_pass(case, *, now, **kw):
    _set_stage(case, now, workcal.add_limit(now, case.category.verify_limit_hours, "hours"))


def _fx_verify_fail(case, *, now, **kw):
    deadline = case.due_at if case.due_at and case.due_at > now else workcal.add_limit(now, 1, "days")
    _set_stage(case, now, deadline)
    return {"data": {"rework": True}}


def _fx_close(case, *, now, **kw):
    last = case.steps.filter(action=Action.REPORT_BACK).order_by("-at", "-id").first()
    on_time = last is None or case.due_at is None or last.at <= case.due_at
    case.closed_at = now
    _set_stage(case, now, None)
    case.supervision = SupervisionMark.NONE
    return {"on_time": on_time, "deadline": case.due_at, "data": {"deferred": case.deferred}}


def _fx_rate(case, *, rating, **kw):
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if rating not in (1, 2, 3):
        raise ValidationError({"rating": [_("Choose satisfied, basically satisfied or dissatisfied.")]})
    if case.rating:
        raise ValidationError({"rating": [_("This case has already been rated.")]})
    case.rating = rating
    case.review_needed = rating == 1
    return {"data": {"rating": rating}}


def _fx_reopen(case, *, now, **kw):
    case.closed_at = None
    case.review_needed = True
    case.department = None
    case.rating = None
    _set_stage(case, now, workcal.add_limit(now, case.category.accept_limit_hours, "hours"))
    return {"data": {"rework": True}}


def _fx_merge(case, *, merged_into, actor, **kw):
    target = merged_into if isinstance(merged_into, Case) else Case.objects.filter(pk=merged_into).first()
    if target is None or target.pk == case.pk or not target.is_open:
        raise ValidationError({"merged_into": [_("Choose another case that is still open.")]})
    if not (actor is None or actor_can(actor, target, "dispatch") or covers(actor, DISPATCH_CASE, target.area_path)):
        raise ValidationError({"merged_into": [_("Choose another case that is still open.")]})
    case.merged_into = target
    case.closed_at = kw["now"]
    _set_stage(case, kw["now"], None)
    for follower in case.followers.all():
        if follower.user_id:
            CaseFollower.objects.get_or_create(case=target, user_id=follower.user_id)
        elif follower.phone_hash:
            personal.follower_add_phone(target, personal.sealed_phone(follower))
    CaseStep.objects.create(case=target, action=Action.NOTE, from_state=target.state, to_state=target.state,
                            actor=actor if _label(actor) != "system" else None, actor_label=_label(actor),
                            department=target.department, level=target.level, area_path=target.area_path,
                            at=kw["now"], comment=_("Duplicate %(code)s merged into this case.")
                            % {"code": case.tracking_code}, public=False, data={"merged": case.pk})
    Case.objects.filter(pk=target.pk).update(version=F("version") + 1)
    return {"data": {"merged_into": target.tracking_code}}


def _fx_terminal(case, *, now, **kw):
    case.closed_at = now
    _set_stage(case, now, None)


def _fx_resolve_on_spot(case, *, now, **kw):
    case.closed_at = now
    _set_stage(case, now, None)
    return {"on_time": True}


_EFFECTS = {
    Action.ACCEPT: _fx_accept, Action.REJECT: _fx_reject, Action.DISPATCH: _fx_dispatch,
    Action.SIGN_FOR: _fx_sign_for, Action.RETURN: _fx_return, Action.REQUEST_EXTENSION: _fx_request_extension,
    Action.APPROVE_EXTENSION: _fx_approve_extension, Action.DENY_EXTENSION: _fx_deny_extension,
    Action.ESCALATE: _fx_escalate, Action.ASSIGN_DOWN: _fx_assign_down, Action.SUPERVISE: _fx_supervise,
    Action.REPORT_BACK: _fx_report_back, Action.VERIFY_PASS: _fx_verify_pass, Action.VERIFY_FAIL: _fx_verify_fail,
    Action.CLOSE: _fx_close, Action.RATE: _fx_rate, Action.REOPEN: _fx_reopen, Action.MERGE: _fx_merge,
    Action.CANCEL: _fx_terminal, Action.RESOLVE_ON_SPOT: _fx_resolve_on_spot,
}


# -- named wrappers (the API other apps call) --------------------------------------------------------
def case_accept(*, actor, case, expected_version, comment=""):
    return case_act(actor=actor, case=case, action=Action.ACCEPT, expected_version=expected_version, comment=comment)


def case_dispatch(*, actor, case, expected_version, department, comment=""):
    return case_act(actor=actor, case=case, action=Action.DISPATCH, expected_version=expected_version,
                    department=department, comment=comment)


def case_sign_for(*, actor, case, expected_version, comment=""):
    return case_act(actor=actor, case=case, action=Action.SIGN_FOR, expected_version=expected_version, comment=comment)


def case_report_back(*, actor, case, expected_version, comment, photos=()):
    return case_act(actor=actor, case=case, action=Action.REPORT_BACK, expected_version=expected_version,
                    comment=comment, photos=photos)


def case_verify(*, actor, case, expected_version, passed: bool, photos, comment=""):
    """On-site verification by a grid worker: `passed` moves it to closure, else back to the handler."""
    return case_act(actor=actor, case=case, action=Action.VERIFY_PASS if passed else Action.VERIFY_FAIL,
                    expected_version=expected_version, photos=photos, comment=comment)


def case_close(*, actor, case, expected_version, comment=""):
    return case_act(actor=actor, case=case, action=Action.CLOSE, expected_version=expected_version, comment=comment)


def case_rate(*, actor, case, rating: int, tracking_code: str = "", comment=""):
    return case_act(actor=actor, case=case, action=Action.RATE, expected_version=None, rating=rating,
                    tracking_code=tracking_code, comment=comment)


# -- bulk and periodic -----------------------------------------------------------------------------
def case_bulk_act(*, actor, cases, action: str, **fields) -> tuple[int, list[str]]:
    """Apply one move to several cases, each in its own transaction; returns (done, error messages)."""
    done, errors = 0, []
    for case in cases:
        try:
            case_act(actor=actor, case=case, action=action, expected_version=None, **fields)
            done += 1
        except (ValidationError, PermissionDenied, CaseConflict) as exc:
            text = "; ".join(getattr(exc, "messages", [str(exc)])) if isinstance(exc, ValidationError) else str(exc)
            errors.append(f"{case.tracking_code}: {text or _('not allowed')}")
    return done, errors


def case_deadline_sweep(*, now=None, limit: int = 1000) -> dict:
    """Yellow-mark cases in their warning window; mark overdue cases red and escalate them one level.

    Runs every few minutes (Celery beat / in-process runner). Each case is handled in its own
    transaction through case_act, so a concurrent human move simply wins or conflicts.
    """
    now = now or timezone.now()
    open_states = [s.value for s in OPEN_STATES]
    warned = escalated = 0
    for case in Case.objects.filter(state__in=open_states, warn_at__lte=now, deadline__gt=now,
                                    supervision="").order_by("warn_at")[:limit]:
        try:
            case_act(actor=None, case=case, action=Action.SUPERVISE, expected_version=case.version, now=now,
                     mark=SupervisionMark.YELLOW, system=True, comment=_("Deadline approaching."))
            warned += 1
        except (CaseConflict, ValidationError):
            continue
    for case in Case.objects.filter(state__in=open_states, deadline__lte=now, overdue=False).order_by("deadline")[:limit]:
        try:
            with transaction.atomic():
                current = case
                if current.level > AreaLevel.DISTRICT and current.state in TRANSITIONS[Action.ESCALATE].sources:
                    current = case_act(actor=None, case=current, action=Action.ESCALATE,
                                       expected_version=current.version, now=now, system=True,
                                       comment=_("Overdue: escalated automatically."))
                    escalated += 1
                current = case_act(actor=None, case=current, action=Action.SUPERVISE, expected_version=current.version,
                                   now=now, mark=SupervisionMark.RED, system=True, comment=_("Overdue."))
                Case.objects.filter(pk=current.pk).update(overdue=True)
        except (CaseConflict, ValidationError):
            continue
    return {"warned": warned, "escalated": escalated}
