"""Scores and grades. Weights and grade bands are configuration (settings.YIWANG_DASHBOARD_GRADING
overrides any key of DEFAULT_GRADING), not code.

A score is the weighted mean of the rates that exist (a rate with no denominator is left out and the
remaining weights are renormalised); "inverse" rates (rework, lateness) count as 100 - rate.
"""

from django.conf import settings

DEFAULT_GRADING = {
    # Beijing 接诉即办 三率: 响应率 10%, 解决率 50%, 满意率 40% (reference §2.1, unofficial weights).
    "area": {"response_rate": 10, "resolution_rate": 50, "satisfaction_rate": 40},
    # Departments: on-time handling and closure, less rework (reference §1.8, 部门评价).
    "department": {"on_time_closure_rate": 40, "resolution_rate": 30, "rework_rate:inverse": 30},
    # Grid workers: verifications on time, and reports (capped at `worker_report_target` per period).
    "worker": {"verification_on_time_rate": 60, "report_score": 40},
    "worker_report_target": 20,
    # Grade bands, highest first: A >= 90, B >= 75, C >= 60, D >= 40, else E.
    "bands": [["A", 90], ["B", 75], ["C", 60], ["D", 40]],
    "lowest": "E",
}


def grading() -> dict:
    config = {**DEFAULT_GRADING, **getattr(settings, "YIWANG_DASHBOARD_GRADING", {})}
    return config


def score(rates: dict, kind: str) -> float | None:
    weights = grading()[kind]
    total = weight_sum = 0.0
    for key, weight in weights.items():
        name, _, mode = key.partition(":")
        value = rates.get(name)
        if value is None:
            continue
        total += (100 - value if mode == "inverse" else value) * weight
        weight_sum += weight
    return round(total / weight_sum, 1) if weight_sum else None


def grade(value: float | None) -> str:
    if value is None:
        return "—"
    config = grading()
    for letter, floor in config["bands"]:
        if value >= floor:
            return letter
    return config["lowest"]
