"""`secrets`: credentials in a prompt or a response — API keys (OpenAI ``sk-``, AWS ``AKIA``,
GitHub ``ghp_``, Hugging Face ``hf_``, Slack, Google), private key blocks, JWTs, and generic
high-entropy tokens after a key-like word. Findings are never echoed in reasons.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from xiezhi.guard.scanners.base import ScanContext, ScanResult
from xiezhi.guard.scanners.common import BaseScanner
from xiezhi.registry import register

# Literal prefixes each pattern needs (a cheap prefilter before the regex).
PREFIX: dict[str, tuple[str, ...]] = {
    "private_key": ("PRIVATE KEY",), "openai_key": ("sk-",), "aws_access_key": ("AKIA", "ASIA"),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), "hf_token": ("hf_",),
    "slack_token": ("xox",), "google_api_key": ("AIza",), "jwt": ("eyJ",),
}
_ASSIGN_KEYS = ("api", "key", "secret", "token", "passw", "pwd", "auth", "bearer", "密钥", "口令", "密码")
PATTERNS: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                               r"(?:-----END (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----|$)"), 1.0),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"), 0.95),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0.95),
    ("github_token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}"), 0.95),
    ("hf_token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), 0.95),
    ("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), 0.9),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), 0.9),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), 0.85),
)
_ASSIGNED = re.compile(
    r"(?i)(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|auth|bearer|密钥|口令|密码)"
    r"[\"']?\s*(?:[:=]|is|为|是|：)?\s*[\"']?(?P<tok>[A-Za-z0-9_\-+/=.!@#$%^&*~]{16,})"
)


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _high_entropy(tok: str) -> bool:
    classes = sum(bool(re.search(p, tok)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return len(tok) >= 16 and classes >= 2 and entropy(tok) >= 3.5


@register("scanner", "secrets", stages=("input", "output"))
class SecretsScanner(BaseScanner):
    """API keys, private keys, JWTs and high-entropy tokens; redaction masks them."""

    name = "secrets"

    def __init__(self, generic: bool = True) -> None:
        self.generic = generic

    def scan(self, text: str, context: ScanContext) -> ScanResult:
        spans: list[tuple[int, int, str, float]] = []
        for kind, pat, risk in PATTERNS:
            if not any(p in text for p in PREFIX[kind]):
                continue
            for m in pat.finditer(text):
                if not any(m.start() < e and s < m.end() for s, e, _, _ in spans):
                    spans.append((m.start(), m.end(), kind, risk))
        low = text.lower()
        if self.generic and any(k in low for k in _ASSIGN_KEYS):
            for m in _ASSIGNED.finditer(text):
                s, e = m.span("tok")
                if _high_entropy(m.group("tok")) and not any(s < e2 and s2 < e for s2, e2, _, _ in spans):
                    spans.append((s, e, "high_entropy_token", 0.7))
        if not spans:
            return self.result(0.0)
        spans.sort()
        out, last = [], 0
        for s, e, kind, _ in spans:
            out += [text[last:s], f"[{kind.upper()}]"]
            last = e
        out.append(text[last:])
        kinds = sorted({k for _, _, k, _ in spans})
        return self.result(max(r for *_, r in spans), [f"{k} found" for k in kinds], sanitized="".join(out))
