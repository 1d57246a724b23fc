"""Settings layering (file < env < flags), clear errors, secret redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from xiezhi.config import ConfigError, load_settings, redact, redact_text


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "xiezhi.yaml"
    cfg.write_text("target: openai:a@http://h/v1\nlimit: 5\nconcurrency: 3\n", encoding="utf-8")
    env = {"XIEZHI_LIMIT": "7", "XIEZHI_LANGS": "zh,en", "OTHER": "x"}
    s = load_settings({"concurrency": 9, "judge": None}, config_path=cfg, environ=env)
    assert s.target == "openai:a@http://h/v1"  # from file
    assert s.limit == 7  # env beats file
    assert s.concurrency == 9  # flag beats file
    assert s.langs == ["zh", "en"]
    assert s.judge == "refusal" or s.judge == "embedded"  # default kept when flag is None


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("target: [unclosed\n", "line"),
        ("- just\n- a list\n", "mapping"),
        ("concurrency: lots\n", "concurrency"),
        ("no_such_setting: 1\n", "no_such_setting"),
    ],
)
def test_malformed_file_is_one_clear_line(tmp_path: Path, content: str, needle: str) -> None:
    cfg = tmp_path / "xiezhi.yaml"
    cfg.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_settings(config_path=cfg, environ={})
    msg = str(e.value)
    assert "\n" not in msg and needle in msg and str(cfg) in msg


def test_invalid_utf8_config(tmp_path: Path) -> None:
    cfg = tmp_path / "xiezhi.yaml"
    cfg.write_bytes(b"target: \xff\xfe\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_settings(config_path=cfg, environ={})


def test_redaction_masks_secrets_but_keeps_settings() -> None:
    data = {"api_key": "sk-abcdefghijklmnop", "max_tokens": 128, "api_key_env": "OPENAI_API_KEY",
            "db": "postgresql://user:hunter2@db/x", "note": "key sk-abcdefghijklmnopqrst here"}
    out = redact(data)
    assert out["api_key"] == "***" and out["max_tokens"] == 128 and out["api_key_env"] == "OPENAI_API_KEY"
    assert "hunter2" not in out["db"] and "sk-abc" not in out["note"]
    assert redact_text("https://u:p@host/v1") == "https://***@host/v1"


def test_redaction_masks_query_keys_and_bearer_tokens() -> None:
    assert redact_text("https://gw/v1?api-key=abc123&x=1") == "https://gw/v1?api-key=***&x=1"
    assert redact_text("from Bearer tok_abcdefgh12345") == "from Bearer ***"
    assert redact_text("https://gw/v1?page=2") == "https://gw/v1?page=2"
    assert redact_text("postgresql://:s3cretpw@db/x") == "postgresql://***@db/x"  # no user name
    assert redact_text("https://user:p@ss@host/v1") == "https://***@host/v1"  # an @ in the password
    assert redact_text("https://h/v1?subscription-key=A1B2C3&x=1") == "https://h/v1?subscription-key=***&x=1"
    assert redact_text("https://h/cb#client_secret=QQ12345 x-api-key: KKK12345") == "https://h/cb#client_secret=*** x-api-key: ***"
    assert redact_text("https://h/v1?keyword=cats") == "https://h/v1?keyword=cats"
    # prose and settings are not secrets
    for text in ("max_tokens=256", "exit code=1", "the token budget", "basic ingredients matter", "an API key: see docs",
                 "访问 https://example.com。联系我们：admin@example.com"):
        assert redact_text(text) == text
    assert redact({"system_prompt": "use max_tokens=5 and Token limits"})["system_prompt"] == \
        "use max_tokens=5 and Token limits"


def test_the_store_keeps_no_credentials_from_error_texts_or_target_urls(tmp_path: Path) -> None:
    from tests.report.factory import attempt, run

    from xiezhi.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    store.create_run(run("r1", target="openai:m@https://gw.example.com/v1?api-key=QUERYSECRET42"))
    store.save_attempts([attempt(0, label=None, error="HTTP 400 bad request from Bearer sk-LEAKEDKEY-123456789")])
    store.close()
    raw = (tmp_path / "x.db").read_bytes()
    assert b"QUERYSECRET42" not in raw and b"LEAKEDKEY" not in raw
    again = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert again.attempts("r1")[0].error == "HTTP 400 bad request from Bearer ***"
    again.close()


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ConfigError, match="limit"):
        load_settings(flags={"limit": limit}, environ={})


def test_a_file_that_is_not_a_database_is_named_as_such(tmp_path: Path) -> None:
    from xiezhi.store import open_store
    from xiezhi.types import XiezhiError

    f = tmp_path / "notes.db"
    f.write_text("my notes, not a database\n" * 100, encoding="utf-8")
    with pytest.raises(XiezhiError, match="file is not a database"):
        open_store(f"sqlite:///{f}")


LEAKS = [
    ('{"api_key": "abcd1234efgh", "model": "m"}', "abcd1234efgh"),
    ('{"api_key" : "abcd 1234,ef}gh"}', "1234"),  # a quoted value is masked whole
    ('{"api_key": "ab\\"cd1234"}', "cd1234"),  # an escaped quote inside it
    ("api_key: plainsecret99\nmodel: m", "plainsecret99"),
    ("OPENAI_API_KEY=zzz12345 python run.py", "zzz12345"),
    ("export OPENAI_API_KEY='zzz12345'", "zzz12345"),
    ("{'client_secret': 'q1w2e3r4'}", "q1w2e3r4"),
    ('{"accessToken":"abcd1234efgh"}', "abcd1234efgh"),
    ("openaiApiKey: abcd1234efgh", "abcd1234efgh"),
    ("'api_key' => 'abcd1234efgh'", "abcd1234efgh"),
    ("$config['api_key'] = 'abcd1234efgh';", "abcd1234efgh"),
    ("DB_PASSWORD=hunter2hunter2", "hunter2hunter2"),
    ("HF_TOKEN=abcdefgh1234", "abcdefgh1234"),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("{'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "dXNlcjpwYXNzd29yZA"),
    ("Authorization:Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ("api_key：abc123defg", "abc123defg"),  # full-width separators (Chinese gateways)
    ("api_key＝abc123defg", "abc123defg"),
    ('{"error":{"message":"Incorrect API key provided: abcd1234efgh."}}', "abcd1234efgh"),
]


@pytest.mark.parametrize(("text", "secret"), LEAKS)
def test_redaction_masks_secret_fields_in_error_text(text: str, secret: str) -> None:
    """An upstream's error may echo its configuration as JSON, YAML, a dict repr or an environment line."""
    masked = redact_text(text)
    assert secret not in masked and "***" in masked


@pytest.mark.parametrize("text", [
    "def call(api_key: str, model: str) -> None:",
    "client = OpenAI(api_key=os.environ['OPENAI_API_KEY'])",
    "Error: field 'api_key': field required",
    "access_token: expired, please log in again",
    "x-api-key: header is required",
    "API_KEY=\nMODEL=gpt",  # the next line is never taken for an empty value
    "api_key: <your key here>",
    "获取 api_key：在控制台创建",
])
def test_redaction_leaves_prose_and_code_about_keys(text: str) -> None:
    assert redact_text(text) == text
