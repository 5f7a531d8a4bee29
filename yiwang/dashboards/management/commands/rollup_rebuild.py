"""Rebuild dashboard rollups from the raw case steps.

    manage.py rollup_rebuild                 # every day that has steps, and all open counts
    manage.py rollup_rebuild 2026-09         # one month
    manage.py rollup_rebuild 2026-09-01 2026-09-30
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from yiwang.dashboards.rollups import rollup_rebuild, step_day_range


def _parse(value: str, *, end: bool = False) -> dt.date:
    try:
        if len(value) == 7:
            first = dt.date.fromisoformat(value + "-01")
            if not end:
                return first
            return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date or month: {value!r} (use YYYY-MM or YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Rebuild dashboard rollups for a period (default: every day with case steps)."

    def add_arguments(self, parser):
        parser.add_argument("start", nargs="?")
        parser.add_argument("end", nargs="?")

    def handle(self, *args, start=None, end=None, **options):
        if start is None:
            span = step_day_range()
            if span is None:
                self.stdout.write("no case steps; nothing to roll up")
                rollup_rebuild(dt.date.today(), dt.date.today() - dt.timedelta(days=1))
                return
            first, last = span
        else:
            first = _parse(start)
            last = _parse(end or start, end=True)
        if last < first:
            raise CommandError("the end comes before the start")
        result = rollup_rebuild(first, last)
        self.stdout.write(f"rebuilt {result['days']} days ({result['rows']} rows), {first} .. {last}")
