"""Every setting of the project, read from ``ITEMBANK_*`` environment variables in this one place.

No other module reads ``os.environ``: they take a :class:`Settings` (usually from :func:`load`).
Defaults give the embedded setup: a SQLite file in the instance folder, the development secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-not-secret"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    environment: str  # "development" or "production"
    redis_url: str | None
    test_database_url: str | None
    items_path: Path
    min_group_size: int
    timezone: str  # how the web app shows times (stored times are UTC)
    max_upload_mb: int = 20  # the largest request the web app reads (uploads, forms)
    max_api_body_kb: int = 64  # the largest JSON body the API reads (one response)
    login_max_failures: int = 5  # failed logins per username and address ...
    login_lock_minutes: int = 15  # ... within this window lock the login for the window
    trusted_proxies: int = 0  # reverse proxies in front (nginx: 1) whose X-Forwarded-* to trust
    # limits of the parsers (docs/deployment.md, "Limits")
    max_csv_cell_chars: int = 10_000  # the longest cell of an uploaded CSV
    max_csv_rows: int = 1_000_000  # the most rows of an uploaded CSV
    max_form_field_chars: int = 100_000  # the longest form field (the YAML editor's text is one)
    max_yaml_bytes: int = 1_000_000  # the largest YAML document (a unit, a design, a spec)
    max_yaml_nodes: int = 100_000  # the most nodes (scalars, lists, mappings) in one YAML document
    max_yaml_aliases: int = 100  # the most aliases (*name) in one YAML document
    max_qti_resources: int = 10_000  # the most resources in one QTI manifest
    max_xml_depth: int = 100  # the deepest nesting of elements in a QTI file
    code_max_failures: int = 10  # wrong access/resume codes per client address ...
    code_window_seconds: int = 60  # ... within this window refuse that address (429)
    job_file_days: int = 7  # the worker deletes files jobs produced (booklet ZIPs) after these days

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get("ITEMBANK_INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()
    database_url = env.get("ITEMBANK_DATABASE_URL") or f"sqlite:///{instance / 'itembank.sqlite3'}"
    return Settings(
        instance_path=instance,
        database_url=database_url,
        secret_key=env.get("ITEMBANK_SECRET_KEY", DEFAULT_SECRET_KEY),
        environment=env.get("ITEMBANK_ENV", "development"),
        redis_url=env.get("ITEMBANK_REDIS_URL") or None,
        test_database_url=env.get("ITEMBANK_TEST_DATABASE_URL") or None,
        items_path=Path(env.get("ITEMBANK_ITEMS_PATH", PROJECT_ROOT / "items")).resolve(),
        min_group_size=int(env.get("ITEMBANK_MIN_GROUP_SIZE", "5")),
        timezone=env.get("ITEMBANK_TIMEZONE", "Asia/Taipei"),
        max_upload_mb=int(env.get("ITEMBANK_MAX_UPLOAD_MB", "20")),
        max_api_body_kb=int(env.get("ITEMBANK_MAX_API_BODY_KB", "64")),
        login_max_failures=int(env.get("ITEMBANK_LOGIN_MAX_FAILURES", "5")),
        login_lock_minutes=int(env.get("ITEMBANK_LOGIN_LOCK_MINUTES", "15")),
        trusted_proxies=int(env.get("ITEMBANK_TRUSTED_PROXIES", "0")),
        max_csv_cell_chars=int(env.get("ITEMBANK_MAX_CSV_CELL_CHARS", "10000")),
        max_csv_rows=int(env.get("ITEMBANK_MAX_CSV_ROWS", "1000000")),
        max_form_field_chars=int(env.get("ITEMBANK_MAX_FORM_FIELD_CHARS", "100000")),
        max_yaml_bytes=int(env.get("ITEMBANK_MAX_YAML_BYTES", "1000000")),
        max_yaml_nodes=int(env.get("ITEMBANK_MAX_YAML_NODES", "100000")),
        max_yaml_aliases=int(env.get("ITEMBANK_MAX_YAML_ALIASES", "100")),
        max_qti_resources=int(env.get("ITEMBANK_MAX_QTI_RESOURCES", "10000")),
        max_xml_depth=int(env.get("ITEMBANK_MAX_XML_DEPTH", "100")),
        code_max_failures=int(env.get("ITEMBANK_CODE_MAX_FAILURES", "10")),
        code_window_seconds=int(env.get("ITEMBANK_CODE_WINDOW_SECONDS", "60")),
        job_file_days=int(env.get("ITEMBANK_JOB_FILE_DAYS", "7")),
    )
