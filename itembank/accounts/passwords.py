"""Password strength: long enough, not one character or a short pattern repeated, not a run such
as ``1234567890`` or ``abcdefghij``, not on the list of common passwords (``common_passwords.txt``,
also with digits or symbols added at either end), not the username.

:func:`password_problem` says which rule a password breaks (a reason code the web app translates,
and an English message for the command line).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_PASSWORD = 10
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")

MESSAGES = {
    "short": f"the password needs at least {MIN_PASSWORD} characters",
    "repeated": "the password repeats one character or a short pattern; choose one that is harder to guess",
    "sequence": "the password is a run of keys or letters such as 1234567890 or abcdefghij; choose another",
    "common": "the password is on the list of common passwords; choose one that is harder to guess",
    "username": "the password contains the username; choose another",
}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _core(password: str) -> str:
    """The password without digits and symbols at its ends (``Password2024!`` → ``password``)."""
    return password.lower().strip("0123456789!@#$%^&*()-_=+.,?~ ")


def _repeats(password: str) -> bool:
    for size in range(1, len(password) // 2 + 1):
        unit = password[:size]
        if (unit * (len(password) // size + 1))[: len(password)] == password:
            return True
    return False


def _is_run(password: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in zip(password.lower(), password.lower()[1:], strict=False)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def password_problem(password: str, username: str | None = None) -> str | None:
    """The reason code (a key of :data:`MESSAGES`) of the first rule ``password`` breaks, or None."""
    if len(password) < MIN_PASSWORD:
        return "short"
    if _repeats(password):
        return "repeated"
    if _is_run(password) or password.lower() in ("qwertyuiop", "asdfghjkl;", "1qaz2wsx3edc", "zaq12wsxcde"):
        return "sequence"
    common = common_passwords()
    if password.lower() in common or _core(password) in common:
        return "common"
    if username and len(username) >= 3 and username.lower() in password.lower():
        return "username"
    return None
