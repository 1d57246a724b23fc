"""Settings of the guard proxy (explicit: the CLI fills them from flags and env variables)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, field_validator


class ProxySettings(BaseModel):
    """Where the upstream is, which policy guards it, and how the proxy behaves.

    `upstream` is the OpenAI base URL (``http://host:port/v1``; a bare ``http://host:port``
    gets ``/v1``). `upstream_key` is sent to the upstream as a bearer token and never
    logged or echoed. Streamed output is released only after the guard has seen it, minus
    a hold-back window of `holdback_chars` (so a blocked phrase up to that long never
    reaches the client even in part); the text is re-checked every `scan_every_chars`
    new characters (or every quarter of the text so far, whichever is more). Input checks of
    texts up to `inline_guard_chars` run on the event loop (well under a millisecond each);
    longer inputs and all output checks run in a pool of `guard_threads` threads.
    """

    upstream: str
    policy: str | None = None
    client_keys: list[str] = Field(default_factory=list, repr=False)
    upstream_key: SecretStr | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=256, ge=1)
    guard_threads: int = Field(default=4, ge=1, le=64)
    torch_threads: int = Field(default=1, ge=0, le=64)
    """Compute threads of each torch call (the guard encoder, the judge's cross-encoder): the pool
    already runs checks side by side, and two threads per call on top oversubscribe a small box
    (0: torch's default)."""
    inline_guard_chars: int = Field(default=2000, ge=0)
    holdback_chars: int = Field(default=64, ge=0)
    scan_every_chars: int = Field(default=64, ge=1)
    check_output: bool = True
    warmup: bool = True
    upstream_key_env: str | None = None
    client_keys_env: str | None = None

    def with_env_secrets(self) -> ProxySettings:
        """A copy with the keys read from the environment variables named in `*_env` (for worker
        processes, which get the settings as JSON without the secrets themselves)."""
        import os

        update: dict[str, object] = {}
        if self.upstream_key_env and self.upstream_key is None and os.environ.get(self.upstream_key_env):
            update["upstream_key"] = SecretStr(os.environ[self.upstream_key_env].strip())
        if self.client_keys_env and not self.client_keys:
            raw = os.environ.get(self.client_keys_env, "")
            update["client_keys"] = [k.strip() for k in raw.split(",") if k.strip()]
        return self.model_copy(update=update)

    @field_validator("upstream")
    @classmethod
    def _base_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"upstream must be an http(s) URL like http://127.0.0.1:8000/v1, not {v!r}")
        if not parts.path:
            v = f"{v}/v1"
        return v

    @property
    def upstream_display(self) -> str:
        """The upstream URL without any user:password part (safe to log)."""
        parts = urlsplit(self.upstream)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
