"""Benchmark suites, one module per feature, imported in dependency order (the data of later suites
builds on the earlier ones); importing them registers their benchmarks."""

from . import foundation, registry, cases, fieldwork, dashboards  # noqa: F401, I001
