"""The rollup drain as production runs it (Celery beat starts `dashboards.rollup_drain` every
YIWANG_ROLLUP_DRAIN_SECONDS on a worker), in a process of its own beside the benchmark's gunicorn, so
its CPU is spent on the same two cores as the requests it follows:
`python -m benchmarks.drainer` (stops on SIGTERM after finishing the drain under way)."""

import os
import signal
import sys
import threading
import time


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import close_old_connections

    from yiwang.dashboards.rollups import rollup_drain

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    interval = settings.YIWANG_ROLLUP_DRAIN_SECONDS
    keys = drains = 0
    while not stop.wait(interval):
        started = time.monotonic()
        keys += rollup_drain()
        drains += 1
        close_old_connections()
        if time.monotonic() - started > interval:
            print(f"drainer: a drain took {time.monotonic() - started:.1f} s", file=sys.stderr)
    keys += rollup_drain()  # what was queued since the last drain, as beat's next run would take it
    print(f"drainer: {drains} drains, {keys} (grid, day) keys refreshed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
