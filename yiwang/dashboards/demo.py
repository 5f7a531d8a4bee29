"""Demo data: the dashboards own no source data; they roll up whatever cases the demo created
(the cases demo runs earlier, in INSTALLED_APPS order, and may bulk_create its steps)."""


def generate(ctx) -> None:
    from .rollups import rollup_rebuild, step_day_range

    span = step_day_range()
    if span is not None:
        rollup_rebuild(*span)
