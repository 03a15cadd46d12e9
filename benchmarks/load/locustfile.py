"""Locust load test: each simulated student takes the demo adaptive test (``demo-cat``, code
DEMO) from start to finish through the JSON API, then starts again as a new student.

Every answer is sent with a fresh ``response_id``; a reply that is lost (connection error, 5xx) is
retried with the SAME id, as a real client would.  Each response id and its final outcome are
appended to the JSON-lines file named by ``ITEMBANK_LOAD_LOG`` (one file per locust process), so
that ``run_load.py`` can check afterwards that every answer sent was stored exactly once.

Run through ``run_load.py``, or by hand:
    locust --headless -u 60 -r 60 -t 60s --host http://127.0.0.1:8000 -f locustfile.py
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, HttpUser, between, task

OUT = Path(__file__).resolve().parent / "out"
LOG_PATH = os.environ.get("ITEMBANK_LOAD_LOG") or str(OUT / "responses.jsonl")
THINK = float(os.environ.get("ITEMBANK_LOAD_THINK", "1.0"))  # mean seconds per item
RETRIES = 5
# The HTTP client of the simulated students: "fast" (geventhttpclient, locust's FastHttpUser) costs
# the load generator about a third of the CPU per request of "requests" (HttpUser), which matters
# when it shares the server's two cores.
CLIENT = os.environ.get("ITEMBANK_LOAD_CLIENT", "fast")
_log_lock = threading.Lock()
Path(LOG_PATH).parent.mkdir(parents=True, exist_ok=True)
_log = open(LOG_PATH, "a", encoding="utf-8")  # noqa: SIM115  (kept open for the whole run)


def log(record: dict[str, Any]) -> None:
    with _log_lock:
        _log.write(json.dumps(record) + "\n")
        _log.flush()


def answer_for(item: dict[str, Any], rng_bit: int) -> Any:
    """A well-shaped answer (right or wrong by chance) for a student-view item."""
    kind = item["type"]
    if kind == "single_choice":
        return item["options"][rng_bit % len(item["options"])]["id"]
    if kind == "multiple_choice":
        return [item["options"][rng_bit % len(item["options"])]["id"]]
    if kind == "complex_choice":
        return {s["id"]: item["choices"][rng_bit % len(item["choices"])]["id"] for s in item["statements"]}
    return "Different people see the issue differently, so we should listen first."


class Student(FastHttpUser if CLIENT == "fast" else HttpUser):  # type: ignore[misc]
    wait_time = between(0.5 * THINK, 1.5 * THINK)

    @task
    def take_the_test(self) -> None:
        student = f"load-{uuid.uuid4().hex[:12]}"
        with self.client.post(
            "/api/v1/sessions",
            json={"test": "demo-cat", "access_code": "DEMO", "student": student, "language": "en"},
            name="/api/v1/sessions",
            catch_response=True,
        ) as reply:
            if reply.status_code != 201:
                reply.failure(f"start: {reply.status_code} {reply.text[:200]}")
                return
            started = reply.json()
        session, token, item = started["session"], started["token"], started["item"]
        headers = {"Authorization": f"Bearer {token}"}
        sequence = 0
        while item is not None:
            self.wait()  # the student reads and answers
            response_id = uuid.uuid4().hex
            body = {
                "item": item["id"],
                "response": answer_for(item, sequence + len(student)),
                "response_id": response_id,
            }
            outcome, reply_body = self._send(session, headers, body)
            log({"session": session, "response_id": response_id, "item": item["id"],
                 "sequence": sequence + 1, "outcome": outcome})
            if outcome != "ok":
                return
            sequence += 1
            if reply_body["answered"] != sequence:
                log({"session": session, "response_id": response_id,
                     "outcome": f"answered {reply_body['answered']} != {sequence}"})
            item = reply_body["item"]
        with self.client.get(
            f"/api/v1/sessions/{session}", headers=headers, name="/api/v1/sessions/[id]",
            catch_response=True,
        ) as reply:
            if reply.status_code != 200 or reply.json().get("status") != "finished":
                reply.failure(f"final state: {reply.status_code} {reply.text[:200]}")
        log({"session": session, "outcome": "finished", "answered": sequence})

    def _send(self, session: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[str, Any]:
        """POST the answer; retry a lost reply with the same response id."""
        for _attempt in range(RETRIES):
            try:
                with self.client.post(
                    f"/api/v1/sessions/{session}/responses", json=body, headers=headers,
                    name="/api/v1/sessions/[id]/responses", catch_response=True,
                ) as reply:
                    if reply.status_code == 200:
                        return "ok", reply.json()
                    if reply.status_code == 0 or reply.status_code >= 500:
                        reply.failure(f"{reply.status_code} {reply.text[:200]}")
                        continue  # lost or failed: the same response id again
                    reply.failure(f"{reply.status_code} {reply.text[:200]}")
                    return f"http {reply.status_code}", None
            except (OSError, ValueError):  # a connection error or a cut-off JSON body: retry
                continue
        return "gave up", None
