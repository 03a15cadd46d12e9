"""A real ``itembank serve`` (gunicorn) for the load and fault tests: a fresh database with the
demo test (PostgreSQL when ``ITEMBANK_TEST_DATABASE_URL`` is set, else a SQLite file), the server
on a free port, its worker pids, and a small JSON client that retries lost replies with the same
``response_id`` the way a real client does."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from itembank import config

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "tests" / "data" / "units"
ITEMBANK = Path(sys.executable).with_name("itembank")
PG_URL = config.load().test_database_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_database(tmp_path: Path, backend: str | None = None) -> Iterator[str]:
    """A fresh database with ``itembank init --demo`` (the small test bank): PostgreSQL if the
    tests have one (or ``backend == "postgresql"``), else SQLite."""
    backend = backend or ("postgresql" if PG_URL else "sqlite")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
        _init(url, tmp_path)
        yield url
        return
    assert PG_URL, "ITEMBANK_TEST_DATABASE_URL is not set"
    name = f"itembank_served_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _init(url, tmp_path)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_env(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ITEMBANK_DATABASE_URL": url,
        "ITEMBANK_INSTANCE_PATH": str(tmp_path),
        "ITEMBANK_ITEMS_PATH": str(UNITS),
        "ITEMBANK_SECRET_KEY": "served-test",
    }


def _init(url: str, tmp_path: Path) -> None:
    subprocess.run([str(ITEMBANK), "init", "--demo"], env=server_env(url, tmp_path), check=True,
                   capture_output=True)


class Server:
    """``itembank serve --workers N`` in its own process group."""

    def __init__(self, url: str, tmp_path: Path, workers: int = 2) -> None:
        self.env = server_env(url, tmp_path)
        self.port = free_port()
        self.workers = workers
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tmp_path / f"server-{self.port}.log"

    def start(self, timeout: float = 30) -> None:
        self.process = subprocess.Popen(
            [str(ITEMBANK), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/openapi.json", timeout=2):
                    if len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"itembank serve did not answer within {timeout} s")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children (``itembank serve`` execs gunicorn)."""
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(30)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(signal.SIGKILL)


def call(url: str, body: dict[str, Any] | None = None, token: str | None = None,
         timeout: float = 15) -> tuple[int, Any]:
    """One request; a connection error raises OSError (the caller decides to retry)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def answer_for(item: dict[str, Any], bit: int = 0) -> Any:
    kind = item["type"]
    if kind == "single_choice":
        return item["options"][bit % len(item["options"])]["id"]
    if kind == "multiple_choice":
        return [item["options"][bit % len(item["options"])]["id"]]
    if kind == "complex_choice":
        return {s["id"]: item["choices"][bit % len(item["choices"])]["id"] for s in item["statements"]}
    return "Different people see the issue differently."


class Student:
    """One student taking ``demo-cat`` through the API, logging every response id sent and
    retrying a lost or failed reply (connection error, 5xx) with the same id."""

    def __init__(self, base: str, name: str, retries: int = 40, pause: float = 0.25) -> None:
        self.base, self.name, self.retries, self.pause = base, name, retries, pause
        self.session = self.token = None
        self.item: dict[str, Any] | None = None
        self.sent: list[str] = []  # response ids acknowledged with 200, in order
        self.errors: list[str] = []  # 4xx replies and give-ups (should stay empty)
        self.retried = 0

    def _retry(self, url: str, body: dict[str, Any] | None, token: str | None = None) -> tuple[int, Any]:
        for _ in range(self.retries):
            try:
                status, reply = call(url, body, token)
            except (OSError, http.client.HTTPException, ValueError):
                # refused, reset, or a reply cut short by a dying worker (IncompleteRead, a
                # truncated JSON body): the answer may or may not be stored; send it again
                status, reply = 0, None
            if status and status < 500:
                return status, reply
            self.retried += 1
            time.sleep(self.pause)
        return 0, None

    def start(self) -> None:
        status, reply = self._retry(f"{self.base}/sessions", {
            "test": "demo-cat", "access_code": "DEMO", "student": self.name, "language": "en"})
        if status != 201:
            self.errors.append(f"start {status} {reply}")
            return
        self.session, self.token, self.item = reply["session"], reply["token"], reply["item"]

    def answer(self) -> bool:
        """Answer the current item; False when finished or on an error."""
        if self.item is None or self.session is None:
            return False
        response_id = uuid.uuid4().hex
        body = {"item": self.item["id"], "response": answer_for(self.item, len(self.sent)),
                "response_id": response_id}
        status, reply = self._retry(f"{self.base}/sessions/{self.session}/responses", body,
                                    self.token)
        if status != 200:
            self.errors.append(f"answer {status} {reply}")
            return False
        self.sent.append(response_id)
        if reply["answered"] != len(self.sent):
            self.errors.append(f"answered {reply['answered']} after {len(self.sent)} answers")
        self.item = reply["item"]
        return self.item is not None

    def run(self, think: float = 0.0) -> None:
        try:
            self.start()
            while self.answer():
                time.sleep(think)
        except Exception as exc:  # noqa: BLE001  (a thread's death must fail the test, visibly)
            self.errors.append(f"client crashed: {exc!r}")

    def state(self) -> dict[str, Any]:
        status, reply = self._retry(f"{self.base}/sessions/{self.session}", None, self.token)
        assert status == 200, reply
        return reply


def stored_responses(url: str, sessions: list[str]) -> dict[str, list[tuple[int, str]]]:
    """(sequence, response_id) per session, as stored, in sequence order."""
    engine = create_engine(url)
    out: dict[str, list[tuple[int, str]]] = {s: [] for s in sessions}
    with engine.connect() as conn:
        for sid, seq, rid in conn.execute(text(
            "SELECT session_id, sequence, response_id FROM responses ORDER BY session_id, sequence"
        )):
            out.setdefault(sid, []).append((seq, rid))
    engine.dispose()
    return out


def assert_exactly_once(url: str, students: list[Student]) -> int:
    """Every acknowledged answer stored once, in order, sequences 1..n without gaps, nothing else
    stored; returns the number of rows checked."""
    stored = stored_responses(url, [s.session for s in students if s.session])
    total = 0
    for student in students:
        rows = stored.get(student.session, [])
        assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1)), student.name
        assert [rid for _, rid in rows] == student.sent, student.name
        total += len(rows)
    assert sum(len(v) for v in stored.values()) == total
    return total
