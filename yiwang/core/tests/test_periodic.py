from unittest import mock

from django.test import override_settings

from yiwang.core.periodic import register_periodic, run_due


def test_run_due_runs_each_task_on_its_interval_and_survives_failures(settings):
    settings.CELERY_BEAT_SCHEDULE = {}
    calls = []
    ok_task = mock.Mock(apply=lambda: calls.append("ok"))
    bad_task = mock.Mock(apply=mock.Mock(side_effect=RuntimeError("boom")))
    with mock.patch("yiwang.core.periodic.import_string",
                    side_effect=lambda path: {"ok": ok_task, "bad": bad_task}[path]), \
            mock.patch("yiwang.core.periodic.close_old_connections"):
        register_periodic("bad", "bad", seconds=10)
        register_periodic("ok", "ok", seconds=60)
        last: dict[str, float] = {}
        assert run_due(last, 1000.0) == ["ok"]  # bad failed but did not stop ok
        assert run_due(last, 1030.0) == []  # ok not due yet; bad not due until 1010 -> due at 1030
        assert bad_task.apply.call_count == 2
        assert run_due(last, 1061.0) == ["ok"]
    assert calls == ["ok", "ok"]


@override_settings()
def test_core_registers_the_heartbeat_for_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["core.heartbeat"]["task"] == "yiwang.core.tasks.heartbeat"
