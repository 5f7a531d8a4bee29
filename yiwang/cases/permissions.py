"""Permission strings of the cases app and who holds them (granted in apps.py)."""

VIEW_CASE = "cases.view_case"
ADD_CASE = "cases.add_case"
DISPATCH_CASE = "cases.dispatch_case"
VERIFY_CASE = "cases.verify_case"
VIEW_INDICATORS = "cases.view_indicators"
HANDLE_CASE = "cases.handle_case"  # menu only; what handlers see comes from their department
# See a reporter's full name and phone, with a reason (audited). Handlers: only for cases with their
# department (personal.may_reveal_reporter); the others: in their area.
REVEAL_REPORTER = "cases.reveal_reporter"


def handler_department_ids(actor) -> set[int]:
    """Departments the actor handles for (handler memberships)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return set()
    return {m.department_id for m in actor.active_memberships() if m.role == "handler" and m.department_id}


def covers(actor, perm: str, area_path: str, max_len: int | None = None) -> bool:
    """Whether the actor holds `perm` on an area containing `area_path` (no lower than `max_len`)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    paths = actor.scope_paths(perm)
    if paths is None:
        return True
    return any(area_path.startswith(p) and (max_len is None or len(p) <= max_len) for p in paths)


def may_see_cases(actor) -> bool:
    return bool(actor and actor.is_authenticated and (actor.has_perm_anywhere(VIEW_CASE)
                                                      or handler_department_ids(actor)))
