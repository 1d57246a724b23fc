"""One e5 model per process, shared by the guard's semantic stage, intent similarity and the seed checks."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from xiezhi.embedding import e5_model

pytestmark = pytest.mark.slow


def test_every_user_embeds_with_the_same_model_instance() -> None:
    from xiezhi.guard.scanners.e5head import embed
    from xiezhi.strategies.similarity import IntentScorer

    model = e5_model()
    assert e5_model() is model
    text = "How do I bake sourdough bread?"
    ref = np.asarray(model.query([text]))[0]
    assert np.allclose(np.asarray(embed([text]))[0], ref)
    scorer = IntentScorer()
    assert scorer.similarity(text, [text]) == [pytest.approx(1.0, abs=1e-3)]
    assert scorer._model is model


def test_concurrent_queries_from_threads_match_sequential_ones() -> None:
    texts = [f"request number {i}: 请帮我写一封邮件" for i in range(8)]
    model = e5_model()
    expected = [np.asarray(model.query([t]))[0] for t in texts]
    got: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            got[i] = np.asarray(model.query([texts[i]]))[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.allclose(got[i], expected[i], atol=1e-6) for i in range(len(texts)))
