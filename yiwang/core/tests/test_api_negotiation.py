"""RememberedNegotiation answers exactly as DRF's DefaultContentNegotiation, remembering only what is safe."""

import pytest
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import (
    BrowsableAPIRenderer,
    JSONRenderer,
    StaticHTMLRenderer,
    TemplateHTMLRenderer,
)
from rest_framework.request import Request

from yiwang.core.negotiation import RememberedNegotiation

ACCEPTS = [None, "", "*/*", "application/json", "application/json; indent=4", "text/html", "text/html, */*;q=0.1",
           "application/json, text/plain, */*", "text/*", "application/*;q=0.5, text/html",
           "text/html;q=0.2, application/json;q=0.9", "image/png", "application/xml", "nonsense", ",,,", "*/*; q=0",
           "application/json;indent=2, */*", "x" * 300 + ", application/json"]
QUERIES = ["", "format=json", "format=api", "format=xml", "page=2"]
RENDERER_SETS = [(JSONRenderer, BrowsableAPIRenderer), (BrowsableAPIRenderer, JSONRenderer), (JSONRenderer,),
                 (TemplateHTMLRenderer, StaticHTMLRenderer, JSONRenderer)]


@pytest.fixture(autouse=True)
def forget():
    RememberedNegotiation._remembered = {}
    yield
    RememberedNegotiation._remembered = {}


def outcome(negotiator, accept, query, renderer_classes, suffix):
    renderers = [cls() for cls in renderer_classes]
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get("/api/v1/cases/" + (f"?{query}" if query else ""), **headers))
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers, suffix)
    except (exceptions.NotAcceptable, Http404) as exc:
        return type(exc).__name__
    return renderers.index(renderer), type(renderer), media_type


def test_answers_as_drfs_default_every_time():
    default, remembered = DefaultContentNegotiation(), RememberedNegotiation()
    answers = set()
    for _ in range(3):  # first from DRF, then from memory
        for renderer_classes in RENDERER_SETS:
            for accept in ACCEPTS:
                for query in QUERIES:
                    for suffix in (None, "json", "api"):
                        expected = outcome(default, accept, query, renderer_classes, suffix)
                        assert outcome(remembered, accept, query, renderer_classes, suffix) == expected, (
                            renderer_classes, accept, query, suffix)
                        answers.add(expected if isinstance(expected, str) else expected[1:])
    # The cases are varied: several renderers and media types chosen, and both errors met.
    assert {"NotAcceptable", "Http404"} <= answers and len(answers) >= 8
    assert 0 < len(RememberedNegotiation._remembered) <= RememberedNegotiation.MAX_REMEMBERED


def test_remembers_only_plain_requests_and_never_errors():
    negotiator = RememberedNegotiation()
    outcome(negotiator, "application/json", "", (JSONRenderer, BrowsableAPIRenderer), None)
    outcome(negotiator, "text/html", "format=json", (JSONRenderer, BrowsableAPIRenderer), None)
    outcome(negotiator, "text/html", "", (JSONRenderer, BrowsableAPIRenderer), "json")
    outcome(negotiator, "image/png", "", (JSONRenderer, BrowsableAPIRenderer), None)
    outcome(negotiator, "y" * 300, "", (JSONRenderer, BrowsableAPIRenderer), None)
    assert [key[0] for key in RememberedNegotiation._remembered] == ["application/json"]


def test_memory_is_bounded():
    negotiator = RememberedNegotiation()
    for i in range(RememberedNegotiation.MAX_REMEMBERED * 2):
        assert outcome(negotiator, f"application/json; v={i}", "", (JSONRenderer,), None)[2] == \
            f"application/json; v={i}"
    assert len(RememberedNegotiation._remembered) == RememberedNegotiation.MAX_REMEMBERED


def test_the_remembered_renderer_is_this_requests_own():
    negotiator = RememberedNegotiation()
    first = [JSONRenderer(), BrowsableAPIRenderer()]
    second = [JSONRenderer(), BrowsableAPIRenderer()]
    request = Request(RequestFactory().get("/", HTTP_ACCEPT="text/html"))
    assert negotiator.select_renderer(request, first)[0] is first[1]
    assert negotiator.select_renderer(request, second)[0] is second[1]


def test_case_api_uses_it(world, api_for):
    from yiwang.cases.api.views import CaseViewSet

    assert CaseViewSet.content_negotiation_class is RememberedNegotiation
    api = api_for(world.people.grid_worker)
    assert api.get("/api/v1/cases/", HTTP_ACCEPT="application/json")["Content-Type"] == "application/json"
    assert api.get("/api/v1/cases/", HTTP_ACCEPT="text/html")["Content-Type"].startswith("text/html")
    assert api.get("/api/v1/cases/", HTTP_ACCEPT="image/png").status_code == 406


def test_a_fresh_process_can_load_the_api_settings():
    """DRF imports its default classes while rest_framework.views is being imported: a default class in a
    module that imports rest_framework.views fails in a fresh process (`manage.py check`), whatever the
    test process had imported first."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
