"""What one assisted order costs the server, in-process: statements, Python calls and CPU time.

bench/orders.py's rates move by a third between runs on a shared 2-core VM; these
counts do not, so they show what a change to the hot path did. The same requests as
bench/orders.py (cash-now orders of two products, with an Idempotency-Key) go through
the whole WSGI application (middleware, auth, ninja, the service, the answer) in this
process, one after another, on a fresh database of the kind DATABASE_URL names. Prints

{"bench": "order_cpu", "db": ..., "orders": N, "statements": .., "python_calls": ..,
 "cpu_ms": .., "db_server_cpu_ms": ..}

statements: SQL statements one order sends (savepoints and SQLite's BEGIN IMMEDIATE
included; COMMIT is the driver's call, not counted); python_calls: function calls
cProfile counts for one order (steady from run to run); cpu_ms: this process's CPU
per order; db_server_cpu_ms: the PostgreSQL backend's CPU per order (null on SQLite,
whose work is in cpu_ms).
"""

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from freshdb import fresh_database
from httpload import cpu_seconds, django_setup
from orders import order_requests, seed


def wsgi_caller(app, next_request):
    """call(i): POST the i-th order through the WSGI application; it must answer 201."""

    def call(i: int) -> None:
        path, headers, body = next_request(i % 32, i)
        data = json.dumps(body).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
                   "HTTP_HOST": "127.0.0.1:8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
                   "CONTENT_TYPE": "application/json", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
                   "wsgi.multiprocess": True, "wsgi.run_once": False}
        environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
        status = []
        answer = b"".join(app(environ, lambda line, _headers: status.append(line)))
        if not status[0].startswith("201"):
            raise SystemExit(f"order {i}: {status[0]} {answer[:300]!r}")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500, help="orders timed (after 100 to warm up)")
    args = parser.parse_args()

    with fresh_database() as (env, db):
        django_setup(env)
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection, connections

        call = wsgi_caller(WSGIHandler(), order_requests(seed(32), "cpu"))
        for i in range(100):
            call(i)
        statements = []
        with connection.execute_wrapper(lambda execute, sql, *args: statements.append(sql) or execute(sql, *args)):
            call(100)
        profile = cProfile.Profile()
        profile.enable()
        for i in range(101, 201):
            call(i)
        profile.disable()
        backend = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            backend_before = cpu_seconds(backend)
        started = time.process_time()
        for i in range(1000, 1000 + args.orders):
            call(i)
        cpu_ms = (time.process_time() - started) * 1000 / args.orders
        db_ms = (cpu_seconds(backend) - backend_before) * 1000 / args.orders if backend else None
        connections.close_all()
    print(json.dumps({"bench": "order_cpu", "db": db, "orders": args.orders,
                      "statements": len(statements),
                      "python_calls": pstats.Stats(profile).total_calls // 100,
                      "cpu_ms": round(cpu_ms, 2), "db_server_cpu_ms": round(db_ms, 2) if db_ms is not None else None}))


if __name__ == "__main__":
    main()
