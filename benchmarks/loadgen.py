"""A small asyncio HTTP/1.1 load generator, run as its own process so it never shares the server's CPU
time slice or GIL: `python -m benchmarks.loadgen < spec.json > result.json`.

The spec names the target (loopback only), the concurrency, a bound on requests and on time, and a list
of requests that the clients take in turn (each request is sent once; the list is cycled when shorter
than the bound). `{n}` in a path or body is replaced by the request's sequence number, so writes can
carry unique idempotency keys. Latency is measured from the first byte sent to the last byte read,
including the TCP connect when the server closed the previous connection (gunicorn's sync workers
close after every response, the same for the baseline and the application).

Two modes:
- closed loop (default): every client sends its next request as soon as the previous one is answered,
  so the server is saturated and the figure is its throughput; latency then is mostly queueing
  (Little's law: mean latency ≈ clients / throughput).
- paced (open loop, `"rate": R`): requests are due at a fixed total rate R per second, shared by the
  clients; latency is counted from the moment a request was *due*, not from when a free client sent
  it, so a slow server cannot hide its backlog by slowing the load down (no coordinated omission).
  This measures the latency users see at a given load below saturation.
"""

import asyncio
import json
import sys
import time

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class HttpError(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise HttpError("connection closed before a response")
    parts = status_line.split(b" ", 2)
    status = int(parts[1])
    length, chunked, close = None, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.lower() == b"close":
            close = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, bytes(body), close
    if length is not None:
        return status, await reader.readexactly(length), close
    return status, await reader.read(), True


class Client:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                fresh = True
            else:
                fresh = False
            try:
                self.writer.write(raw)
                await self.writer.drain()
                status, body, close = await _read_response(self.reader)
            except (HttpError, ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if fresh or attempt == 2:
                    raise
                continue  # a kept-alive connection the server had already closed: retry once, fresh
            if close:
                await self.close()
            return status, body
        raise HttpError("unreachable")

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None


def _raw_request(host: str, port: int, item: dict, n: int) -> bytes:
    method = item.get("method", "GET")
    path = item["path"].replace("{n}", str(n))
    body = item.get("body")
    body_bytes = body.replace("{n}", str(n)).encode() if isinstance(body, str) else b""
    headers = {"Host": f"{host}:{port}", "User-Agent": "yiwang-bench", "Accept": "application/json",
               **item.get("headers", {})}
    if body_bytes or method in ("POST", "PUT", "PATCH"):
        headers.setdefault("Content-Type", "application/json")
        headers["Content-Length"] = str(len(body_bytes))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body_bytes


async def run(spec: dict) -> dict:
    host, port = spec.get("host", "127.0.0.1"), int(spec["port"])
    if host not in LOOPBACK:
        raise SystemExit("loadgen only targets loopback")
    items = spec["requests"]
    concurrency = int(spec.get("concurrency", 1))
    max_requests = int(spec.get("max_requests", 1000))
    max_seconds = float(spec.get("max_seconds", 10))
    warmup = int(spec.get("warmup", 0))
    rate = float(spec["rate"]) if spec.get("rate") else None
    expect = set(spec.get("expect_status", [200, 201]))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    bytes_in = 0
    counter = 0

    def next_n() -> int | None:
        nonlocal counter
        if counter >= max_requests + warmup:
            return None
        counter += 1
        return counter - 1

    deadline = None
    paced_start = 0.0

    async def worker(_i: int):
        nonlocal bytes_in
        client = Client(host, port)
        try:
            while True:
                n = next_n()
                if n is None or (deadline is not None and time.perf_counter() > deadline):
                    return
                raw = _raw_request(host, port, items[n % len(items)], n)
                started = time.perf_counter()
                if rate is not None and n >= warmup:
                    due = paced_start + (n - warmup) / rate
                    if due > started:
                        await asyncio.sleep(due - started)
                    started = due  # latency counts from when the request was due
                try:
                    status, body = await client.request(raw)
                except Exception as exc:  # count and go on: a load test reports failures, it does not stop
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    continue
                elapsed = time.perf_counter() - started
                if n < warmup:
                    continue
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                bytes_in += len(body)
                if status in expect:
                    latencies.append(elapsed)
                elif len(errors) < 20:
                    errors.append(f"HTTP {status}: {body[:300].decode(errors='replace')}")
        finally:
            await client.close()

    # Warm-up on one connection first (imports, caches, connection pools in every worker).
    if warmup:
        max_requests_saved = max_requests
        max_requests = 0
        deadline = time.perf_counter() + max_seconds  # the warm-up is bounded in time too
        await asyncio.gather(*(worker(i) for i in range(min(concurrency, 4))))
        max_requests = max_requests_saved
        counter = max(counter, warmup)
        errors.clear()
    started = paced_start = time.perf_counter()
    deadline = started + max_seconds
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1000

    return {
        "concurrency": concurrency, "rate": rate, "completed": len(latencies), "elapsed_s": elapsed,
        "throughput_rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": pct(100),
        "mean_ms": (sum(latencies) / len(latencies) * 1000) if latencies else None,
        "statuses": statuses, "errors": errors[:20], "error_count": len(errors), "bytes_in": bytes_in,
    }


def main():
    spec = json.load(sys.stdin)
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
