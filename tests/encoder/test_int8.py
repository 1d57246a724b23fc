"""The int8 path of the fine-tuned encoders: calibrated, close to float32, traced, chosen by `auto`
where bf16 is not native, and overridable."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from tests.judges.test_cross import CLEAR_PROMPTS, CLEAR_RESPONSES
from xiezhi.encoder import load_e5_encoder
from xiezhi.encoder.cpu import bf16_is_fast, int8_available
from xiezhi.encoder.int8 import PREFIX, int8_layer
from xiezhi.encoder.model import LINEARS, linear
from xiezhi.encoder.tuned import PRECISION_ENV, TunedEncoder, read_npz, resolve_precision
from xiezhi.types import XiezhiError

needs_int8 = pytest.mark.skipif(not int8_available(), reason="int8 needs an x86-64 CPU with AVX2")


def test_auto_picks_bf16_then_int8_and_the_environment_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    expected = "bf16" if bf16_is_fast() else "int8" if int8_available() else "fp32"
    assert resolve_precision("auto") == expected
    monkeypatch.setenv(PRECISION_ENV, "fp32")
    assert resolve_precision("auto") == "fp32"
    assert resolve_precision("bf16") == "bf16"  # an explicit choice is not overridden
    monkeypatch.setenv(PRECISION_ENV, " FP32 ")
    assert resolve_precision("auto") == "fp32"
    monkeypatch.setenv(PRECISION_ENV, "fp8")
    with pytest.raises(XiezhiError, match=PRECISION_ENV):
        resolve_precision("auto")


@pytest.mark.parametrize(("package", "filename"), [("xiezhi.judges", "cross_encoder.npz"),
                                                   ("xiezhi.guard.scanners", "guard_encoder.npz")])
def test_shipped_encoders_carry_their_int8_calibration(package: str, filename: str) -> None:
    z = read_npz(package, filename, "the trainer")
    hidden = load_e5_encoder().hidden
    for i in range(12):
        for name, (_, n_in) in LINEARS.items():
            ranges = z[f"{PREFIX}l{i}.{name}"]
            assert ranges.shape == (n_in * hidden,)
            assert np.isfinite(ranges).all() and (ranges > 0).all()


@needs_int8
def test_an_int8_layer_computes_what_the_float_layer_does() -> None:
    enc = load_e5_encoder()
    torch = enc.torch
    z = read_npz("xiezhi.judges", "cross_encoder.npz", "the trainer")
    base = enc.base_layer(3)
    q8 = int8_layer(torch, base, z, 3)
    x = enc.embed(enc.batch(enc.tokenizer.ids(["query: 怎么做蛋糕？", "passage: Mix flour, eggs and sugar."]))[0])
    f32 = {k: torch.from_numpy(v) for k, v in base.items()}
    h = enc.hidden
    fused = linear(q8, "qkv", x)  # q, k and v run as one int8 map
    for name, want, got in (("q", linear(f32, "q", x), fused[..., :h]), ("v", linear(f32, "v", x), fused[..., 2 * h:]),
                            ("fi", linear(f32, "fi", x), linear(q8, "fi", x))):
        assert float((want - got).abs().max()) < 0.05 * float(want.abs().max()), name
    mask = torch.ones(x.shape[:2])
    want, got = enc.layer(f32, x, mask), enc.layer(q8, x, mask)
    assert float((want - got).abs().mean()) < 0.05


@needs_int8
@pytest.mark.slow
def test_int8_judge_encoder_agrees_with_float32_and_runs_traced() -> None:
    from xiezhi.judges.cross import load_cross_head

    prompts, responses = CLEAR_PROMPTS, CLEAR_RESPONSES
    head = load_cross_head("int8")
    assert head.precision == "int8"
    z8 = head.logits(prompts, responses)
    # the int8 modules belong to the traced module, so tracing works (unless the environment turns it off)
    assert head.tuned.traced or os.environ.get("XIEZHI_ENCODER_TRACE") == "0"
    z32 = load_cross_head("fp32").logits(prompts, responses)
    assert np.allclose(z8, z32, atol=0.5) and ((z8 > 0) == (z32 > 0)).all()
    # activations are quantised per batch, so a row's logit depends a little on its neighbours
    alone = [float(head.logits([p], [r])[0]) for p, r in zip(prompts, responses, strict=True)]
    assert np.allclose(z8, alone, atol=0.5)


@needs_int8
def test_weights_without_calibration_run_float32(caplog: pytest.LogCaptureFixture) -> None:
    enc = load_e5_encoder()
    z = {k: v for k, v in read_npz("xiezhi.judges", "cross_encoder.npz", "the trainer").items()
         if not k.startswith(PREFIX) and k != "meta"}
    with caplog.at_level(logging.WARNING):
        tuned = TunedEncoder(enc, z, 6, "int8", "test weights")
    assert tuned.precision == "fp32"
    assert "no int8 calibration" in caplog.text
    assert not any(k.endswith(".q8") for k in tuned.layers[0])
    caplog.clear()
    z["int8.l0.q"] = np.ones(7, dtype=np.float16)  # one range, of the wrong shape
    with caplog.at_level(logging.WARNING):
        assert TunedEncoder(enc, z, 6, "int8", "test weights").precision == "fp32"
    assert "int8.l0.q has shape (7,)" in caplog.text
