"""`cuntao serve` on a fresh database and a light HTTP load generator, for the API benchmarks.

The clients are threads with one keep-alive http.client connection each: a request
costs the load generator well under a millisecond of CPU, so nearly all of the two
cores go to the server. Each client sends its own requests in turn, as a scanner or a
partner's phone does; a connection the server closed is opened again.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def django_setup(env: dict) -> None:
    """Make this process talk to the fresh database in env, as the server will."""
    from freshdb import SRC

    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cuntao.settings"
    sys.path.insert(0, str(SRC))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its living children, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return total
    return total + sum(cpu_seconds(child) for child in children)


@contextmanager
def served(env: dict, *, workers: int, threads: int) -> Iterator[tuple[str, int, int]]:
    """Run `cuntao serve` (gunicorn) until the block ends; yield (host, port, pid) once it answers."""
    from django.db import connections

    connections.close_all()  # the server's workers open their own
    port = free_port()
    command = [sys.executable, "-m", "cuntao", "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--no-collectstatic"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"cuntao serve did not start (exit code {server.poll()})") from None
                time.sleep(0.2)
        yield "127.0.0.1", port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Result:
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    sent: int = 0  # every request answered, warm-up included
    server_cpu_s: float = 0.0  # the server's CPU time over the counted time
    client_cpu_s: float = 0.0  # the load generator's own CPU time over the counted time

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU time per request answered in the counted time."""
        return round(1000 * self.server_cpu_s / max(1, len(self.latencies_ms)), 2)

    @property
    def client_cpu_ms(self) -> float:
        """The load generator's CPU time per request answered in the counted time."""
        return round(1000 * self.client_cpu_s / max(1, len(self.latencies_ms)), 2)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def percentile(self, p: float) -> float:
        values = sorted(self.latencies_ms)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(len(values) * p))]


# A request to send: (path, headers, JSON body), or None when this client is done.
NextRequest = Callable[[int, int], tuple[str, dict, dict] | None]


def run_clients(host: str, port: int, *, clients: int, duration_s: float, next_request: NextRequest,
                server_pid: int, warmup_s: float = 2.0) -> Result:
    """clients threads POST next_request(client, n) until duration_s has passed.

    The first warmup_s seconds are sent but not counted (workers import lazily, caches
    fill). Latency is from sending the request to reading the whole answer. The
    server's CPU time is taken over the counted time only.
    """
    lock = threading.Lock()
    result = Result(seconds=0.0, latencies_ms=[])
    start_gate = threading.Barrier(clients + 1)
    started = measure_from = stop_at = 0.0

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        latencies, statuses, errors, answered = [], {}, [], 0
        start_gate.wait()
        n = 0
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            request = next_request(index, n)
            if request is None:
                break
            n += 1
            path, headers, body = request
            data = json.dumps(body).encode()
            sent = time.perf_counter()
            try:
                conn.request("POST", path, body=data, headers={"Content-Type": "application/json", **headers})
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                errors.append(repr(e))
                continue
            done = time.perf_counter()
            answered += 1
            if sent >= measure_from:
                latencies.append((done - sent) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 300 and len(errors) < 3:
                    errors.append(f"{status} {payload[:300]!r}")
        conn.close()
        with lock:
            result.latencies_ms.extend(latencies)
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count
            result.errors.extend(errors)
            result.sent += answered

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    measure_from = started + warmup_s
    stop_at = measure_from + duration_s
    start_gate.wait()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_before, own_before = cpu_seconds(server_pid), time.process_time()
    time.sleep(max(0.0, stop_at - time.perf_counter()))
    result.server_cpu_s = cpu_seconds(server_pid) - cpu_before
    result.client_cpu_s = time.process_time() - own_before
    for t in threads:
        t.join()
    result.seconds = min(time.perf_counter(), stop_at) - measure_from
    return result
