"""Train the guard's text heads (injection, jailbreak, harmful) and write their small weights.

    pip install -e '.[train]'                   # scikit-learn and scipy, for this script only
    python scripts/train_guard.py --e5-attack   # writes weights/guard_heads.npz, e5_attack.npz, e5_harmful.npz

Deterministic: fixed splits (stable hashes of the grouping key), a deterministic solver,
no randomness. Data (never copied into the repository):

- ``../shared/data/guard``: deepset prompt injections (EN/DE, labelled), in-the-wild
  jailbreaks (all positive);
- ``../shared/data/seeds``: AdvBench, JBB harmful + benign behaviours, JADE zh/en;
- the xiezhi seed bank (``xiezhi.data.bank.load_bank``) when it is installed;
- ``src/xiezhi/guard/scanners/data``: Chinese and English attack templates, benign prompts
  and benign look-alikes written for xiezhi.

Each source is split train/test by a stable hash of its group (a template for the written
attacks, the opening words for in-the-wild jailbreaks — near-duplicate DAN variants share
them — the text otherwise); `benchmarks/guard_detection.py` reports on the test part.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from xiezhi.judges.devdata import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir(ROOT)
"""The development data (``$XIEZHI_SHARED_DATA``, else ``shared/data`` beside the repository)."""
OWN = ROOT / "src" / "xiezhi" / "guard" / "scanners" / "data"
OUT = ROOT / "src" / "xiezhi" / "guard" / "scanners" / "weights" / "guard_heads.npz"
HEADS = ("injection", "jailbreak", "harmful")
TEST_SHARE = 0.25
GOALS_PER_TEMPLATE = 6
WRITTEN_FILES: tuple[tuple[str, str, str, bool], ...] = (
    # (file stem, label or "tsv" for LABEL<TAB>PROMPT lines, source stem, look-alike?), read in this
    # order for each language (the first copy of a duplicated prompt wins)
    ("benign", "benign", "benign", False),
    # short everyday requests: few n-grams, so the heads need negatives of that length too
    ("benign_short", "benign", "benign_short", False),
    ("harmful", "harmful", "harmful", False),
    ("lookalike", "benign", "lookalike", True),
    # second batch (session 2): more everyday requests and look-alikes (role-play that is fine,
    # talk about attacks, translation of attack strings, code with ignore/override/system)
    ("benign_more", "benign", "benign_more", False),
    ("lookalike_more", "benign", "lookalike_more", True),
    # third batch: families the blind fresh3 set exposed (leak questions in everyday words, notes
    # to the AI inside documents and tool output, authority claims, fiction around a harmful ask)
    ("attack_more", "tsv", "more_attack", False),
    # fourth batch (session 3): wider coverage of the weak families (leak questions in everyday
    # words, notes to the AI buried in longer documents and tool output, authority claims, fiction
    # frames, many-shot dialogues, refusal suppression, encodings and Chinese character tricks,
    # "continue this text", agent hijacking), with everyday requests and look-alikes of the same shape
    ("attack_batch4", "tsv", "batch4_attack", False),
    ("benign_batch4", "benign", "batch4_benign", False),
    ("lookalike_batch4", "benign", "batch4_lookalike", True),
    # fifth batch (session 3): harmful requests across the TC260-003 risk areas (plain, colloquial,
    # with a backstory, lightly obfuscated: pinyin, homophones, split characters, traditional and
    # full-width characters, spacing, emoji, leetspeak), with benign look-alikes on the same topics
    ("harmful_batch5", "harmful", "batch5_harmful", False),
    ("benign_batch5", "benign", "batch5_benign", True),
    # sixth batch (session 4): everyday prompts that paste content (lists, CSV, JSON, logs, code,
    # e-mails, chats, manuals) and ask for a transformation, and look-alikes whose pasted content
    # holds imperatives meant for people ("ignore the flashing light"), or that use 系统/ignore/
    # override innocently: the n-gram heads had learnt "pasted data" as a sign of injection
    ("benign_batch6", "benign", "batch6_benign", False),
    ("lookalike_batch6", "benign", "batch6_lookalike", True),
    # seventh batch (session 5): notes to the AI planted in the content of Chinese and English apps
    # (chat, calendar, shop listings and reviews, posts, tickets, résumés, code, file names, tool
    # JSON), prompt leaks in everyday words, jailbreak frames in Chinese (classical Chinese, Martian
    # script, reversed text, bedtime stories, two personas, answer tables) and English (test
    # fixtures, kids' stories with measurements, few-shot priming), with everyday prompts that paste
    # content and look-alikes; written by a helper who read neither the guard nor the blind sets
    ("attack_batch7", "tsv", "batch7_attack", False),
    ("benign_batch7", "benign", "batch7_benign", False),
    ("lookalike_batch7", "benign", "batch7_lookalike", True),
    # eighth batch (session 8): mostly look-alikes (quoted attacks asked about, research and CTF
    # write-ups about jailbreaks, reviews of the user's own system prompt, self-corrections, pasted
    # text with imperatives meant for people, harmless personas and device "jailbreaks"), with
    # attacks of the same surface shapes; briefed after fresh11's first look (its misses were read),
    # written by helpers who read neither the guard nor any blind set
    ("attack_batch8", "tsv", "batch8_attack", False),
    ("benign_batch8", "benign", "batch8_benign", False),
    ("lookalike_batch8", "benign", "batch8_lookalike", True),
)
"""Hand-written prompt files in `OWN` besides the attack templates and the blind sets."""
BLIND_SPLITS = ("fresh8", "fresh9", "fresh10", "fresh11", "fresh12")
"""Blind sets, never trained on (see `_fresh`)."""

csv.field_size_limit(10**8)


@dataclass
class Row:
    text: str
    lang: str
    label: str  # injection | jailbreak | harmful | benign
    source: str
    group: str
    split: str = "train"
    lookalike: bool = False


def _h(s: str) -> float:
    return int(hashlib.sha256(s.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF


def _split(group: str, source: str, share: float = TEST_SHARE) -> str:
    return "test" if _h(f"{source}\x1f{group}") < share else "train"


_DE = re.compile(r"\b(?:und|der|die|das|ist|nicht|ich|sie|wie|was|ein|eine|mit|für|vergiss|bitte)\b|[äöüß]", re.I)


def _lang(text: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    return "de" if len(_DE.findall(text)) >= 2 else "en"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        lines = [ln for ln in f if not ln.startswith("# dataset_version")]
    return list(csv.DictReader(lines))


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _templates(lang: str) -> list[Row]:
    """Attack prompts: templates x goals. Goals are split too, so a held-out template is
    filled with held-out goals only; training goals also serve as plain harmful requests."""
    goals: dict[tuple[str, str], list[str]] = {}
    rows: list[Row] = []
    for ln in _lines(OWN / f"goals_{lang}.tsv"):
        label, goal = ln.split("\t", 1)
        split = _split(goal, f"goals_{lang}", 0.3)
        goals.setdefault((label, split), []).append(goal)
        if label == "jailbreak":
            rows.append(Row(goal, lang, "harmful", f"xiezhi_goal_{lang}", goal, split=split))
    for i, ln in enumerate(_lines(OWN / f"attack_{lang}.tsv")):
        label, template = ln.split("\t", 1)
        group = f"{lang}-template-{i}"
        split = _split(group, f"xiezhi_attack_{lang}")
        pool = goals[(label, split)]
        rng = random.Random(f"{lang}-{i}")
        for goal in rng.sample(pool, min(GOALS_PER_TEMPLATE, len(pool))):
            rows.append(Row(template.replace("{goal}", goal), lang, label, f"xiezhi_attack_{lang}", group,
                            split=split))
    return rows


def _fresh() -> list[Row]:
    """The 'fresh' and 'fresh2' splits: prompts written after the model and rules were frozen;
    never trained on (rows with these splits are skipped by `train`)."""
    rows: list[Row] = []
    for lang in ("zh", "en"):
        for i, ln in enumerate(_lines(OWN / f"fresh_{lang}.tsv")):
            label, text = ln.split("\t", 1)
            text = text.replace("\\u200b", "\u200b")
            rows.append(Row(text, lang, label, f"xiezhi_fresh_{lang}", f"fresh-{lang}-{i}", split="fresh"))
        for t in _lines(OWN / f"fresh_benign_{lang}.txt"):
            rows.append(Row(t, lang, "benign", f"xiezhi_fresh_benign_{lang}", t, split="fresh"))
    # 'fresh8' and 'fresh9' (session 5), 'fresh10' (session 7), 'fresh11' (session 8), 'fresh12'
    # (session 9): each written by
    # someone who never saw the guard, its code, its data or the earlier blind sets (earlier blind sets,
    # fresh2-fresh7, are training data now: see `_former_blind`); fresh8's misses suggested the
    # ai_addressed rules, fresh9 stayed unread, fresh10 was first measured with the guard encoder,
    # fresh11 with the encoder and its veto as session 7 left them, fresh12 with the int8 encoder path
    for split in BLIND_SPLITS:
        for lang in ("zh", "en"):
            rows += _written_set(split, split, lang, split)
    return rows


def _written_set(stem: str, name: str, lang: str, split: str = "train") -> list[Row]:
    """The rows of a set written as a blind set, in one language: attacks in `{stem}_{lang}.tsv`
    (LABEL<TAB>PROMPT), then `{stem}_benign_{lang}.txt` and `{stem}_lookalike_{lang}.txt`;
    sources ``xiezhi_{name}_{lang}`` and ``xiezhi_{name}_{kind}_{lang}``, grouped by text."""
    rows: list[Row] = []
    for ln in _lines(OWN / f"{stem}_{lang}.tsv"):
        label, text = ln.split("\t", 1)
        text = text.replace("\\u200b", "\u200b")
        rows.append(Row(text, lang, label, f"xiezhi_{name}_{lang}", text, split=split))
    for kind in ("benign", "lookalike"):
        for t in _lines(OWN / f"{stem}_{kind}_{lang}.txt"):
            rows.append(Row(t, lang, "benign", f"xiezhi_{name}_{kind}_{lang}", t, split=split,
                            lookalike=kind == "lookalike"))
    return rows


def _former_blind() -> list[Row]:
    """Former blind sets, now ordinary training data (hash-split train/test like every other source):

    - `fresh2_*`: written after the first freeze of session 2 and measured once
      (benchmarks/results/guard_detection_fresh2_stateA.json);
    - `fresh3_*`, `fresh4_*`: blind sets of session 2 (results in benchmarks/results/
      guard_detection.json and guard_detection_earlier_guards.json), measured for the last time
      as blind sets with the fused semantic stage before this change
      (benchmarks/results/guard_detection_session3_fresh34.json) and trained on from session 3;
    - `fresh5_*`: the blind set of session 3 (benchmarks/results/guard_detection_fresh5_before.json
      and guard_detection.json as of aa97f65), trained on once fresh6 was written;
    - `fresh6_*`: the blind set of sessions 3-4 (benchmarks/results/guard_detection.json as of
      ed250b8), trained on once fresh7 was written and measured
      (benchmarks/results/guard_detection_fresh7_before.json);
    - `fresh7_*`: the blind set of session 4, trained on from session 5 once fresh8 was written
      and measured (benchmarks/results/guard_detection_fresh8_before.json)."""
    return [r for n in (2, 3, 4, 5, 6, 7) for lang in ("zh", "en")
            for r in _written_set(f"fresh{n}", f"written{n}", lang)]


def _seed_bank() -> list[Row]:
    try:
        from xiezhi.data.bank import load_bank
    except ImportError:
        return []
    try:
        seeds = load_bank(None, include_benign=True)
    except Exception as e:  # the seed bank is optional training data
        print(f"seed bank not used: {e}", file=sys.stderr)
        return []
    return [Row(s.text, s.lang, "benign" if s.benign else "harmful", "xiezhi_seed_bank", s.text,
                lookalike=s.benign) for s in seeds if s.lang in ("zh", "en")]


def load_rows(use_bank: bool = True) -> list[Row]:
    """Every labelled prompt with its source, group and train/test split."""
    rows: list[Row] = []
    for r in _read_csv(SHARED / "guard" / "deepset_prompt_injections_train.csv"):
        label = "injection" if r["label"].strip() == "1" else "benign"
        rows.append(Row(r["text"], _lang(r["text"]), label, "deepset", r["text"]))
    for r in _read_csv(SHARED / "guard" / "inthewild_jailbreaks_2023_05_07.csv"):
        opening = " ".join(re.sub(r"[^a-z0-9 ]", " ", r["prompt"].lower()).split()[:6])
        rows.append(Row(r["prompt"], _lang(r["prompt"]), "jailbreak", "inthewild", opening))
    for r in _read_csv(SHARED / "seeds" / "jbb_benign_behaviors.csv"):
        rows.append(Row(r["Goal"], "en", "benign", "jbb_benign", r["Goal"], lookalike=True))
    for r in _read_csv(SHARED / "seeds" / "jbb_harmful_behaviors.csv"):
        rows.append(Row(r["Goal"], "en", "harmful", "jbb_harmful", r["Goal"]))
    for r in _read_csv(SHARED / "seeds" / "advbench_harmful_behaviors.csv"):
        rows.append(Row(r["goal"], "en", "harmful", "advbench", r["goal"]))
    for lang in ("zh", "en"):
        for r in _read_csv(SHARED / "seeds" / f"jade_v1_{lang}.csv"):
            rows.append(Row(r["问题"], lang, "harmful", f"jade_{lang}", r["问题"]))
        rows += _templates(lang)
        for stem, label, source, lookalike in WRITTEN_FILES:
            path = OWN / f"{stem}_{lang}.{'tsv' if label == 'tsv' else 'txt'}"
            if not path.exists() and not any(OWN.glob(f"{stem}_*.{path.suffix[1:]}")):
                raise SystemExit(f"{path}: listed in WRITTEN_FILES but missing in every language (a typo?)")
            for line in _lines(path) if path.exists() else []:
                kind, text = line.split("\t", 1) if label == "tsv" else (label, line)
                rows.append(Row(text, lang, kind, f"xiezhi_{source}_{lang}", text, lookalike=lookalike))
    rows += _former_blind()
    if use_bank:
        rows += _seed_bank()
    rows += _fresh()
    seen: set[str] = set()
    out: list[Row] = []
    for r in rows:
        key = " ".join(r.text.split()).lower()
        if key in seen or not key:
            continue
        seen.add(key)
        if not r.source.startswith(("xiezhi_attack", "xiezhi_goal", "xiezhi_fresh")):
            r.split = _split(r.group, r.source)
        out.append(r)
    return out


def head_labels(head: str, rows: list[Row]) -> list[tuple[Row, int]]:
    """(row, 1/0) for the rows a head trains on; the other attack kind is left out."""
    pos = {"injection": {"injection"}, "jailbreak": {"jailbreak"}, "harmful": {"harmful"}}[head]
    neg = {"injection": {"benign", "harmful"}, "jailbreak": {"benign", "harmful"}, "harmful": {"benign"}}[head]
    return [(r, 1 if r.label in pos else 0) for r in rows if r.label in pos | neg]


def featurize(texts: list[str]):  # type: ignore[no-untyped-def]
    """CSR matrix of hashed n-gram features of the normalised texts (as at run time)."""
    import numpy as np

    try:
        from scipy.sparse import csr_matrix
    except ModuleNotFoundError:
        raise SystemExit("scripts/train_guard.py needs scikit-learn and scipy: pip install -e '.[train]'") from None

    from xiezhi.guard.scanners.normalize import normalize
    from xiezhi.guard.scanners.textmodel import DIM_BITS, features

    indptr, indices, data = [0], [], []
    for t in texts:
        ids, vals = features(normalize(t).text, DIM_BITS)
        indices.append(ids)
        data.append(vals)
        indptr.append(indptr[-1] + len(ids))
    return csr_matrix((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                      shape=(len(texts), 2**DIM_BITS))


def fit_at_fpr(x, y, groups: list[str], c: float, fpr_target: float):  # type: ignore[no-untyped-def]
    """Fit a balanced logistic head; its operating point is the out-of-fold score (grouped
    5-fold on the training split) that keeps `fpr_target` of the negatives below it.
    Returns (classifier, cut, out-of-fold TPR at the cut)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=0)
    oof = cross_val_predict(clf, x, y, cv=GroupKFold(n_splits=5), groups=groups, method="decision_function")
    neg = np.sort(oof[y == 0])
    cut = float(neg[min(len(neg) - 1, int(np.ceil((1 - fpr_target) * len(neg))))])
    clf.fit(x, y)
    return clf, cut, float((oof[y == 1] > cut).mean())


