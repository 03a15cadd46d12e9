"""Pure, expensive product steps remembered per test process: the YAML reader and password hashing.

* The bank's YAML reader (:func:`itembank.bank.yaml_source.parse_yaml`) walks PyYAML's
  pure-Python node tree to keep every value's line and column; it reads the 67 files of ``items/``
  in about 1.6 s (7 s on a loaded machine) and the 8 test units in about 0.1 s.  Hundreds of tests import the same files
  again (``demo_bank``, the research fixtures that import ``items/``), so the suite spent minutes
  parsing identical text.  ``parse_yaml`` now remembers its result per (text, file name, YAML
  limits) and hands every caller a fresh copy (a pickle round trip: nothing a caller changes
  reaches another test).  The reader still runs on every distinct text, so the tests of the
  reader itself (limits, syntax errors, duplicate keys) parse for real.
* Staff passwords are salted scrypt (werkzeug, n=2**15): about 0.1-0.3 s per hash and per
  sign-in check, and the web and security tests create a user per role and sign in thousands of
  times.  werkzeug's ``_hash_internal(method, salt, password)`` is a pure function and is
  remembered as such (a check of the same password against the same hash is computed once; a
  wrong password is still a miss and still refused).  ``generate_password_hash`` remembers one
  real salted scrypt hash per (password, method, salt length): users created with the same
  password in one test process share a salt.  The stored format and work factor are production's.

Set ``ITEMBANK_TEST_NO_MEMO=1`` to run without either (to compare timings).
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any

_yaml_cache: dict[tuple[Any, ...], bytes] = {}
_hash_cache: dict[tuple[str, str, str], tuple[str, str]] = {}
_generated: dict[tuple[str, str, int], str] = {}
_originals: dict[str, Any] = {}


def install() -> None:
    """Replace the functions in their modules and in every module that already imported them."""
    if _originals or os.environ.get("ITEMBANK_TEST_NO_MEMO"):
        return
    from werkzeug import security

    from itembank.bank import yaml_source

    _originals["parse_yaml"] = yaml_source.parse_yaml
    _originals["_hash_internal"] = security._hash_internal
    _originals["generate_password_hash"] = security.generate_password_hash
    yaml_source.parse_yaml = _parse_yaml  # type: ignore[assignment]  # read_yaml calls it too
    security._hash_internal = _hash_internal
    security.generate_password_hash = _generate_password_hash
    rebind()


def rebind() -> None:
    """Point every loaded module's names at the memos (a module imported before :func:`install`
    holds the originals)."""
    memos = {"parse_yaml": _parse_yaml, "generate_password_hash": _generate_password_hash}
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", None)
        if not isinstance(names, dict):
            continue
        for name, memo in memos.items():
            if name in _originals and names.get(name) is _originals[name]:
                setattr(module, name, memo)


def _parse_yaml(raw: bytes | str, name: str) -> Any:
    from itembank import config
    from itembank.bank import yaml_source

    settings = config.load()
    key = (raw, name, settings.max_yaml_bytes, settings.max_yaml_aliases, settings.max_yaml_nodes,
           yaml_source.MAX_DEPTH)
    stored = _yaml_cache.get(key)
    if stored is None:
        stored = _yaml_cache[key] = pickle.dumps(_originals["parse_yaml"](raw, name),
                                                 pickle.HIGHEST_PROTOCOL)
    return pickle.loads(stored)


def _hash_internal(method: str, salt: str, password: str) -> tuple[str, str]:
    key = (method, salt, password)
    if key not in _hash_cache:
        _hash_cache[key] = _originals["_hash_internal"](method, salt, password)
    return _hash_cache[key]


def _generate_password_hash(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    key = (password, method, salt_length)
    if key not in _generated:
        _generated[key] = _originals["generate_password_hash"](password, method, salt_length)
    return _generated[key]
