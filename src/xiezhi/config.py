"""Settings from defaults < ``xiezhi.yaml`` < ``XIEZHI_*`` environment < CLI flags.

`load_settings` returns one explicit `Settings` object that callers pass along; nothing
reads configuration from module state.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xiezhi.fileio import read_yaml
from xiezhi.types import XiezhiError

CONFIG_FILE = "xiezhi.yaml"
ENV_PREFIX = "XIEZHI_"
SECRET_KEY_PATTERN = re.compile(
    r"(api[_-]?key|secret|password|passwd|authorization|bearer|(access|auth|bearer|refresh|api)[_-]?token|^token$)",
    re.I,
)
REDACTED = "***"


class ConfigError(XiezhiError):
    """The configuration file or a setting is malformed."""


class Settings(BaseModel):
    """Everything a scan needs to know; stored (redacted) with every run."""

    model_config = ConfigDict(extra="forbid")

    db: str = "sqlite:///xiezhi.db"
    target: str = "smollm2"
    judge: str = "embedded"
    seeds: str | None = None
    seed_format: str | None = None
    limit: int | None = Field(default=None, ge=1)
    tiers: list[str] = Field(default_factory=lambda: ["entry"])
    concurrency: int = Field(default=8, ge=1, le=1024)
    batch_size: int = Field(default=8, ge=1, le=256)
    max_tokens: int = Field(default=128, ge=1, le=32768)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    seed: int = 0
    timeout_s: float = Field(default=60.0, gt=0)
    retries: int = Field(default=3, ge=0, le=20)
    api_key_env: str = "OPENAI_API_KEY"
    langs: list[str] = Field(default_factory=lambda: ["zh", "en"])
    include_benign: bool = True
    system_prompt: str | None = None


def _coerce_env(value: str) -> Any:
    """Environment values are strings; lists are comma-separated."""
    if "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def read_config_file(path: Path) -> dict[str, Any]:
    data = read_yaml(path, ConfigError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}")
    return data


def load_settings(
    flags: Mapping[str, Any] | None = None,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers; CLI `flags` whose value is None are treated as not given."""
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    path = config_path
    if path is None and (Path.cwd() / CONFIG_FILE).exists():
        path = Path.cwd() / CONFIG_FILE
    elif path is not None and not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path is not None:
        merged.update(read_config_file(path))
    fields = Settings.model_fields
    for key, value in env.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):].lower()
            if name in fields:
                merged[name] = _coerce_env(value)
    for key, value in (flags or {}).items():
        if value is not None:
            merged[key] = value
    try:
        return Settings(**merged)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "settings"
        src = f"{path}: " if path else ""
        raise ConfigError(f"{src}setting {loc!r}: {err['msg']}") from None


VERBATIM_KEYS = frozenset({"system_prompt"})
"""Settings stored as written: a resumed scan rebuilds its settings from the stored copy, so a
system prompt must not come back with words masked."""


def redact(value: Any) -> Any:
    """Copy of `value` with secret-looking keys and URL credentials masked."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if SECRET_KEY_PATTERN.search(str(k)) and not str(k).endswith("_env")
                else v if k in VERBATIM_KEYS else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


_URL_CRED = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<cred>(?:(?![/?#])[!-~])*)@", re.I)
"""``scheme://user:pass@``: up to the last ``@`` of the authority (a password may hold one; the
user may be empty)."""
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_-]{8,}|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}"
                       r"|AIza[0-9A-Za-z_-]{20,}|gsk_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
                       r"|glpat-[A-Za-z0-9_-]{20,})")


_QUERY_SECRET = re.compile(r"((?<=[?&#;])(?:[\w.-]*(?:key|token|secret|password|passwd|pwd|sig|signature|auth|"
                           r"credential)s?|code)=)[^&#\s]{6,}", re.I)
"""A secret in a URL's query or fragment (``?api-key=...``, ``#access_token=...``); not prose
("max_tokens=256", "exit code=1")."""
_BEARER = re.compile(r"\b(bearer|(?<=authorization: )basic|(?<=authorization: )token|(?<=authorization: )apikey)"
                     r"\s+[A-Za-z0-9._~+/=-]{6,}", re.I)
_SECRET_NAME = (r"(?:(?<![A-Za-z0-9])|(?-i:(?<=[a-z])(?=[A-Z])))"  # a word start, or camelCase (openaiApiKey)
                r"(?:x-)?(?:api[-_]?key|(?:auth|access|refresh|bearer|id)[-_]?token|client[-_]?secret|private[-_]?key"
                r"|(?:aws[-_]?)?secret(?:[-_]?access)?(?:[-_]?key)?|subscription[-_]?key|password|passwd|pwd"
                r"|(?:[A-Za-z0-9]+[-_])?token)")
_KEY_HEADER = re.compile(
    rf"""({_SECRET_NAME}["'\]]{{0,2}}[ \t]*(?:=>|[:=：＝])[ \t]*)"""
    r"""(?:"(?P<dq>(?:[^"\\\n]|\\.)+)"|'(?P<sq>(?:[^'\\\n]|\\.)+)'|`(?P<bq>[^`\n]+)`"""
    r"""|(?P<bare>(?=[^\s&#"',;}\])]*[0-9])[^\s&#"',;}\])]{6,}|[^\s&#"',;}\])]{16,}))""", re.I)
"""A secret-named field with its value: an HTTP header (``x-api-key: ...``), JSON (``"api_key": "..."``),
YAML, PHP/Ruby (``'api_key' => '...'``) or an assignment (``API_KEY=...``), as an upstream's error
message may echo it. A quoted value is masked whole; an unquoted one when it looks like a secret
(six characters with a digit, or sixteen), so prose and code stay (``api_key: str``, ``token: expired``).
Spaces and tabs only around the separator: the next line is never taken for the value."""
_AUTH = re.compile(r"""(authorization["']?[ \t]*[:=：][ \t]*["']?(?:(?:basic|token|apikey|bearer)[ \t]+)?)"""
                   r"(?!(?:basic|token|apikey|bearer)\b)[A-Za-z0-9._~+/=-]{6,}", re.I)
"""An ``Authorization`` header's credentials in any spelling (a header line, a JSON or dict repr)."""
_PROVIDED = re.compile(r"""(api key provided:[ \t]*)[^\s.,"'}]{6,}""", re.I)
"""OpenAI's "Incorrect API key provided: ..." echoes a key that has no ``sk-`` shape as it is."""


def _mask_field(m: re.Match[str]) -> str:
    for group, quote in (("dq", '"'), ("sq", "'"), ("bq", "`")):
        if m.group(group) is not None:
            return f"{m.group(1)}{quote}{REDACTED}{quote}"
    return f"{m.group(1)}{REDACTED}"


def redact_text(text: str) -> str:
    """Mask credentials embedded in URLs (``user:pass@``, ``?api-key=``), ``Bearer`` tokens and
    well-known API-key shapes."""
    text = _URL_CRED.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _AUTH.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _KEY_HEADER.sub(_mask_field, text)
    text = _PROVIDED.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _KEY_LIKE.sub(REDACTED, text)
