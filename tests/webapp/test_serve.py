"""``itembank serve`` under gunicorn (2 workers) is killed with SIGKILL between two answers and
started again: the session resumes at the same item and finishes with the right count."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "tests" / "data" / "units"
ITEMBANK = Path(sys.executable).with_name("itembank")

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def answer_for(item: dict[str, Any]) -> Any:
    if item["type"] == "single_choice":
        return item["options"][0]["id"]
    if item["type"] == "multiple_choice":
        return [item["options"][0]["id"]]
    if item["type"] == "complex_choice":
        return {s["id"]: item["choices"][0]["id"] for s in item["statements"]}
    return "text"


class Server:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(ITEMBANK), "serve", "--port", str(self.port), "--workers", "2"],
            env=self.env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/api/v1/openapi.json", timeout=2
                ):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("itembank serve did not answer within 30 s")

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # the master and both workers at once
        self.process.wait(10)


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "ITEMBANK_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "ITEMBANK_INSTANCE_PATH": str(tmp_path),
        "ITEMBANK_ITEMS_PATH": str(UNITS),
        "ITEMBANK_SECRET_KEY": "serve-test",
    }
    subprocess.run([str(ITEMBANK), "init", "--demo"], env=env, check=True, capture_output=True)
    return env


def test_a_session_survives_kill_9_of_the_server(server_env: dict[str, str]) -> None:
    server = Server(server_env, free_port())
    base = f"http://127.0.0.1:{server.port}/api/v1"
    server.start()
    try:
        status, started = call(
            f"{base}/sessions",
            {"test": "demo-cat", "access_code": "DEMO", "student": "K-9", "language": "en"},
        )
        assert status == 201
        sid, token, item = started["session"], started["token"], started["item"]
        for n in range(2):
            status, reply = call(
                f"{base}/sessions/{sid}/responses",
                {"item": item["id"], "response": answer_for(item), "response_id": f"r{n}"},
                token,
            )
            assert status == 200
            item = reply["item"]
        server.kill9()
        with pytest.raises(OSError):
            call(f"{base}/sessions/{sid}", token=token)
        server.start()
        status, state = call(f"{base}/sessions/{sid}", token=token)
        assert status == 200
        assert state["answered"] == 2 and state["item"] == item
        # the answer whose reply was lost in the crash can be retried safely
        status, again = call(
            f"{base}/sessions/{sid}/responses",
            {"item": "whatever", "response": "x", "response_id": "r1"},
            token,
        )
        assert status == 409  # same id, different answer: refused, nothing changed
        n = 2
        while item is not None:
            status, reply = call(
                f"{base}/sessions/{sid}/responses",
                {"item": item["id"], "response": answer_for(item), "response_id": f"r{n}"},
                token,
            )
            assert status == 200, reply
            n += 1
            assert reply["answered"] == n
            item = reply["item"]
        status, final = call(f"{base}/sessions/{sid}", token=token)
        assert final == {"status": "finished", "answered": n, "item": None}
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill9()
