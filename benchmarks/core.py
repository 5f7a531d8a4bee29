"""The harness's vocabulary: benchmarks declare what feature they need, what they measure and their
target; each run yields result rows with a figure, a baseline measured in the same run, a ratio and a
verdict. Nothing here knows a feature app."""

import importlib
import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


class Pending(Exception):
    """The feature a benchmark needs has not landed (or cannot run in this mode); the reason is shown."""


@dataclass
class Target:
    """`figure <= 100` or `ratio >= 0.10`: what the issue asks for."""

    metric: str  # "figure" or "ratio"
    op: str  # "<=" or ">="
    value: float
    text: str = ""

    def met(self, figure: float | None, ratio: float | None) -> bool | None:
        value = figure if self.metric == "figure" else ratio
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return value <= self.value if self.op == "<=" else value >= self.value

    def describe(self) -> str:
        return self.text or f"{'ratio' if self.metric == 'ratio' else ''} {self.op} {self.value:g}".strip()


@dataclass
class Row:
    """One line of the table."""

    name: str
    figure: float | None = None
    unit: str = ""
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    verdict: str = "pending"
    size: str = ""
    note: str = ""
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def row(name: str, figure: float | None, unit: str, *, baseline: float | None = None, baseline_name: str = "",
        target: Target | None = None, size: str = "", note: str = "", details: dict | None = None,
        ratio: float | None = None) -> Row:
    """A measured row: the ratio is figure / baseline unless given; the verdict follows the target."""
    if ratio is None and figure is not None and baseline:
        ratio = figure / baseline
    verdict = "info"
    if target is not None:
        met = target.met(figure, ratio)
        verdict = "error" if met is None else ("pass" if met else "fail")
    return Row(name=name, figure=figure, unit=unit, baseline=baseline, baseline_name=baseline_name, ratio=ratio,
               target=target.describe() if target else "", verdict=verdict, size=size, note=note,
               details=details or {})


def pending_row(name: str, reason: str, *, unit: str = "", target: Target | None = None) -> Row:
    return Row(name=name, unit=unit, target=target.describe() if target else "", verdict="pending", note=reason)


@dataclass
class Benchmark:
    name: str
    feature: str  # human label: "geography", "registry", ...
    requires: tuple[str, ...]  # "module:attr" or "module" that must import
    run: Callable  # run(ctx) -> list[Row]
    prepare: Callable | None = None  # prepare(ctx): data generation, before the server starts
    modes: tuple[str, ...] = ("quick", "full")
    rows: tuple[tuple[str, str, Target | None], ...] = ()  # (name, unit, target) for pending rows
    http: bool = False


REGISTRY: list[Benchmark] = []


def benchmark(name: str, *, feature: str, requires: tuple[str, ...] = (), modes=("quick", "full"),
              rows=(), http: bool = False, prepare: Callable | None = None):
    def decorator(fn):
        REGISTRY.append(Benchmark(name=name, feature=feature, requires=tuple(requires), run=fn, prepare=prepare,
                                  modes=tuple(modes), rows=tuple(rows), http=http))
        return fn

    return decorator


def missing_feature(requires: tuple[str, ...]) -> str | None:
    """The first requirement that is not importable, as a readable reason; None when all are there."""
    for requirement in requires:
        if requirement.startswith("table:"):
            from django.db import connection

            table = requirement[len("table:"):]
            if table not in connection.introspection.table_names():
                return f"feature not landed: no table {table} (no migration yet)"
            continue
        module_name, _, attr = requirement.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            return f"feature not landed: {module_name} does not exist ({exc.name})"
        except Exception as exc:  # a half-written module counts as not landed, with the reason
            return f"feature not importable: {module_name}: {type(exc).__name__}: {exc}"[:200]
        for part in filter(None, attr.split(".")):
            if not hasattr(module, part):
                return f"feature not landed: {module_name} has no {attr}"
            module = getattr(module, part)
    return None


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(rows: list[Row]) -> str:
    headers = ["benchmark", "figure", "unit", "baseline", "ratio", "target", "verdict", "size / note"]
    lines = []
    for r in rows:
        baseline = fmt(r.baseline) + (f" ({r.baseline_name})" if r.baseline_name and r.baseline is not None else "")
        note = "; ".join(filter(None, [r.size, r.note]))
        lines.append([r.name, fmt(r.figure), r.unit, baseline, fmt(r.ratio), r.target, r.verdict, note])
    widths = [max(len(h), *(_width(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]
    widths[-1] = len(headers[-1])

    def render(cells):
        return "  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [render(headers), render(["-" * w for w in widths])]
    out += [render(line) for line in lines]
    return "\n".join(out)


def _width(text: str) -> int:
    # East Asian wide characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))
