"""Store contract: runs and their attempts, appended as they finish, queried for reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from xiezhi.types import Attempt, Run


@runtime_checkable
class Store(Protocol):
    def create_run(self, run: Run) -> None: ...

    def get_run(self, run_id: str) -> Run:
        """The run; raises XiezhiError when it does not exist."""
        ...

    def resolve_run_id(self, ref: str) -> str:
        """``latest``, a full id or a unique prefix -> the run id (XiezhiError otherwise)."""
        ...

    def list_runs(self, target: str | None = None, limit: int | None = None) -> list[Run]:
        """Runs, newest first."""
        ...

    def save_attempts(self, attempts: Sequence[Attempt]) -> int:
        """Insert finished attempts; ones already stored (same run and id) are skipped."""
        ...

    def attempts(self, run_id: str) -> list[Attempt]:
        """All stored attempts of a run, in plan order (by `index`)."""
        ...

    def done_ids(self, run_id: str) -> set[str]:
        """Ids of the attempts stored without error (a resume skips these)."""
        ...

    def count_attempts(self, run_id: str) -> int: ...

    def update_verdicts(self, run_id: str, attempts: Sequence[Attempt]) -> None:
        """Replace the verdicts of stored attempts (used by re-judging and human review)."""
        ...

    def set_status(self, run_id: str, status: str) -> None: ...

    def update_run(self, run_id: str, *, n_planned: int | None = None,
                   config: dict[str, Any] | None = None) -> None:
        """Change a run's planned count or config (adaptive runs learn them as they go)."""
        ...

    def finish_run(self, run_id: str, status: str = "finished") -> None: ...

    def close(self) -> None: ...
