"""Students' sign-in passwords for roster tests: issued at roster import (or anew by a teacher),
printed on login cards, checked when a student starts a test.

A password is derived, never stored: an HMAC-SHA256 under the secret key
(``ITEMBANK_SECRET_KEY``) of the student's pseudonymous key and a random seed
(``Student.password_seed``), written as 8 unambiguous characters (no 0/O, 1/I/L) and shown as
``ABCD-EFGH``.  What is kept to check it (``Student.password_hash``) is a second keyed HMAC,
``hmac-sha256$SALT$HEX``.  So a lost card can be printed again, with the same password, by whoever
may print the class's cards; checking costs microseconds (a roster of thousands is imported at
once); and a copy of the database without the secret key gives nobody a password, nor a way to
test guesses offline.  A new password is a new seed.  Changing the secret key retires every
student password: print new cards (``itembank roster cards CLASS --new-passwords``).

Typed passwords are compared with spaces and dashes dropped and in upper case, so ``abcd efgh``
is ``ABCD-EFGH``.  A hash written otherwise (werkzeug's, by hand) is checked as werkzeug's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from werkzeug.security import check_password_hash

from itembank import config

from .models import Student

__all__ = ["card_password", "issue_password", "normalise_password", "password_matches"]

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8  # 31**8 > 2**39; wrong guesses are limited (ITEMBANK_CODE_MAX_FAILURES)
SCHEME = "hmac-sha256"


def normalise_password(value: str) -> str:
    return "".join(value.split()).replace("-", "").upper()


def _mac(message: str) -> bytes:
    secret = config.load().secret_key.encode("utf-8")
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).digest()


def _derive(student: Student, seed: str) -> str:
    number = int.from_bytes(_mac(f"student-password:{student.key}:{seed}"), "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def _check_value(salt: str, password: str) -> str:
    return _mac(f"student-password-check:{salt}:{password}").hex()


def _shown(password: str) -> str:
    return f"{password[:4]}-{password[4:]}"


def issue_password(student: Student) -> str:
    """Give ``student`` a new password (in the caller's transaction) and return it as shown."""
    seed = secrets.token_hex(16)
    password = _derive(student, seed)
    salt = secrets.token_hex(8)
    student.password_seed = seed
    student.password_hash = f"{SCHEME}${salt}${_check_value(salt, password)}"
    return _shown(password)


def card_password(student: Student) -> str | None:
    """The student's password as printed on a login card; None when the student has none, or
    one that cannot be printed (set otherwise, or under another secret key): issue a new one."""
    if not student.password_seed or not student.password_hash:
        return None
    password = _derive(student, student.password_seed)
    if not student.password_hash.startswith(SCHEME + "$"):
        return None
    if not password_matches(student.password_hash, password):
        return None
    return _shown(password)


def password_matches(password_hash: str, given: str) -> bool:
    """Whether ``given`` is the password that ``password_hash`` checks."""
    if password_hash.startswith(SCHEME + "$"):
        _, salt, expected = password_hash.split("$", 2)
        return hmac.compare_digest(_check_value(salt, normalise_password(given)), expected)
    return check_password_hash(password_hash, given)
