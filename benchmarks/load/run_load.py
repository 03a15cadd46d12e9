"""Drive the load test: a fresh PostgreSQL database with the demo bank, ``itembank serve --workers
N`` on it, locust headless with U simulated students for T seconds, then figures per route
(throughput, latency percentiles, errors) from locust's JSON and an exactly-once check of every
answer sent against the ``responses`` table.

    .venv/bin/python benchmarks/load/run_load.py --users 60 --workers 2 --time 60
    .venv/bin/python benchmarks/load/run_load.py --database-url sqlite:////tmp/load.sqlite3
    .venv/bin/python benchmarks/load/run_load.py --users 60 --workers 4 --think 0 --app floor

``--app floor`` serves ``floor_app.py`` (the app with the least an answer can do) instead, to measure
what the stack itself carries on the host; ``--app both --rounds N`` runs the app and the floor
alternately, each on a fresh database, and prints them side by side.

Writes ``benchmarks/load/out/<label>/`` (locust JSON and HTML, the response log, summary.json).
Exit status 1 when any request failed or any answer was lost or stored twice.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_pg_database(admin_url: str) -> str:
    """CREATE DATABASE itembank_load_<random> (AUTOCOMMIT) and return its URL."""
    name = f"itembank_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, url: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise SystemExit("itembank serve did not answer")


def read_log(paths: list[Path]) -> list[dict[str, Any]]:
    records = []
    for path in paths:
        if path.exists():
            records += [json.loads(line) for line in path.read_text().splitlines() if line]
    return records


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server's process tree and PostgreSQL's
    processes: with the load generator's, where a saturated host's two cores go.  The server's
    system time (the kernel's share: sockets, one TCP connection per request) is also given
    alone, as ``server_kernel``."""
    def tree(pid: int) -> tuple[float, float]:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0, 0.0
        user = system = 0.0
        for proc in procs:
            try:
                t = proc.cpu_times()
                user, system = user + t.user, system + t.system
            except psutil.NoSuchProcess:
                pass
        return user, system

    postgres = 0.0
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] == "postgres" and proc.info["cpu_times"] is not None:
            postgres += proc.info["cpu_times"].user + proc.info["cpu_times"].system
    user, system = tree(server_pid)
    return {"server": user + system, "server_kernel": system, "postgres": postgres}


