from types import SimpleNamespace

import pytest

from .factories import build_categories


@pytest.fixture
def cats(world):
    return SimpleNamespace(**build_categories(world.people.department))


@pytest.fixture
def sms(settings, django_capture_on_commit_callbacks):
    """SMS goes to a RecordingSMS; `sms.code_for(phone, send)` runs `send` with its commit callbacks and
    returns the 6-digit code the backend received for that phone."""
    import re

    from yiwang.notifications.tests.factories import RecordingSMS

    settings.YIWANG_NOTIFY_BACKENDS = {"sms": "yiwang.notifications.tests.factories.RecordingSMS"}
    RecordingSMS.sent = []
    RecordingSMS.fail = False

    def code_for(phone: str, send) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            send()
        [title] = [title for title, _body, to in RecordingSMS.sent if to == phone][-1:]
        return re.search(r"\b(\d{6})\b", title).group(1)

    yield SimpleNamespace(backend=RecordingSMS, code_for=code_for)
    RecordingSMS.sent = []
    RecordingSMS.fail = False
