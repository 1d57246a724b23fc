"""Load and validate a guard policy YAML file; errors name the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xiezhi.fileio import read_yaml
from xiezhi.guard.decision import DEFAULT_REFUSALS
from xiezhi.types import XiezhiError

POLICY_DIR = Path(__file__).resolve().parent


class PolicyError(XiezhiError):
    """A policy file is missing or malformed."""


class PolicyEntry(BaseModel):
    """One scanner in a stage: when it fires (threshold) and what then happens (action)."""

    model_config = ConfigDict(extra="forbid")

    scanner: str
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    action: Literal["block", "redact", "flag"] = "block"
    options: dict[str, Any] = Field(default_factory=dict)
    informational: bool = False
    label: str | None = None

    @property
    def name(self) -> str:
        """The name reported in decisions (label, else the scanner name)."""
        return self.label or self.scanner


class Policy(BaseModel):
    """A validated policy: ordered scanners for each stage plus refusal messages."""

    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    description: str = ""
    version: int = 1
    fail_closed: bool = True
    refusal: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_REFUSALS))
    input: list[PolicyEntry] = Field(default_factory=list)
    output: list[PolicyEntry] = Field(default_factory=list)
    source: str = ""


def shipped_policies() -> list[str]:
    """Names of the policies that ship with xiezhi."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))


def _resolve(path_or_name: str | Path | None) -> Path:
    if path_or_name is None:
        return POLICY_DIR / "default.yaml"
    text = str(path_or_name)
    if "/" not in text and "\\" not in text and not text.endswith((".yaml", ".yml")):
        shipped = POLICY_DIR / f"{text}.yaml"
        if shipped.exists():
            return shipped
        raise PolicyError(
            f"unknown policy {text!r}; shipped policies: {', '.join(shipped_policies())} (or give a YAML path)"
        )
    path = Path(text)
    if not path.exists():
        raise PolicyError(f"{path}: policy file not found")
    return path


def _check_scanners(policy: Policy, where: str) -> None:
    from xiezhi.registry import registry

    known = set(registry.names("scanner"))
    for stage in ("input", "output"):
        for i, entry in enumerate(getattr(policy, stage)):
            if entry.scanner not in known:
                raise PolicyError(
                    f"{where}: {stage}[{i}].scanner: unknown scanner {entry.scanner!r}; "
                    f"known scanners: {', '.join(sorted(known)) or 'none'}"
                )


def parse_policy(data: Any, where: str = "<policy>", check_scanners: bool = True) -> Policy:
    """Validate an already-parsed mapping as a policy."""
    if not isinstance(data, dict):
        raise PolicyError(f"{where}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        policy = Policy(**data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "policy"
        raise PolicyError(f"{where}: {loc}: {err['msg']}") from None
    policy.source = where
    if not policy.input and not policy.output:
        raise PolicyError(f"{where}: input/output: the policy lists no scanners")
    if check_scanners:
        _check_scanners(policy, where)
    return policy


def load_policy(path_or_name: str | Path | None = None, check_scanners: bool = True) -> Policy:
    """Load a shipped policy by name (None -> ``default``) or a policy YAML file by path."""
    path = _resolve(path_or_name)
    data = read_yaml(path, PolicyError)
    if data is None:
        raise PolicyError(f"{path}: the policy file is empty")
    return parse_policy(data, str(path), check_scanners)