def check_exactly_once(url: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Compare what the simulated students sent with what the database holds."""
    sent_ok = {r["response_id"]: r for r in records if r.get("outcome") == "ok"}
    sent_failed = [r for r in records if "response_id" in r and r.get("outcome") not in ("ok",)]
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.session_id, r.sequence, r.response_id FROM responses r "
                "JOIN test_sessions s ON s.id = r.session_id WHERE s.student_key LIKE 'load-%'"
            )
        ).all()
        answered = dict(
            conn.execute(
                text("SELECT id, answered FROM test_sessions WHERE student_key LIKE 'load-%'")
            ).all()
        )
    engine.dispose()
    stored_ids = Counter(r.response_id for r in rows)
    by_session: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        by_session[r.session_id].append(r.sequence)
    gaps = [s for s, seqs in by_session.items() if sorted(seqs) != list(range(1, len(seqs) + 1))]
    counts_off = [s for s, seqs in by_session.items() if answered.get(s) != len(seqs)]
    missing = [rid for rid in sent_ok if rid not in stored_ids]
    doubled = [rid for rid, n in stored_ids.items() if n > 1]
    # An answer whose sender gave up may or may not be stored (the reply was lost); anything
    # stored must have been sent.
    sent_any = {r["response_id"] for r in records if "response_id" in r}
    unknown = [rid for rid in stored_ids if rid not in sent_any]
    return {
        "answers_acknowledged": len(sent_ok),
        "answers_not_acknowledged": len(sent_failed),
        "rows_stored": len(rows),
        "sessions": len(by_session),
        "missing": len(missing),
        "stored_twice": len(doubled),
        "stored_but_never_sent": len(unknown),
        "sessions_with_sequence_gaps": len(gaps),
        "sessions_answered_mismatch": len(counts_off),
        "ok": not (missing or doubled or unknown or gaps or counts_off),
    }


def summarise(stats_json: Path, seconds: float) -> dict[str, Any]:
    """Throughput, percentiles and failures per route from locust's --json-file output."""
    data = json.loads(stats_json.read_text())
    routes = {}
    for entry in data:
        hist = {int(k): v for k, v in entry["response_times"].items()}

        def pct(q: float, hist: dict[int, int] = hist, n: int = entry["num_requests"]) -> float:
            seen = 0
            for ms in sorted(hist):
                seen += hist[ms]
                if seen >= q * n:
                    return ms
            return 0.0

        n = entry["num_requests"]
        routes[f"{entry['method']} {entry['name']}"] = {
            "requests": n,
            "failures": entry["num_failures"],
            "rps": round(n / seconds, 1),
            "mean_ms": round(entry["total_response_time"] / n, 1) if n else None,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": round(entry["max_response_time"], 1),
        }
    return routes


def server_command(app: str, port: int, workers: int) -> list[str]:
    """``itembank serve``, or the floor app under gunicorn with the same settings."""
    if app == "floor":
        return [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                "--access-logfile", "-", "--graceful-timeout", "10", "--pythonpath", str(ROOT),
                "benchmarks.load.floor_app:app"]  # fmt: skip
    return [str(BIN / "itembank"), "serve", "--port", str(port), "--workers", str(workers)]


def run_one(args: argparse.Namespace, app: str, label: str) -> dict[str, Any]:
    """One closed or open loop against ``app`` on its own fresh database; the summary."""
    out = HERE / "out" / label
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("responses*.jsonl"):
        old.unlink()
    url = args.database_url or fresh_pg_database(args.pg_admin_url)
    env = {**os.environ, "ITEMBANK_DATABASE_URL": url, "ITEMBANK_SECRET_KEY": "load-test",
           "ITEMBANK_INSTANCE_PATH": str(out)}
    subprocess.run([str(BIN / "itembank"), "init", "--demo"], env=env, check=True,
                   capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        server_command(app, port, args.workers),
        env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=open(out / "server.log", "w"),  # noqa: SIM115
    )
    try:
        wait_until_up(base)
        log_path = out / "responses.jsonl"
        started = time.monotonic()
        before = cpu_seconds(server.pid)
        locust = psutil.Popen(
            [str(BIN / "locust"), "--headless", "-u", str(args.users),
             "-r", str(args.spawn_rate or args.users), "-t", f"{args.time}s",
             "--host", base, "-f", str(HERE / "locustfile.py"), "--only-summary",
             "--stop-timeout", "30",
             "--json-file", str(out / "run"), "--html", str(out / "report.html")],
            env={**env, "ITEMBANK_LOAD_LOG": str(log_path), "ITEMBANK_LOAD_THINK": str(args.think),
                 "ITEMBANK_LOAD_CLIENT": args.client},
        )
        # The load generator's own CPU is read just before it exits (a finished process has
        # none to read): poll until it is done, keeping the last reading.
        locust_cpu = 0.0
        while locust.poll() is None:
            try:
                t = locust.cpu_times()
                locust_cpu = t.user + t.system
            except psutil.NoSuchProcess:
                break
            time.sleep(0.5)
        after = cpu_seconds(server.pid)
        seconds = time.monotonic() - started
        cpu = {key: round(after[key] - before[key], 1) for key in after}
        cpu["load_generator"] = round(locust_cpu, 1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    routes = summarise(out / "run.json", min(seconds, args.time + 30))
    storage = check_exactly_once(url, read_log([log_path]))
    summary = {"app": app, "users": args.users, "workers": args.workers, "seconds": args.time,
               "think_s": args.think, "client": args.client, "database": make_url(url).get_backend_name(),
               "routes": routes, "storage": storage, "cpu_seconds": cpu}
    answers = routes.get(ANSWERS, {}).get("requests", 0)
    if answers:
        summary["cpu_ms_per_answer"] = {k: round(1000 * v / answers, 2) for k, v in cpu.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if args.database_url is None and not args.keep_database:
        drop_pg_database(args.pg_admin_url, url)
    return summary


ANSWERS = "POST /api/v1/sessions/[id]/responses"


def table_row(summary: dict[str, Any]) -> str:
    answers = summary["routes"].get(ANSWERS, {})
    cpu = summary.get("cpu_ms_per_answer", {})
    return (f"| {summary['app']} | {answers.get('rps', 0)} | {answers.get('p50_ms')} / {answers.get('p95_ms')} | "
            f"{cpu.get('server')} / {cpu.get('postgres')} / {cpu.get('load_generator')} | "
            f"{sum(r['failures'] for r in summary['routes'].values())} | {summary['storage']['ok']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=None, help="default: users per s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time", type=int, default=60, help="seconds of load")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds per item")
    parser.add_argument("--client", choices=("fast", "requests"), default="fast",
                        help="the students' HTTP client (locust's FastHttpUser or HttpUser)")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh PostgreSQL database on 127.0.0.1:5432")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--label", default=None)
    parser.add_argument("--app", choices=("itembank", "floor", "both"), default="itembank",
                        help="floor: the app with the least an answer can do (floor_app.py), "
                             "served with `itembank serve`'s gunicorn settings; both: the app and "
                             "the floor alternating, --rounds times each")
    parser.add_argument("--rounds", type=int, default=1, help="with --app both")
    args = parser.parse_args()
    if args.app == "both" and args.database_url:
        parser.error("--app both needs a fresh database per run (leave out --database-url)")

    label = args.label or f"u{args.users}-w{args.workers}"
    if args.app != "both":
        summaries = [run_one(args, args.app, label)]
        print(json.dumps(summaries[0], indent=2))
    else:
        summaries = [run_one(args, app, f"{label}-{app}-{n + 1}")
                     for n in range(args.rounds) for app in ("itembank", "floor")]  # fmt: skip
        print("| app | answers/s | answer p50 / p95 ms | CPU ms per answer: server / PostgreSQL / "
              "load generator | failures | every answer stored once |")
        print("|---|---|---|---|---|---|")
        for summary in summaries:
            print(table_row(summary))
    ok = all(sum(r["failures"] for r in s["routes"].values()) == 0 and s["storage"]["ok"] for s in summaries)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
