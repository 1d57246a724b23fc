"""PII and secrets scanners: positives caught with validation, negatives passed, redaction."""

from __future__ import annotations

import pytest

from xiezhi.guard.scanners.base import ScanContext
from xiezhi.guard.scanners.pii import PIIScanner, cn_id_valid, luhn_valid
from xiezhi.guard.scanners.secrets import SecretsScanner

CTX = ScanContext()
VALID_ID = "11010519491231002X"  # check digit X is correct for this number
INVALID_ID = "110105194912310021"  # same number, wrong check digit


def test_cn_id_checksum() -> None:
    assert cn_id_valid(VALID_ID)
    assert not cn_id_valid(INVALID_ID)
    assert not cn_id_valid("11010519491331002X")  # month 13


def test_luhn() -> None:
    assert luhn_valid("4111 1111 1111 1111")
    assert luhn_valid("6222021234567890120") is luhn_valid("6222021234567890120")  # deterministic
    assert not luhn_valid("4111 1111 1111 1112")


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        (f"我的身份证号是{VALID_ID}", "CN_ID"),
        ("card: 4111-1111-1111-1111", "CARD"),
        ("请打我手机 138 0013 8000", "CN_MOBILE"),
        ("mail me at alice.smith@example.com", "EMAIL"),
        ("SSN 123-45-6789", "US_SSN"),
        ("call +1 (415) 555-0132 tomorrow", "PHONE"),
    ],
)
def test_pii_positive_and_redacted(text: str, entity: str) -> None:
    res = PIIScanner().scan(text, CTX)
    assert res.risk >= 0.6
    assert res.sanitized is not None and f"[{entity}]" in res.sanitized


@pytest.mark.parametrize(
    "text",
    [
        f"编号{INVALID_ID}",  # wrong check digit: not an ID
        "order 4111 1111 1111 1112 shipped",  # fails Luhn
        "The meeting is at 10:30 on 2024-05-01, room 305.",
        "我买了3斤苹果，花了25元。",
    ],
)
def test_pii_negative(text: str) -> None:
    assert PIIScanner().scan(text, CTX).risk == 0.0


def test_pii_entity_selection() -> None:
    with pytest.raises(ValueError, match="unknown pii entities"):
        PIIScanner(entities=["passport"])
    only_email = PIIScanner(entities=["email"])
    assert only_email.scan("4111 1111 1111 1111", CTX).risk == 0.0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("key = sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "OPENAI_KEY"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "AWS_ACCESS_KEY"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "GITHUB_TOKEN"),
        ("HF hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "HF_TOKEN"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----", "PRIVATE_KEY"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JWT"),
        ("password: Xk9#mQ2vL8pR4tW7zB1n", "HIGH_ENTROPY_TOKEN"),
    ],
)
def test_secrets_positive(text: str, kind: str) -> None:
    res = SecretsScanner().scan(text, CTX)
    assert res.risk >= 0.7
    assert res.sanitized is not None and f"[{kind}]" in res.sanitized
    assert all("sk-proj" not in r and "AKIA" not in r for r in res.reasons)  # never echo the secret


@pytest.mark.parametrize(
    "text",
    ["How do I store API keys safely?", "the sk-8 ski model", "password: hunter", "我的密码忘了怎么办"],
)
def test_secrets_negative(text: str) -> None:
    assert SecretsScanner().scan(text, CTX).risk == 0.0
