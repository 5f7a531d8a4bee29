"""The case workflow: ONE transition table (state x action -> new state, who, required fields).

Everything that moves a case goes through `services.case_act`, which looks the move up here. Adding
a move means adding a row; pages, the API, the queue's action buttons and the docs read this table.

Who may act is expressed as a *capability*, checked in services.actor_can():
  "dispatch"  a centre dispatcher (or admin) whose area covers the case at the case's current level
  "handle"    a handler of the department the case is dispatched to
  "verify"    a grid worker / staff / dispatcher whose area covers the case
  "report"    whoever may create cases covering the case (grid worker resolving on the spot, staff)
  "reporter"  the resident who filed it (through the tracking code) or staff on their behalf
"""

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    REPORTED = "reported", _("Awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted, awaiting dispatch")
    DISPATCHED = "dispatched", _("Dispatched, awaiting sign-for")
    IN_PROGRESS = "in_progress", _("Being handled")
    TO_VERIFY = "to_verify", _("Awaiting on-site verification")
    VERIFIED = "verified", _("Verified, awaiting closure")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Not accepted")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged as duplicate")


OPEN_STATES = (State.REPORTED, State.ACCEPTED, State.DISPATCHED, State.IN_PROGRESS, State.TO_VERIFY, State.VERIFIED)
FINAL_STATES = (State.CLOSED, State.REJECTED, State.CANCELLED, State.MERGED)


class Action(models.TextChoices):
    CREATE = "create", _("Reported")
    ACCEPT = "accept", _("Accept")
    REJECT = "reject", _("Reject")
    DISPATCH = "dispatch", _("Dispatch")
    SIGN_FOR = "sign_for", _("Sign for")
    RETURN = "return", _("Return")
    REQUEST_EXTENSION = "request_extension", _("Request extension")
    APPROVE_EXTENSION = "approve_extension", _("Approve extension")
    DENY_EXTENSION = "deny_extension", _("Deny extension")
    ESCALATE = "escalate", _("Escalate")
    ASSIGN_DOWN = "assign_down", _("Assign down")
    SUPERVISE = "supervise", _("Supervise")
    HANDLE = "handle", _("Record progress")
    REPORT_BACK = "report_back", _("Report back")
    VERIFY_PASS = "verify_pass", _("Verified: fixed")
    VERIFY_FAIL = "verify_fail", _("Verified: not fixed")
    CLOSE = "close", _("Close")
    RATE = "rate", _("Rate")
    REOPEN = "reopen", _("Reopen")
    MERGE = "merge", _("Merge into another case")
    CANCEL = "cancel", _("Cancel")
    RESOLVE_ON_SPOT = "resolve_on_spot", _("Resolved on the spot")
    NOTE = "note", _("Note")


class ReturnReason(models.TextChoices):
    NOT_OURS = "not_ours", _("Not our responsibility")
    WRONG_CATEGORY = "wrong_category", _("Wrong category")
    WRONG_LOCATION = "wrong_location", _("Wrong or unclear location")
    NEEDS_MORE_INFO = "needs_info", _("Information missing")
    OTHER = "other", _("Other")


class SupervisionMark(models.TextChoices):
    NONE = "", _("None")
    YELLOW = "yellow", _("Yellow card")
    RED = "red", _("Red card")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple
    target: str | None  # None: the state does not change
    capability: str
    required: tuple = field(default_factory=tuple)  # form fields that must be present
    public: bool = True  # shown on the public tracking page / notified to the reporter


_ALL_OPEN = OPEN_STATES

TRANSITIONS: dict[str, Transition] = {t.action: t for t in [
    Transition(Action.ACCEPT, (State.REPORTED,), State.ACCEPTED, "dispatch"),
    Transition(Action.REJECT, (State.REPORTED,), State.REJECTED, "dispatch", ("comment", "responsible")),
    Transition(Action.DISPATCH, (State.ACCEPTED,), State.DISPATCHED, "dispatch", ("department",)),
    Transition(Action.SIGN_FOR, (State.DISPATCHED,), State.IN_PROGRESS, "handle"),
    Transition(Action.RETURN, (State.DISPATCHED, State.IN_PROGRESS), State.ACCEPTED, "handle",
               ("reason_code", "comment"), public=False),
    Transition(Action.REQUEST_EXTENSION, (State.IN_PROGRESS,), None, "handle", ("days", "comment"), public=False),
    Transition(Action.APPROVE_EXTENSION, (State.IN_PROGRESS,), None, "dispatch", (), public=False),
    Transition(Action.DENY_EXTENSION, (State.IN_PROGRESS,), None, "dispatch", ("comment",), public=False),
    # Any open case may go up a level (DOMAIN.md: every overdue open case escalates automatically), also
    # while it waits for on-site verification or for closure.
    Transition(Action.ESCALATE, _ALL_OPEN, None, "dispatch", ("comment",), public=False),
    Transition(Action.ASSIGN_DOWN, (State.ACCEPTED,), None, "dispatch", ("comment",), public=False),
    Transition(Action.SUPERVISE, _ALL_OPEN, None, "dispatch", ("mark",), public=False),
    Transition(Action.HANDLE, (State.IN_PROGRESS,), None, "handle", ("comment",)),
    Transition(Action.REPORT_BACK, (State.IN_PROGRESS,), State.TO_VERIFY, "handle", ("comment",)),
    Transition(Action.VERIFY_PASS, (State.TO_VERIFY,), State.VERIFIED, "verify", ("photos",)),
    Transition(Action.VERIFY_FAIL, (State.TO_VERIFY,), State.IN_PROGRESS, "verify", ("photos", "comment")),
    Transition(Action.CLOSE, (State.VERIFIED,), State.CLOSED, "dispatch"),
    Transition(Action.RATE, (State.CLOSED,), None, "reporter", ("rating",)),
    Transition(Action.REOPEN, (State.CLOSED,), State.ACCEPTED, "reporter", ("comment",)),
    Transition(Action.MERGE, (State.REPORTED, State.ACCEPTED), State.MERGED, "dispatch", ("merged_into",)),
    Transition(Action.CANCEL, (State.REPORTED, State.ACCEPTED), State.CANCELLED, "dispatch", ("comment",)),
    Transition(Action.RESOLVE_ON_SPOT, (State.REPORTED,), State.CLOSED, "report", ("comment",)),
    Transition(Action.NOTE, _ALL_OPEN + (State.CLOSED,), None, "dispatch", ("comment",), public=False),
]}

# Actions offered as buttons on a case page (everything in the table except bookkeeping ones).
BUTTON_ACTIONS = [a for a in TRANSITIONS if a not in (Action.RATE, Action.NOTE)]


def transition_for(action: str) -> Transition | None:
    return TRANSITIONS.get(action)


def allowed_from(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


# Levels: where the case sits in the governance ladder (geography.AreaLevel values).
LEVEL_PATH_LENGTH = {1: 6, 2: 9, 3: 12, 4: 15}
