"""Profile the JSON API in one process (no network): S students take the demo adaptive test
through Flask's test client on the database of ``--database-url`` (already ``itembank init
--demo``); prints the slowest calls per route and a cProfile summary of the answer route.

    .venv/bin/python benchmarks/load/profile_api.py --database-url postgresql+psycopg://... -n 20
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from webapp import create_app  # noqa: E402


def answer_for(item: dict, bit: int) -> object:
    """As in locustfile.py (not imported from there: locust monkey-patches the process)."""
    kind = item["type"]
    if kind == "single_choice":
        return item["options"][bit % len(item["options"])]["id"]
    if kind == "multiple_choice":
        return [item["options"][bit % len(item["options"])]["id"]]
    if kind == "complex_choice":
        return {s["id"]: item["choices"][bit % len(item["choices"])]["id"] for s in item["statements"]}
    return "Different people see the issue differently, so we should listen first."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("-n", type=int, default=20, help="students")
    parser.add_argument("--profile", default=None, help="write pstats here")
    parser.add_argument("--no-profile", action="store_true",
                        help="time only (wall and this process's CPU per answer), no cProfile")
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": "profile"})
    client = app.test_client()
    times: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, float] = defaultdict(float)
    profiler = cProfile.Profile()
    profiling = not args.no_profile

    def timed(route: str, fn, *a, **kw):  # type: ignore[no-untyped-def]
        t, c = time.perf_counter(), time.process_time()
        if route == "answer" and profiling:
            profiler.enable()
        reply = fn(*a, **kw)
        if route == "answer" and profiling:
            profiler.disable()
        times[route].append((time.perf_counter() - t) * 1000)
        cpu[route] += time.process_time() - c
        return reply

    for s in range(args.n):
        student = f"prof-{uuid.uuid4().hex[:8]}"
        r = timed("start", client.post, "/api/v1/sessions",
                  json={"test": "demo-cat", "access_code": "DEMO", "student": student,
                        "language": "en"})
        body = r.get_json()
        sid, token, item = body["session"], body["token"], body["item"]
        headers = {"Authorization": f"Bearer {token}"}
        n = 0
        while item is not None:
            r = timed("answer", client.post, f"/api/v1/sessions/{sid}/responses", headers=headers,
                      json={"item": item["id"], "response": answer_for(item, n + s),
                            "response_id": uuid.uuid4().hex})
            assert r.status_code == 200, r.get_json()
            item = r.get_json()["item"]
            n += 1
        timed("state", client.get, f"/api/v1/sessions/{sid}", headers=headers)
    for route, ms in times.items():
        ms_sorted = sorted(ms)
        print(f"{route:7s} n={len(ms):4d} median={statistics.median(ms):6.1f} ms "
              f"p95={ms_sorted[int(0.95 * (len(ms) - 1))]:6.1f} ms max={max(ms):6.1f} ms "
              f"cpu/call={1000 * cpu[route] / len(ms):6.1f} ms")
    if not profiling:
        return
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    if args.profile:
        stats.dump_stats(args.profile)
    stats.print_stats(35)


if __name__ == "__main__":
    main()
