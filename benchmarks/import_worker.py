"""Runs one Excel import (or the openpyxl baseline parse) in its own process, so its peak RSS is its
own: `python -m benchmarks.import_worker import|parse <file.xlsx> [username]` prints JSON."""

import json
import os
import resource
import sys
import time


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM belongs to the address space, so unlike ru_maxrss it does not
    carry the parent's size across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    action, path = sys.argv[1], sys.argv[2]
    if action == "parse":
        from openpyxl import load_workbook

        started = time.perf_counter()
        workbook = load_workbook(path, read_only=True, data_only=False)
        rows = 0
        for values in workbook.active.iter_rows(values_only=True):
            rows += 1 if any(v is not None for v in values) else 0
        workbook.close()
        seconds = time.perf_counter() - started
        result = {"rows": rows - 1, "seconds": seconds}
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
        import django

        django.setup()
        from yiwang.accounts.models import User
        from yiwang.registry.excel import import_residents_from_path

        actor = User.objects.get(username=sys.argv[3])
        started = time.perf_counter()
        outcome = import_residents_from_path(path, actor=actor, duplicate_mode="skip")
        seconds = time.perf_counter() - started
        result = {"seconds": seconds, **{k: getattr(outcome, k) for k in ("created", "updated", "skipped", "invalid")
                                         if hasattr(outcome, k)}}
    result["peak_rss_mb"] = peak_rss_mb()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
