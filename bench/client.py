"""The HTTP client of the benchmarks: standard library only, run in its own process.

    python -m bench.client latency < spec.json > result.json
    python -m bench.client contend < spec.json > result.json
    python -m bench.client throughput < spec.json > result.json

`latency` fetches each page one request at a time (a new connection each time,
as gunicorn's sync workers close it after every response) and reports the
median and 95th percentile of the full round trip: connect, send, read the
whole body. `throughput` keeps `concurrency` requests in flight on each page
in turn for a fixed time and reports requests per second. `contend` first
fetches the coach directory once per participant (untimed) to get a CSRF
cookie and form token, then releases all clients at once on a barrier, each
POSTing its selection, and reports what came back.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def request(
    port: int,
    method: str,
    path: str,
    *,
    cookie: str = "",
    body: str | None = None,
    extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, list[str]], bytes, float]:
    """One request on a fresh connection: status, headers, body, seconds."""
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers.update(extra or {})
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        seconds = time.perf_counter() - started
        found: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            found.setdefault(name.lower(), []).append(value)
        return response.status, found, data, seconds
    finally:
        conn.close()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 500 values is the 475th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency(spec: dict[str, Any]) -> dict[str, Any]:
    """Per page: warm-up requests, then `requests` timed ones rotating over its targets."""
    port, count, warmup = spec["port"], spec["requests"], spec["warmup"]
    results = {}
    for page in spec["pages"]:
        for n in range(warmup):
            _send(port, page, n)
        seconds: list[float] = []
        unexpected: dict[str, int] = {}
        for n in range(warmup, warmup + count):
            status, _, _, elapsed = _send(port, page, n)
            seconds.append(elapsed)
            if status != 200:
                unexpected[str(status)] = unexpected.get(str(status), 0) + 1
        results[page["name"]] = {
            "requests": count,
            "median_ms": statistics.median(seconds) * 1000,
            "p95_ms": percentile(seconds, 0.95) * 1000,
            "max_ms": max(seconds) * 1000,
            "unexpected_statuses": unexpected,
        }
    return results


def _send(
    port: int, page: dict[str, Any], n: int
) -> tuple[int, dict[str, list[str]], bytes, float]:
    """The page's n-th request: a GET rotating over its targets, or its n-th POST."""
    if page.get("posts"):
        path, body, headers = page["posts"][n]
        headers = {"Content-Type": "application/json", **headers}
        return request(port, "POST", path, body=body, extra=headers)
    path, cookie = page["targets"][n % len(page["targets"])]
    return request(port, "GET", path, cookie=cookie)


def _hammer(
    port: int, targets: list[list[str]], *, first: int, step: int, stop: float
) -> tuple[int, int]:
    """Requests back to back until `stop`: (answered, not 200)."""
    done = failed = 0
    k = first
    while time.perf_counter() < stop:
        path, cookie = targets[k % len(targets)]
        status, _, _, _ = request(port, "GET", path, cookie=cookie)
        done += 1
        failed += status != 200
        k += step
    return done, failed


def throughput(spec: dict[str, Any]) -> dict[str, Any]:
    """Per page: `concurrency` threads request it back to back for `seconds`; req/s."""
    port, concurrency, duration = spec["port"], spec["concurrency"], spec["seconds"]
    results = {}
    for page in spec["pages"]:
        started = time.perf_counter()
        stop = started + duration
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            counts = list(
                pool.map(
                    lambda n, t=page["targets"], s=stop: _hammer(
                        port, t, first=n, step=concurrency, stop=s
                    ),
                    range(concurrency),
                )
            )
        elapsed = time.perf_counter() - started
        results[page["name"]] = {
            "per_second": sum(c[0] for c in counts) / elapsed,
            "requests": sum(c[0] for c in counts),
            "not_200": sum(c[1] for c in counts),
        }
    return results


def _prepare(port: int, cookie: str) -> tuple[str, str]:
    """GET the directory as this participant: the form token (and a CSRF cookie, should
    the participant's cookies hold none)."""
    status, headers, body, _ = request(port, "GET", "/coaches/", cookie=cookie)
    match = TOKEN.search(body.decode())
    new_cookie = [c.split(";")[0] for c in headers.get("set-cookie", []) if c.startswith("csrf")]
    if status != 200 or not match or not (new_cookie or "csrftoken=" in cookie):
        raise RuntimeError(f"directory answered {status} without a CSRF form token or cookie")
    return "; ".join([cookie, *new_cookie]), match.group(1)


def contend(spec: dict[str, Any]) -> dict[str, Any]:
    """All participants POST their selection at the same instant; count the answers."""
    port, clients = spec["port"], spec["clients"]  # [{"cookie", "coach"}, ...]
    with ThreadPoolExecutor(max_workers=8) as pool:
        prepared = list(pool.map(lambda c: _prepare(port, c["cookie"]), clients))
    barrier = threading.Barrier(len(clients) + 1)
    outcomes: list[dict[str, Any]] = [{} for _ in clients]

    def select(n: int) -> None:
        cookie, token = prepared[n]
        path = f"/coaches/{clients[n]['coach']}/select/"
        body = urlencode({"csrfmiddlewaretoken": token})
        barrier.wait()
        try:
            status, headers, _, seconds = request(port, "POST", path, cookie=cookie, body=body)
            outcomes[n] = {"status": status, "location": headers.get("location", [""])[0]}
            outcomes[n]["seconds"] = seconds
        except OSError as error:
            outcomes[n] = {"status": 0, "error": type(error).__name__}
        outcomes[n]["finished"] = time.perf_counter()

    threads = [threading.Thread(target=select, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    barrier.wait()
    released = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = max(o["finished"] for o in outcomes) - released
    statuses = [o["status"] for o in outcomes]
    winners = sum(1 for o in outcomes if o["status"] == 302 and o.get("location") == "/")
    losers = statuses.count(409)
    errors = sum(1 for s in statuses if s == 0 or s >= 500)
    return {
        "clients": len(clients),
        "winners": winners,
        "losers": losers,
        "errors": errors,
        "other": len(clients) - winners - losers - errors,
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
        "seconds": wall,
        "per_second": len(clients) / wall,
        "median_ms": statistics.median(o.get("seconds", 0) for o in outcomes) * 1000,
    }


def main() -> None:
    mode = sys.argv[1]
    spec = json.load(sys.stdin)
    modes = {"latency": latency, "contend": contend, "throughput": throughput}
    result = modes[mode](spec)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
