"""gunicorn started and stopped by the harness, on loopback, with the benchmark settings.

The configuration is the production one of scripts/prod-smoke.sh and README "Production" (sync workers),
with the worker count gunicorn's documentation recommends, 2 x cores + 1; override with
BENCH_GUNICORN_WORKERS. The baseline view and the application share this exact server.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_workers() -> int:
    return int(os.environ.get("BENCH_GUNICORN_WORKERS") or 2 * (os.cpu_count() or 1) + 1)


def _terminate(process: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Server:
    def __init__(self, env: dict, workers: int | None = None, log_path: Path | None = None):
        self.env = env
        self.workers = workers or default_workers()
        self.port = free_port()
        self.log_path = log_path or Path("/tmp") / f"yiwang-bench-gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.drainer: subprocess.Popen | None = None

    @property
    def description(self) -> str:
        return f"gunicorn sync, {self.workers} workers"

    def start(self) -> "Server":
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "120",
             "--graceful-timeout", "5", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/bench/minimal", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("gunicorn did not answer within 60 s")
        if self.env.get("YIWANG_ROLLUPS") == "queued":
            # Production's Celery beat + worker for the rollups: drain the queue every few seconds.
            self.drainer = subprocess.Popen([sys.executable, "-m", "benchmarks.drainer"], cwd=ROOT, env=self.env,
                                            stdout=self._log, stderr=subprocess.STDOUT)
        # Touch every worker once so imports and first connections are not measured.
        for _ in range(self.workers * 3):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/bench/minimal", timeout=5).read()
            except OSError:
                pass
        return self

    def drainer_cpu_seconds(self) -> float | None:
        """CPU time the rollup drainer has used so far (user + system), None without one."""
        if self.drainer is None or self.drainer.poll() is not None:
            return None
        fields = Path(f"/proc/{self.drainer.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        _terminate(self.drainer, timeout=60)  # it finishes the drain under way, then drains once more
        _terminate(self.process, timeout=15)
        if getattr(self, "_log", None):
            self._log.close()

    def load(self, requests: list[dict], *, concurrency: int, max_requests: int, max_seconds: float,
             warmup: int = 0, expect_status=(200, 201), rate: float | None = None) -> dict:
        """Run the load generator in its own process against this server and return its figures
        (closed loop, or paced at `rate` requests per second in all)."""
        spec = {"port": self.port, "requests": requests, "concurrency": concurrency, "max_requests": max_requests,
                "max_seconds": max_seconds, "warmup": warmup, "expect_status": list(expect_status), "rate": rate}
        proc = subprocess.run([sys.executable, "-m", "benchmarks.loadgen"], input=json.dumps(spec), text=True,
                              capture_output=True, cwd=ROOT, timeout=max_seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed: {proc.stderr[-2000:]}")
        return json.loads(proc.stdout)
