"""Seeds and the code that reads, checks and counts them.

- ``seeds/**/*.jsonl``: xiezhi's own bilingual seed bank (data, not code), read by
  `xiezhi.data.bank.load_bank`;
- `xiezhi.data.loaders`: users' files (AdvBench, HarmBench, JailbreakBench, StrongREJECT,
  JADE-DB, any CSV/JSONL) -> Seeds, via `load_seeds`;
- `xiezhi.data.stats` (counts), `xiezhi.data.quality` (duplicates, near duplicates, coverage),
  `xiezhi.data.lang` (zh/en detection).

Nothing here is imported by ``import xiezhi``; import the submodule you need.
"""
