from unittest import mock

import pytest
from django.db import transaction

from yiwang.core.tasks import enqueue_on_commit


@pytest.mark.django_db(transaction=True)
def test_enqueued_task_runs_only_after_commit_and_never_after_rollback():
    task = mock.Mock()
    with transaction.atomic():
        enqueue_on_commit(task, 42)
        task.apply_async.assert_not_called()
    task.apply_async.assert_called_once_with(args=(42,), kwargs={})

    task.reset_mock()
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(task, 43)
        raise RuntimeError
    task.apply_async.assert_not_called()
