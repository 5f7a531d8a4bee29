"""The queue's filter form and bulk-action fields are kept rendered per process (core.fragments) under a
key of what they show: a change shows on the next request, and each request's choices are its own."""

import re

from django.urls import reverse

from yiwang.accounts.models import Department
from yiwang.accounts.tests.factories import DepartmentFactory

QUEUE = reverse("cases:queue")


def _bulk_departments(page: str) -> list[str]:
    select = re.search(r'<select name="department"><option value="">—</option>(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option [^>]*>([^<]*)</option>", select)


def _selected(page: str, name: str) -> list[str]:
    form = re.search(r'<form method="get" class="filters">.*?</form>', page, re.S).group(0)
    select = re.search(rf'<select name="{name}">(.*?)</select>', form, re.S).group(1)
    return re.findall(r'<option value="([^"]*)" selected>', select)


def test_filter_form_shows_each_requests_choices(world, cats, client_for):
    client = client_for(world.people.dispatcher_district)
    assert _selected(client.get(QUEUE + "?channel=hotline").content.decode(), "channel") == ["hotline"]
    assert _selected(client.get(QUEUE + "?channel=app").content.decode(), "channel") == ["app"]
    page = client.get(QUEUE + "?state=reported&state=dispatched").content.decode()
    assert _selected(page, "state") == ["reported", "dispatched"] and _selected(page, "channel") == [""]
    page = client.get(QUEUE + "?code=AB%22%3Cx").content.decode()
    assert 'name="code" value="AB&quot;&lt;x"' in page
    assert _selected(client.get(QUEUE).content.decode(), "state") == []  # "all open" is the first option
    english = client.get(QUEUE + "?channel=hotline", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Filter" in english and _selected(english, "channel") == ["hotline"]
    # The filter form's class is built once per process: its labels still follow each request's language.
    assert "<label>Channel<select" in english
    chinese = client.get(QUEUE + "?channel=app", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<label>Channel<select" not in chinese and _selected(chinese, "channel") == ["app"]


def test_filter_form_class_is_built_once_and_validates_each_request():
    from django.http import QueryDict

    from yiwang.cases.filtersets import CaseFilterSet
    from yiwang.cases.models import Case

    first = CaseFilterSet(QueryDict("channel=hotline"), queryset=Case.objects.none())
    second = CaseFilterSet(QueryDict("channel=nonsense&level=x"), queryset=Case.objects.none())
    assert type(first.form) is type(second.form)
    assert first.is_valid() and first.form.cleaned_data["channel"] == "hotline"
    assert not second.is_valid() and set(second.errors) == {"channel", "level"}


def test_bulk_departments_follow_the_database_on_the_next_request(world, cats, client_for):
    client = client_for(world.people.dispatcher_district)
    before = _bulk_departments(client.get(QUEUE).content.decode())
    assert world.people.department.name in before
    added = DepartmentFactory(name="新设水务局", area=world.tree.district)
    assert "新设水务局" in _bulk_departments(client.get(QUEUE).content.decode())
    Department.objects.filter(pk=added.pk).update(name="改名水务局")
    names = _bulk_departments(client.get(QUEUE).content.decode())
    assert "改名水务局" in names and "新设水务局" not in names
    Department.objects.filter(pk=added.pk).update(active=False)
    assert "改名水务局" not in _bulk_departments(client.get(QUEUE).content.decode())
    # A community dispatcher is offered only the departments serving their area, not a sibling's.
    DepartmentFactory(name="乙社区服务站", area=world.tree.comm_b)
    assert "乙社区服务站" in _bulk_departments(client.get(QUEUE).content.decode())
    own = client_for(world.people.dispatcher_comm)
    assert "乙社区服务站" not in _bulk_departments(own.get(QUEUE).content.decode())
