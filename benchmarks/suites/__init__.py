"""Benchmark suites, one module per feature; importing them registers their benchmarks."""

from . import cases, dashboards, fieldwork, foundation, registry  # noqa: F401
