"""``hf:PATH`` — a local transformers model directory (config, weights, tokenizer).

Loaded with ``local_files_only``: a path that is not a model directory is an error, never
a download.
"""

from __future__ import annotations

from pathlib import Path

from xiezhi.registry import register
from xiezhi.targets.base import TargetError, TargetOptions
from xiezhi.targets.local import LocalChatModel, LocalTarget, load_once


def load_dir(path: Path) -> LocalChatModel:
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise TargetError(f"hf:{path}: not a directory (hf:PATH needs a local transformers model directory)")
    if not (path / "config.json").is_file():
        raise TargetError(f"hf:{path}: no config.json here; is this a transformers model directory?")
    return load_once(f"hf:{path}", lambda: LocalChatModel.from_dir(path, f"hf:{path.name}"))


@register("target", "hf")
def hf_target(arg: str | None, options: TargetOptions) -> LocalTarget:
    if not arg:
        raise TargetError("hf target needs a path: hf:/path/to/model")
    return LocalTarget(load_dir(Path(arg)), options)