def train(rows: list[Row], c: float, fpr_target: float, fpr_harmful: float | None = None) -> dict[str, object]:
    import numpy as np

    from xiezhi.guard.scanners.textmodel import DIM_BITS

    weights, biases, report = [], [], {}
    for head in HEADS:
        head_fpr = fpr_harmful if head == "harmful" and fpr_harmful is not None else fpr_target
        pairs = [(r, y) for r, y in head_labels(head, rows) if r.split == "train"]
        x = featurize([r.text for r, _ in pairs])
        y = np.array([y for _, y in pairs])
        groups = [f"{r.source}:{r.group}" for r, _ in pairs]
        # out-of-fold scores on the training split set the operating point (test stays unseen)
        clf, cut, tpr = fit_at_fpr(x, y, groups, c, head_fpr)
        weights.append(clf.coef_[0].astype(np.float16))
        biases.append(float(clf.intercept_[0]) - cut)  # p = 0.5 at the chosen out-of-fold cut
        report[head] = {"n_train": len(pairs), "n_pos": int(y.sum()), "oof_cut": cut, "oof_tpr": tpr,
                        "oof_fpr_target": head_fpr}
        print(f"{head}: n={len(pairs)} pos={int(y.sum())} out-of-fold TPR={tpr:.3f} at FPR<={head_fpr}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, weights=np.stack(weights), bias=np.array(biases), heads=np.array(HEADS),
                        dim_bits=np.array(DIM_BITS))
    return report


