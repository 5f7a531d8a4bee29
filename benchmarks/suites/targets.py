"""Targets named in the feature issues (issue 3 registry, 4 cases, 5 fieldwork, 6 dashboards)."""

from ..core import Target

IMPORT_RATE = Target("figure", ">=", 2000, ">= 2,000 rows/s")
IMPORT_RSS = Target("figure", "<=", 300, "<= 300 MB at 100k rows")
SEARCH_P95_1 = Target("figure", "<=", 30, "p95 <= 30 ms")
SEARCH_P95_8 = Target("figure", "<=", 100, "p95 <= 100 ms")
INTAKE_RATIO = Target("ratio", ">=", 0.10, "ratio >= 0.10")
INTAKE_P95 = Target("figure", "<=", 100, "p95 <= 100 ms")
QUEUE_P95 = Target("figure", "<=", 150, "p95 <= 150 ms")
SYNC_BATCH = Target("figure", "<=", 2.0, "<= 2 s")
FIRST_LOAD = Target("figure", "<=", 500, "<= 500 KB")
DASHBOARD_P95 = Target("figure", "<=", 100, "p95 <= 100 ms")
MONTHLY_PDF = Target("figure", "<=", 10, "<= 10 s")
