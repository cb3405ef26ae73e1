"""Settings from the environment (prefix ``SMM_``); see the README's configuration table."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.addresses import email_address_problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def memory_mb() -> int | None:
    """The memory this process may use, in MiB: the machine's, or its cgroup's if lower."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
    except OSError:
        limit = "max"
    if limit.isdigit():
        total = min(total, int(limit))
    return total // 2**20


def default_render_workers(render_memory_mb: int) -> int:
    """Renders at once by default: one per usable CPU, while memory holds them all at
    their limit (a render fails past ``render_memory_mb``; this many never exhaust it)."""
    available = memory_mb()
    by_memory = available // render_memory_mb if available else usable_cpus()
    return max(1, min(usable_cpus(), by_memory, 64))


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="SMM_", env_file=None, extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'smm.db'}",
        description="SQLAlchemy URL; SQLite (default) or postgresql://...",
    )
    database_app_role: str | None = Field(
        default=None,
        description=(
            "PostgreSQL role the service connects as, when migrations run as another: "
            "migrations revoke UPDATE and DELETE on the audit trail from it."
        ),
    )
    questionnaires_dir: Path = Field(
        default=PROJECT_ROOT / "questionnaires",
        description="Folder of questionnaire definitions (<id>/v<N>.yaml).",
    )
    host: str = Field(default="127.0.0.1", description="Address `smm serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `smm serve` listens on.")
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes.")
    keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        le=3600,
        description=(
            "How long `smm serve` keeps an idle HTTP connection open for the client's next "
            "request. Longer than a person's pause between two pages of the form, so that "
            "a browser's next request seldom meets the connection as the server closes it "
            "(uvicorn's own default is 5 s)."
        ),
    )
    worker_healthcheck_seconds: int = Field(
        default=60,
        gt=0,
        le=3600,
        description=(
            "How long uvicorn's supervisor waits for a worker process to answer its health "
            "check before replacing it (with SMM_WORKERS above 1). Its own default, 5 s, "
            "replaces processes that are merely short of CPU, and their replacements, still "
            "importing the service, in a loop."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (bytes)."
    )
    log_level: str = Field(default="info", description="Log level for the service.")
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description=(
            "Log lines as JSON objects (one a line) or text; `auto`: text when stderr is a "
            "terminal, JSON otherwise (containers, files, log shippers)."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "When set, GET /metrics wants `Authorization: Bearer <this token>`; "
            "unset, /metrics is open like /healthz."
        ),
    )
    migrate_on_start: bool = Field(
        default=True,
        description=(
            "Whether `smm serve` applies migrations before starting; set false where a "
            "separate `smm migrate` step does it (compose, Kubernetes jobs)."
        ),
    )
    render_timeout_seconds: float = Field(
        default=60, gt=0, le=3600, description="Longest a report may take to render."
    )
    render_memory_mb: int = Field(
        default=1024, ge=128, le=65536, description="Memory a report render may use (MiB)."
    )
    render_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description=(
            "How much lower than their parent's the render processes' CPU priority is (added "
            "to its nice value). Renders then take the CPU time requests leave, so pages stay "
            "quick while a worker or runner on the same cores renders; 0 renders at the "
            "parent's priority."
        ),
    )
    run_report_jobs: bool = Field(
        default=True, description="Run the embedded report-job runner in each API process."
    )
    render_workers: int = Field(
        default_factory=lambda data: default_render_workers(data["render_memory_mb"]),
        ge=1,
        le=64,
        description=(
            "Reports one process renders at once, each in a render process of its own: the "
            "embedded runner of each API process, `smm worker` (unless `--concurrency`) and "
            "`smm report --all` (unless `--workers`). Default: one per CPU this process may "
            "use, as many as the memory holds at `SMM_RENDER_MEMORY_MB` each."
        ),
    )
    prerender_reports: bool = Field(
        default=True,
        description=(
            "Queue each submitted assessment's default roadmap report for rendering the moment "
            "it is submitted, so its first download is served from the cache."
        ),
    )
    job_backend: Literal["auto", "local", "procrastinate"] = Field(
        default="auto",
        description=(
            "Who renders report jobs: `local` (a pool inside each API process), "
            "`procrastinate` (a PostgreSQL queue consumed by `smm worker`), or `auto`: "
            "procrastinate on PostgreSQL, local otherwise."
        ),
    )
    render_recycle_jobs: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="Reports a worker's render process renders "
        "before it is replaced by a fresh one.",
    )
    job_max_attempts: int = Field(
        default=3, ge=1, le=20, description="Attempts at a report job before it is failed."
    )
    job_retry_seconds: int = Field(
        default=2, ge=0, le=60, description="Base of the exponential wait between attempts."
    )
    worker_heartbeat_seconds: float = Field(
        default=10, gt=0, le=600, description="How often `smm worker` says it is alive."
    )
    worker_stalled_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="Silence after which a worker counts as dead and its jobs go to another.",
    )

    database_wait_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description=(
            "How long a request waits for a database connection when all are in use (on "
            "SQLite there is one); then it is answered 503 with Retry-After, nothing stored."
        ),
    )
    benchmark_snapshot_hours: float = Field(
        default=24,
        ge=1,
        le=24 * 366,
        description=(
            "Age after which a peer group's benchmark snapshot is taken again; until then "
            "every benchmark of the group, new submissions included, reads the stored one."
        ),
    )
    idempotency_ttl_hours: int = Field(
        default=24,
        ge=24,
        le=24 * 365,
        description="Hours a response to a POST with an Idempotency-Key is kept for retries.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses of reverse proxies whose X-Forwarded-For the audit trail believes "
            '(JSON list, e.g. ["10.0.0.2"]); without them the peer address is recorded.'
        ),
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Signs invitation links, web sessions and CSRF tokens. When unset, one is made "
            "on first use and kept in `secret_key_file`, so links survive restarts."
        ),
    )
    secret_key_file: Path = Field(
        default=PROJECT_ROOT / "var" / "secret_key",
        description="Where the generated secret key is kept (mode 0600) without SMM_SECRET_KEY.",
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL of invitation links (e.g. https://assess.example.org); "
        "default: the URL the request came in on.",
    )
    invitation_days: int = Field(
        default=30, ge=1, le=365, description="Days an invitation link stays valid by default."
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "When the form's session cookie is `Secure`: `always` (behind a TLS proxy), "
            "`never` (plain http only, e.g. a closed test network), or `auto`: when the "
            "request is https as uvicorn sees it, through the proxies it trusts."
        ),
    )
    web_rate_limit: int = Field(
        default=120, ge=1, description="Requests per minute one client may make to one invitation."
    )
    web_rate_burst: int = Field(
        default=60, ge=1, description="Requests one client may make at once to one invitation."
    )
    sign_in_rate_limit: int = Field(
        default=10,
        ge=1,
        description=(
            "Console sign-in attempts per minute, counted both per account and per client "
            "address (besides the lock-out after 5 wrong passwords in a row)."
        ),
    )
    sign_in_rate_burst: int = Field(
        default=10, ge=1, description="Console sign-in attempts at once, per account and client."
    )

    report_rate_limit: int = Field(
        default=30,
        ge=1,
        description=(
            "Report renders and report jobs one API key may start per minute: `report.pdf` "
            "renders (not cache hits), `POST .../reports` and `POST /v1/reports/batch`."
        ),
    )
    report_rate_burst: int = Field(
        default=20, ge=1, description="Report renders and jobs one API key may start at once."
    )

    smtp_host: str | None = Field(
        default=None,
        description=(
            "SMTP server invitations are e-mailed through; unset, no e-mail is sent and "
            "each link is shown to copy."
        ),
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="The SMTP server's port.")
    smtp_username: str | None = Field(
        default=None, description="User name to log in to the SMTP server with (unset: no login)."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password to log in to the SMTP server with."
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description=(
            "`starttls` (plain connection upgraded with STARTTLS, refused if the server "
            "cannot), `tls` (TLS from the start, usually port 465) or `none` (a local relay)."
        ),
    )
    smtp_from: str | None = Field(
        default=None,
        description="The From address of invitation e-mails (required with smtp_host).",
    )
    smtp_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="Longest wait for each reply of the SMTP server."
    )
    email_max_attempts: int = Field(
        default=5, ge=1, le=50, description="Attempts at sending one e-mail before it is failed."
    )
    email_retry_seconds: float = Field(
        default=60,
        ge=0,
        le=86_400,
        description="Base of the exponential wait between attempts at sending an e-mail.",
    )

    @model_validator(mode="after")
    def _mail_needs_a_sender(self) -> Settings:
        if self.smtp_host is not None and not self.smtp_host.strip():
            self.smtp_host = None
        if self.smtp_host is not None and not self.smtp_from:
            raise ValueError("smtp_from is required when smtp_host is set")
        if self.smtp_from is not None:
            problem = email_address_problem(self.smtp_from)
            if problem is not None:
                raise ValueError(f"smtp_from: {problem}")
        return self

    @property
    def sends_email(self) -> bool:
        """Whether an SMTP server is configured, so invitations can be e-mailed."""
        return self.smtp_host is not None

    oidc_issuer: str | None = Field(
        default=None,
        description=(
            "Issuer URL of the organization's OpenID Connect provider (its discovery document "
            "is <issuer>/.well-known/openid-configuration); unset, OIDC sign-in is off."
        ),
    )
    oidc_client_id: str | None = Field(
        default=None, description="Client ID this service is registered under at the provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="Client secret that goes with oidc_client_id."
    )
    oidc_scopes: str = Field(
        default="openid email profile",
        description="Scopes asked for at sign-in, separated by spaces; must include openid.",
    )
    oidc_display_name: str = Field(
        default="Sign in with your organization",
        min_length=1,
        max_length=80,
        description='Label of the sign-in button, e.g. "Sign in with Okta".',
    )

    @model_validator(mode="after")
    def _queue_needs_postgresql(self) -> Settings:
        if self.job_backend == "procrastinate" and self.is_sqlite:
            raise ValueError("job_backend 'procrastinate' needs a PostgreSQL database_url")
        return self

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_client_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # SMM_OIDC_ISSUER= (empty, as compose files write it) means off, not a bad URL.
        return None if value == "" else value

    @model_validator(mode="after")
    def _oidc_is_complete_and_safe(self) -> Settings:
        if self.oidc_issuer is None:
            return self
        if not self.oidc_client_id:
            raise ValueError("oidc_issuer is set, so oidc_client_id must be set too")
        if self.oidc_client_secret is None or not self.oidc_client_secret.get_secret_value():
            raise ValueError("oidc_issuer is set, so oidc_client_secret must be set too")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("oidc_scopes must include 'openid'")
        _check_issuer(self.oidc_issuer)
        return self

    @property
    def oidc_enabled(self) -> bool:
        """Whether OpenID Connect sign-in is configured."""
        return self.oidc_issuer is not None

    def signing_key(self) -> bytes:
        """The secret key as bytes: SMM_SECRET_KEY, or the generated one in secret_key_file."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return _generated_key(self.secret_key_file)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def uses_job_queue(self) -> bool:
        """Whether report jobs go to the procrastinate queue rather than the local pool."""
        if self.job_backend == "auto":
            return self.database_url.startswith(("postgres://", "postgresql"))
        return self.job_backend == "procrastinate"


def is_secure_provider_url(url: str) -> bool:
    """Whether ``url`` may carry tokens and secrets: https, or plain http on loopback only.

    ID tokens and the client secret travel to the identity provider's endpoints; over plain
    http anyone on the path could read or forge them, so http is allowed only for a
    provider on this machine (a local test provider).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.fragment:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _is_loopback(host)


def _check_issuer(issuer: str) -> None:
    if not is_secure_provider_url(issuer) or urlsplit(issuer).query:
        raise ValueError(
            "oidc_issuer must be an https URL without query or fragment "
            "(plain http only for 127.0.0.1, localhost or ::1)"
        )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _generated_key(path: Path) -> bytes:
    """Read the key at ``path``, creating it (0600, exclusively) on first use."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_urlsafe(48).encode())
    return path.read_bytes().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
