"""Who is told of a step: followers of public steps and the people who act next, never the person whose
own request made the step (they see its outcome on screen)."""

import pytest

from yiwang.cases.models import Channel
from yiwang.cases.services import case_act, case_create
from yiwang.cases.workflow import Action
from yiwang.notifications.models import Notification

from .factories import BIN_LAT, BIN_LON

pytestmark = pytest.mark.django_db


def _told(case) -> dict[int, set[str]]:
    told: dict[int, set[str]] = {}
    for user_id, kind in Notification.objects.filter(link=f"/cases/{case.pk}/").values_list("user_id", "kind"):
        told.setdefault(user_id, set()).add(kind)
    return told


def test_a_report_tells_the_centre_and_the_handlers_but_not_the_reporter(world, cats):
    p = world.people
    case = case_create(actor=p.grid_worker, channel=Channel.GRID_WORKER, category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾桶满溢")
    assert case.state == "dispatched"  # created, accepted and dispatched by rule in the reporter's request
    told = _told(case)
    assert p.grid_worker.pk not in told  # follower of all three public steps, but they were the reporter's own
    assert "cases.create" in told[p.dispatcher_comm.pk]  # the community's centre hears of a new case
    assert "cases.dispatch" in told[p.handler.pk]  # the department that must act
    # A later step by someone else is told to the reporter, who follows the case.
    case = case_act(actor=p.handler, case=case, action=Action.SIGN_FOR, expected_version=case.version)
    assert _told(case)[p.grid_worker.pk] == {"cases.public_step"}
    assert "cases.sign_for" not in _told(case).get(p.handler.pk, set())  # the handler's own step


def test_a_dispatcher_reporting_at_the_counter_is_not_told_of_their_own_case(world, cats):
    p = world.people
    case = case_create(actor=p.dispatcher_comm, channel=Channel.COUNTER, category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="居民来访反映垃圾桶满溢", reporter_name="王五",
                       reporter_phone="13900001111")
    told = _told(case)
    assert p.dispatcher_comm.pk not in told
    assert p.handler.pk in told
