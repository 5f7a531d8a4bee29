"""`python -m benchmarks.report [results.json]`: the results as a Markdown table (for docs/performance.md)."""

import json
import sys
from pathlib import Path

from .core import fmt


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']} — mode {report['mode']}, scale {report['scale']}, "
             f"{report['machine'].get('cpus')} CPUs, {report['machine'].get('postgres', '')}, "
             f"commit {report['machine'].get('commit', '?')}, {report.get('server') or ''}; "
             f"run took {report['elapsed_s']:.0f} s.", "",
             "| benchmark | figure | unit | baseline | ratio | target | verdict | size / note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        baseline = fmt(r["baseline"]) + (f" ({r['baseline_name']})" if r["baseline_name"] and r["baseline"] is not None
                                         else "")
        note = "; ".join(filter(None, [r["size"], r["note"]])).replace("|", "/")
        lines.append(f"| {r['name']} | {fmt(r['figure'])} | {r['unit']} | {baseline} | {fmt(r['ratio'])} | "
                     f"{r['target']} | **{r['verdict']}** | {note} |")
    lines += ["", "Data sets:", ""]
    for name, info in report["datasets"].items():
        counts = ", ".join(f"{k} {v:,}" for k, v in info.items() if isinstance(v, int) and not isinstance(v, bool))
        took = f"generated in {info['seconds']:.0f} s" if "seconds" in info else ""
        lines.append(f"- {name}: {counts}; {took}{' (reused from an earlier run)' if info.get('reused') else ''}")
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results" / "latest.json"
    print(markdown(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
