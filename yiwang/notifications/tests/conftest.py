from types import SimpleNamespace

import pytest

from .factories import RecordingEmail, RecordingSMS


@pytest.fixture
def recording(settings):
    """SMS and email go to recording backends (reset before and after the test)."""
    settings.YIWANG_NOTIFY_BACKENDS = {"sms": "yiwang.notifications.tests.factories.RecordingSMS",
                                       "email": "yiwang.notifications.tests.factories.RecordingEmail"}
    for backend in (RecordingSMS, RecordingEmail):
        backend.sent, backend.fail = [], False
    yield SimpleNamespace(sms=RecordingSMS, email=RecordingEmail)
    for backend in (RecordingSMS, RecordingEmail):
        backend.sent, backend.fail = [], False
