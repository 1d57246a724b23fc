"""Parse judge options written after the judge name: ``k=v,k=v`` or ``?k=v&k=v``."""

from __future__ import annotations

from xiezhi.types import XiezhiError


def split_query(arg: str) -> tuple[str, str]:
    """``"openai:m@http://h/v1?template=x"`` -> (``"openai:m@http://h/v1"``, ``"template=x"``)."""
    body, sep, query = arg.rpartition("?")
    return (body, query) if sep else (arg, "")


def parse_options(arg: str | None, defaults: dict[str, str]) -> dict[str, str]:
    """Options over `defaults`; an unknown key is a user error naming the known ones."""
    out = dict(defaults)
    text = (arg or "").lstrip("?")
    for part in text.replace("&", ",").split(","):
        if not part.strip():
            continue
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise XiezhiError(f"judge option {part.strip()!r} not understood; options are: {known} (as key=value)")
        out[key] = value.strip()
    return out
