"""The load test's short form, run with the suite: 10 students at once take the demo adaptive test
through a 2-worker gunicorn (``itembank serve``), every answer over the JSON API, some answers
sent twice at once (a double tap); zero errors, and every acknowledged answer stored exactly once,
in order, without gaps.  On PostgreSQL when ``ITEMBANK_TEST_DATABASE_URL`` is set, otherwise on
SQLite (the test says which in its id).  The full load test is ``benchmarks/load/run_load.py``."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .server import PG_URL, Server, Student, assert_exactly_once, call, demo_database

pytestmark = pytest.mark.slow

BACKEND = "postgresql" if PG_URL else "sqlite"
STUDENTS = 10


class DoubleTapper(Student):
    """Sends every third answer twice at the same moment (two threads, one response id)."""

    def answer(self) -> bool:
        if self.item is None or len(self.sent) % 3 != 1:
            return super().answer()
        import uuid

        from .server import answer_for

        body = {"item": self.item["id"], "response": answer_for(self.item),
                "response_id": uuid.uuid4().hex}
        url = f"{self.base}/sessions/{self.session}/responses"
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda _: call(url, body, self.token), range(2)))
        if [s for s, _ in replies] != [200, 200] or replies[0][1] != replies[1][1]:
            self.errors.append(f"double tap: {replies}")
            return False
        self.sent.append(body["response_id"])
        self.item = replies[0][1]["item"]
        return self.item is not None


@pytest.mark.parametrize("backend", [BACKEND])
def test_ten_students_at_once_zero_errors_exactly_once(tmp_path: Path, backend: str) -> None:
    with demo_database(tmp_path, backend) as url, Server(url, tmp_path, workers=2) as server:
        students = [
            (DoubleTapper if i % 2 else Student)(server.base, f"short-{i}") for i in range(STUDENTS)
        ]
        timings: list[float] = []
        lock = threading.Lock()

        def run(student: Student) -> None:
            start = time.perf_counter()
            student.run()
            with lock:
                timings.append(time.perf_counter() - start)

        threads = [threading.Thread(target=run, args=(s,)) for s in students]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads)
        errors = [e for s in students for e in s.errors]
        assert errors == []
        assert sum(s.retried for s in students) == 0  # no 5xx, no lost connection
        for student in students:
            assert student.state() == {"status": "finished", "answered": len(student.sent),
                                       "item": None}
        rows = assert_exactly_once(url, students)
        assert rows == sum(len(s.sent) for s in students) >= STUDENTS * 6  # min_items is 6
        print(f"{backend}: {rows} answers by {STUDENTS} students, "
              f"median {statistics.median(timings):.1f} s per test")