def _embed_cached(texts: list[str], cache: Path):  # type: ignore[no-untyped-def]
    """e5 embeddings of `texts`, reusing a per-text cache between runs (embedding is the slow part)."""
    import numpy as np

    from xiezhi.guard.scanners.e5head import embed

    known: dict[str, object] = {}
    if cache.exists():
        with np.load(cache) as z:
            known = dict(zip([str(k) for k in z["keys"]], z["emb"], strict=True))
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    for i in range(0, len(todo), 32):
        chunk = todo[i : i + 32]
        for (k, _), e in zip(chunk, embed([t for _, t in chunk]), strict=True):
            known[k] = e
        print(f"  e5: embedded {min(i + 32, len(todo))}/{len(todo)} new texts", file=sys.stderr)
    if todo:
        np.savez(cache, keys=np.array(list(known)), emb=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys])


def train_e5(rows: list[Row], c: float, fpr_target: float) -> dict[str, object]:
    """The same heads over e5 embeddings (slow: embeds every training text once, cached)."""
    import numpy as np

    from xiezhi.guard.scanners.e5head import E5_WEIGHTS

    train_rows = [r for r in rows if r.split == "train"]
    emb = _embed_cached([r.text for r in train_rows], Path("/tmp/xiezhi_guard_e5_cache_v2.npz"))
    index = {id(r): i for i, r in enumerate(train_rows)}
    weights, biases, report = [], [], {}
    for head in HEADS:
        pairs = [(r, y) for r, y in head_labels(head, train_rows)]
        x = emb[[index[id(r)] for r, _ in pairs]]
        y = np.array([y for _, y in pairs])
        groups = [f"{r.source}:{r.group}" for r, _ in pairs]
        clf, cut, tpr = fit_at_fpr(x, y, groups, c, fpr_target)
        weights.append(clf.coef_[0].astype(np.float32))
        biases.append(float(clf.intercept_[0]) - cut)
        report[head] = {"n_train": len(pairs), "oof_tpr": tpr, "oof_fpr_target": fpr_target}
        print(f"e5 {head}: n={len(pairs)} out-of-fold TPR={tpr:.3f} at FPR<={fpr_target}")
    np.savez_compressed(E5_WEIGHTS, weights=np.stack(weights), bias=np.array(biases), heads=np.array(HEADS))
    return report


