"""Password strength (itembank/accounts/passwords.py): each rule refuses what it names, with its
reason, and ordinary long passwords pass."""

from __future__ import annotations

import pytest

from itembank.accounts.passwords import MESSAGES, common_passwords, password_problem

WEAK = {
    "short": ["", "abc", "Tr0ub4dor"],
    "repeated": ["aaaaaaaaaaaa", "111111111111", "abababababab", "abcabcabcabc", "!!!!!!!!!!!!"],
    "sequence": ["abcdefghijkl", "9876543210", "qwertyuiop", "ZYXWVUTSRQ", "lmnopqrstu"],
    "common": ["1234567890", "0987654321", "password123", "Password2024!", "iloveyou123", "administrator",
               "woaini1314", "P@ssw0rd!!!!", "qwerty12345"],
    "username": ["mary-smith-1987"],
}


@pytest.mark.parametrize("reason,password", [(r, p) for r, ps in WEAK.items() for p in ps])
def test_weak_passwords_are_refused_with_their_reason(reason: str, password: str) -> None:
    assert password_problem(password, username="mary-smith") == reason
    assert MESSAGES[reason]


@pytest.mark.parametrize("password", ["correct horse battery staple", "a long password", "Taipei-rain-at-4pm",
                                      "7 lanterns over Tamsui", "a-long-password-1"])
def test_ordinary_long_passwords_pass(password: str) -> None:
    assert password_problem(password, username="mary") is None


def test_the_list_is_loaded_and_lower_case() -> None:
    words = common_passwords()
    assert len(words) > 100 and "password" in words and all(w == w.lower() for w in words)
