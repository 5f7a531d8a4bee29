"""pgbench on the benchmark database: the write-path baselines (TPC-B-like and a single-row insert)."""

import re
import shutil
import subprocess
import tempfile
from glob import glob
from pathlib import Path
from urllib.parse import urlparse

from .core import percentile


def pgbench_path() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def _conn_args(url: str) -> list[str]:
    parsed = urlparse(url)
    args = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    return [*args, parsed.path.lstrip("/")]


def initialise(url: str, scale: int) -> None:
    """pgbench's own tables (pgbench_*) in the same database; server-side generation is fastest."""
    subprocess.run([pgbench_path(), "-i", "-q", "-I", "dtGvp", "-s", str(scale), *_conn_args(url)],
                   check=True, capture_output=True, text=True)


INSERT_TABLE_SQL = ("CREATE TABLE IF NOT EXISTS bench_single_insert (id bigserial PRIMARY KEY, "
                    "area_path varchar(15) NOT NULL, payload text NOT NULL, "
                    "created_at timestamptz NOT NULL DEFAULT now())")
INSERT_SCRIPT = ("\\set g random(1, 2000)\n"
                 "INSERT INTO bench_single_insert (area_path, payload) VALUES ('141102001' || :g, 'case');\n")


def run(url: str, *, clients: int, seconds: int, script: str | None = None) -> dict:
    """Run pgbench; returns tps (without connection time) and latency percentiles from its per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="yiwang-pgbench-") as tmp:
        args = [pgbench_path(), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-l",
                "--log-prefix", str(Path(tmp) / "log")]
        if script:
            script_path = Path(tmp) / "script.sql"
            script_path.write_text(script)
            args += ["-f", str(script_path)]
        proc = subprocess.run([*args, *_conn_args(url)], capture_output=True, text=True, timeout=seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench failed: {proc.stderr[-1000:]}")
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", proc.stdout)
        latencies = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000.0)
    return {"tps": float(match.group(1)) if match else None, "p95_ms": percentile(latencies, 95),
            "p50_ms": percentile(latencies, 50), "transactions": len(latencies), "clients": clients,
            "seconds": seconds}
