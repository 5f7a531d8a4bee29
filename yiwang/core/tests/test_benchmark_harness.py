"""The benchmark harness (benchmarks/) judges figures honestly: verdicts follow targets, failed
requests never become a figure, missing features are pending, and the load generator counts what the
server really answered."""

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks import loadgen
from benchmarks.context import http_row
from benchmarks.core import Target, missing_feature, row, table


def test_verdict_follows_the_target_on_figure_or_ratio():
    p95 = Target("figure", "<=", 100)
    assert row("search", 80.0, "ms", target=p95).verdict == "pass"
    assert row("search", 120.0, "ms", target=p95).verdict == "fail"
    ratio = Target("ratio", ">=", 0.10)
    measured = row("intake", 50.0, "req/s", baseline=1000.0, target=ratio)
    assert measured.ratio == 0.05 and measured.verdict == "fail"
    assert row("intake", 150.0, "req/s", baseline=1000.0, target=ratio).verdict == "pass"
    assert row("no figure", None, "ms", target=p95).verdict == "error"


def test_missing_features_are_named():
    assert missing_feature(("yiwang.core.pii:encrypt",)) is None
    assert "no_such_module" in missing_feature(("yiwang.no_such_module",))
    assert "has no nothing_here" in missing_feature(("yiwang.core.pii:nothing_here",))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's naming
        status = 500 if self.path.startswith("/fail") else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _run(coroutine_factory):
    """asyncio.run in a thread of its own: browser tests in the same worker may leave a loop running."""
    result = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine_factory())
        except BaseException as exc:  # re-raised in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def _serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_load_generator_counts_answers_and_failures_become_errors_not_figures():
    server = _serve()
    try:
        port = server.server_address[1]
        ok = _run(lambda: loadgen.run({"port": port, "requests": [{"path": "/ok?n={n}"}], "concurrency": 4,
                                       "max_requests": 40, "max_seconds": 10, "warmup": 2}))
        assert ok["completed"] == 40 and ok["statuses"] == {"200": 40}
        assert ok["p95_ms"] is not None and ok["throughput_rps"] > 0
        good = http_row("ok", ok, ceiling=ok)
        assert good.verdict == "info" and abs(good.ratio - 1.0) < 1e-9

        mixed = _run(lambda: loadgen.run({"port": port, "requests": [{"path": "/ok"}, {"path": "/fail"}],
                                          "concurrency": 2, "max_requests": 20, "max_seconds": 10}))
        assert mixed["statuses"] == {"200": 10, "500": 10}
        bad = http_row("mixed", mixed, ceiling=ok, target=Target("figure", "<=", 1e9))
        assert bad.verdict == "error" and bad.figure is None
    finally:
        server.shutdown()


def test_loadgen_refuses_non_loopback_targets():
    import pytest

    with pytest.raises(SystemExit):
        _run(lambda: loadgen.run({"host": "example.org", "port": 80, "requests": [{"path": "/"}]}))


def test_table_lists_every_row_with_its_verdict():
    text = table([row("a", 1.0, "s", target=Target("figure", "<=", 2)), row("b", 3.0, "s")])
    assert "pass" in text and "info" in text and text.count("\n") == 3