def _oof_logits(rows: list[Row], pairs: list[tuple[Row, int]], emb, heads: tuple[str, ...], c: float,
                c_e5: float, cuts: dict[str, float], e5_cut: float):  # type: ignore[no-untyped-def]
    """(n, len(heads) + 1) out-of-fold logits [n-gram `heads`..., e5] of the `pairs` rows, as the
    run-time heads would give them (each head's own out-of-fold cut subtracted).

    Folds are fixed by a hash of each row's group; every head is refitted on four folds (with
    the rows it trains on) and scores the fifth, so a fusion is fitted on honest logits."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    train_rows = [r for r in rows if r.split == "train"]
    x_all = featurize([r.text for r in train_rows])
    pos = {id(r): i for i, r in enumerate(train_rows)}
    fold_of = {id(r): int(hashlib.sha256(f"{r.source}:{r.group}".encode()).hexdigest(), 16) % 5 for r in train_rows}
    pair_idx = np.array([pos[id(r)] for r, _ in pairs])
    pair_fold = np.array([fold_of[id(r)] for r, _ in pairs])
    y = np.array([y for _, y in pairs])
    out = np.zeros((len(pairs), len(heads) + 1))
    for k in range(5):
        held = pair_fold == k
        for j, head in enumerate(heads):
            fit_rows = [(r, yy) for r, yy in head_labels(head, train_rows) if fold_of[id(r)] != k]
            clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=0)
            clf.fit(x_all[[pos[id(r)] for r, _ in fit_rows]], np.array([yy for _, yy in fit_rows]))
            out[held, j] = clf.decision_function(x_all[pair_idx[held]]) - cuts[head]
        clf = LogisticRegression(C=c_e5, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=0)
        clf.fit(emb[~held], y[~held])
        out[held, -1] = clf.decision_function(emb[held]) - e5_cut
    return out


def _fit_fusion(z, y, fpr: float) -> tuple[list[float], float, float, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Logistic regression on out-of-fold logits `z` (the e5 logit last): (weights, bias, gate, report).

    The bias puts the fused logit's 0 at the out-of-fold score that keeps `fpr` of the negatives
    below it. The gate is the smallest margin (logit units) below 0 at which the part without
    the e5 term still sends a prompt to e5 without losing out-of-fold detection (<= 0.2 points)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    stack = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(z, y)
    score = stack.decision_function(z)
    neg = np.sort(score[y == 0])
    thr = float(neg[min(len(neg) - 1, int(np.ceil((1 - fpr) * len(neg))))])
    w = [float(v) for v in stack.coef_[0]]
    bias = float(stack.intercept_[0]) - thr
    fused = score - thr
    part = fused - w[-1] * z[:, -1]
    full_tpr = float((fused[y == 1] > 0).mean())
    gate = 0.0
    for gate in np.arange(0.0, 12.01, 0.25):
        if float(((fused > 0) & (part + gate >= 0))[y == 1].mean()) >= full_tpr - 0.002:
            break
    e5_share = float((part[y == 0] + gate >= 0).mean())
    return w, bias, float(gate), {"oof_tpr": full_tpr, "oof_fpr_target": fpr, "gate": float(gate),
                                  "negatives_sent_to_e5": e5_share}


def _cut_embeddings(pairs: list[tuple[Row, int]]):  # type: ignore[no-untyped-def]
    """e5 embeddings of the rows' normalised text cut to `SEMANTIC_TOKENS` (head + tail), as the
    scanners embed it at run time (cached in /tmp across runs)."""
    from xiezhi.guard.scanners.e5head import SEMANTIC_TOKENS, cut_head_tail
    from xiezhi.guard.scanners.normalize import normalize

    texts = [cut_head_tail(normalize(r.text).text, SEMANTIC_TOKENS) for r, _ in pairs]
    return _embed_cached(texts, Path(f"/tmp/xiezhi_guard_e5_attack_cache_{SEMANTIC_TOKENS}.npz"))


def _train_stage(rows: list[Row], positives: tuple[str, ...], negatives: tuple[str, ...], heads: tuple[str, ...],
                 c: float, e5_fpr: float, heads_report: dict[str, object], c_ngram: float, fusion_fpr: float,
                 out: Path) -> dict[str, object]:
    """One semantic stage: an e5 head (`positives` vs `negatives` labels of the training split,
    over the cut embedding the scanners use at run time) whose own operating point keeps `e5_fpr`
    of the negatives below it out of fold, fused (`_fit_fusion`, at `fusion_fpr`) with the n-gram
    `heads` on out-of-fold logits; the weights are written to `out`."""
    import numpy as np

    from xiezhi.guard.scanners.e5head import SEMANTIC_TOKENS

    pairs = [(r, 1 if r.label in positives else 0) for r in rows
             if r.split == "train" and r.label in positives + negatives]
    x = _cut_embeddings(pairs)
    y = np.array([y for _, y in pairs])
    groups = [f"{r.source}:{r.group}" for r, _ in pairs]
    clf, cut, tpr = fit_at_fpr(x, y, groups, c, e5_fpr)
    head_cuts = {h: float(heads_report[h]["oof_cut"]) for h in heads}  # type: ignore[index]
    z = _oof_logits(rows, pairs, x, heads, c_ngram, c, head_cuts, cut)
    w, bias, gate, rep = _fit_fusion(z, y, fusion_fpr)
    np.savez_compressed(out, weight=clf.coef_[0].astype(np.float32),
                        bias=np.array(float(clf.intercept_[0]) - cut), budget=np.array(SEMANTIC_TOKENS),
                        fusion=np.array([*w, bias]), gate=np.array(gate))
    print(f"{out.stem}: n={len(pairs)} pos={int(y.sum())}; e5 head alone: out-of-fold TPR={tpr:.3f} at "
          f"FPR<={e5_fpr}; fusion {' '.join(f'w_{h}={v:.3f}' for h, v in zip((*heads, 'e5'), w, strict=True))}: "
          f"out-of-fold TPR={rep['oof_tpr']:.3f} at FPR<={fusion_fpr}; gate {gate:.2f} sends "
          f"{rep['negatives_sent_to_e5']:.1%} of negatives to e5 (text cut to {SEMANTIC_TOKENS} tokens)")
    return {"n_train": len(pairs), "n_pos": int(y.sum()), "c": c, "oof_cut": cut, "oof_tpr": tpr,
            "oof_fpr_target": e5_fpr, "budget_tokens": SEMANTIC_TOKENS,
            "fusion": {**{f"w_{h}": v for h, v in zip((*heads, "e5"), w, strict=True)}, "bias": bias, **rep}}


def train_e5_attack(rows: list[Row], c: float, fpr_target: float, heads_report: dict[str, object],
                    c_ngram: float, fusion_fpr: float) -> dict[str, object]:
    """The injection / jailbreak scanners' semantic stage: an e5 attack head (injection +
    jailbreak vs benign, at `fpr_target`) fused with the two n-gram heads, at `fusion_fpr`.
    Harmful requests are left out (the harmful_request scanner's job; as negatives they blur
    jailbreak wrappers around them)."""
    from xiezhi.guard.scanners.e5head import E5_ATTACK_WEIGHTS

    return _train_stage(rows, ("injection", "jailbreak"), ("benign",), ("injection", "jailbreak"), c, fpr_target,
                        heads_report, c_ngram, fusion_fpr, E5_ATTACK_WEIGHTS)


def train_e5_harmful(rows: list[Row], c: float, heads_report: dict[str, object], c_ngram: float,
                     fusion_fpr: float) -> dict[str, object]:
    """The harmful_request scanner's semantic stage: an e5 harmful-request head (harmful vs
    benign, over the same cut embedding as the attack head, so a prompt is embedded once)
    fused with the n-gram harmful head; both operating points at `fusion_fpr`."""
    from xiezhi.guard.scanners.e5head import E5_HARMFUL_WEIGHTS

    return _train_stage(rows, ("harmful",), ("benign",), ("harmful",), c, fusion_fpr, heads_report, c_ngram,
                        fusion_fpr, E5_HARMFUL_WEIGHTS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--c", type=float, default=8.0, help="inverse L2 regularisation strength")
    ap.add_argument("--fpr", type=float, default=0.002,
                    help="out-of-fold benign FPR at p = 0.5 of each n-gram head (three heads and the rules add up)")
    ap.add_argument("--fpr-harmful", type=float, default=0.01,
                    help="the same for the harmful-request head: at 0.002 it blocked 0.39 of held-out harmful "
                         "requests against 0.54 at 0.01 (benchmarks/guard_detection.py)")
    ap.add_argument("--e5-fpr", type=float, default=0.01,
                    help="out-of-fold benign FPR at p = 0.5 of the e5 attack head alone (in the scanners it counts "
                         "through the fusion)")
    ap.add_argument("--fusion-fpr", type=float, default=0.03,
                    help="out-of-fold benign FPR at the operating point of the fused n-gram + e5 semantic stage "
                         "(0.01 lost 2.5-7.5 points of detection on the session-2 blind sets for 0-1.3 points of FPR; "
                         "with the hard benign batch6 in the negatives, 0.02 lost 3-7 points of held-out TPR and 0.03 "
                         "keeps it, at a lower held-out FPR than before batch6)")
    ap.add_argument("--harmful-fusion-fpr", type=float, default=0.005,
                    help="out-of-fold benign FPR at the operating point of the harmful-request semantic stage "
                         "(0.01 blocked 9-17 points more held-out harmful requests, benign FPR +0.6-1.8 points)")
    ap.add_argument("--no-bank", action="store_true", help="do not use the xiezhi seed bank")
    ap.add_argument("--e5", action="store_true", help="also train the e5-embedding heads (slow)")
    ap.add_argument("--e5-attack", action="store_true",
                    help="also train the semantic stages (e5 attack and harmful-request heads fused with the "
                         "n-gram heads; slow the first time, embeddings cached in /tmp)")
    ap.add_argument("--dump", type=Path, help="also write the labelled rows with their split (JSONL)")
    args = ap.parse_args()
    rows = load_rows(use_bank=not args.no_bank)
    counts: dict[str, int] = {}
    for r in rows:
        k = f"{r.source}/{r.label}/{r.split}"
        counts[k] = counts.get(k, 0) + 1
    for k in sorted(counts):
        print(f"  {k}: {counts[k]}")
    report = train(rows, args.c, args.fpr, args.fpr_harmful)
    report["sources"] = counts
    if args.e5:
        report["e5"] = train_e5(rows, 1.0, args.fpr)
    if args.e5_attack:
        report["e5_attack"] = train_e5_attack(rows, 16.0, args.e5_fpr, report, args.c, args.fusion_fpr)
        report["e5_harmful"] = train_e5_harmful(rows, 16.0, report, args.c, args.harmful_fusion_fpr)
    (OUT.parent / "guard_heads.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
