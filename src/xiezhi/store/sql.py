"""SQLAlchemy store: SQLite by default, any SQLAlchemy URL (PostgreSQL via psycopg).

Attempts are appended as they finish, so a killed scan loses nothing already stored.
The schema is migrated with Alembic every time a store opens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from xiezhi.store.schema import attempts as attempts_t
from xiezhi.store.schema import metadata
from xiezhi.store.schema import runs as runs_t
from xiezhi.types import Attempt, Run, XiezhiError

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0001"


class StoreError(XiezhiError):
    """The database cannot be opened, migrated or queried."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _migrate(engine: Engine) -> None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _attempt_row(a: Attempt) -> dict[str, Any]:
    if a.error:  # a backstop: an endpoint's error text may quote the credentials it was sent
        from xiezhi.config import redact_text

        a = a.model_copy(update={"error": redact_text(a.error)})
    v = a.verdict
    return {
        "run_id": a.run_id,
        "id": a.id,
        "idx": a.index,
        "seed_id": a.seed.id,
        "lang": a.seed.lang,
        "category": a.seed.category,
        "risk_type": a.seed.risk_type,
        "benign": a.seed.benign,
        "tier": a.tier,
        "prompt": a.prompt,
        "response": a.response,
        "error": a.error,
        "latency_s": a.latency_s,
        "unsafe": v.unsafe if v else None,
        "refusal": v.refusal if v else None,
        "score": v.score if v else None,
        "uncertain": v.uncertain if v else None,
        "judge": v.judge if v else None,
        "complexity": a.complexity,
        "similarity": a.similarity,
        "payload": a.model_dump_json(),
    }


def _run_from_row(row: Any) -> Run:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    finished = row.finished_at
    if finished is not None and finished.tzinfo is None:
        finished = finished.replace(tzinfo=UTC)
    return Run(
        id=row.id,
        target=row.target,
        judge=row.judge,
        created_at=created,
        finished_at=finished,
        status=row.status,
        n_planned=row.n_planned,
        config=json.loads(row.config),
        versions=json.loads(row.versions),
    )


class SqlStore:
    """A `Store` over any SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = create_engine(url, future=True)
        except (ArgumentError, ImportError, ValueError) as e:
            raise StoreError(f"cannot open database {_safe_url(url)}: {e}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            db = self.engine.url.database
            if db and db != ":memory:" and not Path(db).parent.exists():
                raise StoreError(f"cannot open database {_safe_url(url)}: folder {Path(db).parent} does not exist")
        try:
            _migrate(self.engine)
        except OperationalError as e:
            raise StoreError(f"cannot open database {_safe_url(url)}: {_safe_url(str(e.orig))}") from None
        except SQLAlchemyError as e:
            # the driver's own words ("file is not a database") say what is wrong; they never hold
            # the password, which lives in the URL, and the URL is masked anyway
            why = str(getattr(e, "orig", None) or type(e).__name__).splitlines()[0][:200]
            raise StoreError(f"cannot open database {_safe_url(url)}: {_safe_url(why)}") from None

    # runs -------------------------------------------------------------------------
    def create_run(self, run: Run) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(runs_t).values(
                    id=run.id,
                    created_at=run.created_at,
                    finished_at=run.finished_at,
                    status=run.status,
                    target=_safe_url(run.target),
                    judge=_safe_url(run.judge),
                    n_planned=run.n_planned,
                    config=json.dumps(run.config, ensure_ascii=False),
                    versions=json.dumps(run.versions),
                )
            )

    def get_run(self, run_id: str) -> Run:
        with self.engine.connect() as c:
            row = c.execute(select(runs_t).where(runs_t.c.id == run_id)).first()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {_safe_url(self.url)}")
        return _run_from_row(row)

    def resolve_run_id(self, ref: str) -> str:
        with self.engine.connect() as c:
            if ref == "latest":
                row = c.execute(select(runs_t.c.id).order_by(runs_t.c.created_at.desc()).limit(1)).first()
                if row is None:
                    raise StoreError(f"no runs yet in {_safe_url(self.url)}; run `xiezhi scan` first")
                return str(row.id)
            ids = [r.id for r in c.execute(select(runs_t.c.id).where(runs_t.c.id.startswith(ref))).all()]
        if len(ids) == 1:
            return str(ids[0])
        if not ids:
            raise StoreError(f"no run {ref!r} in {_safe_url(self.url)}")
        raise StoreError(f"run id prefix {ref!r} is ambiguous ({len(ids)} runs)")

    def list_runs(self, target: str | None = None, limit: int | None = None) -> list[Run]:
        q = select(runs_t).order_by(runs_t.c.created_at.desc())
        if target:
            q = q.where(runs_t.c.target == target)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [_run_from_row(r) for r in c.execute(q).all()]

    def set_status(self, run_id: str, status: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(runs_t).where(runs_t.c.id == run_id).values(status=status))

    def update_run(self, run_id: str, *, n_planned: int | None = None,
                   config: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {}
        if n_planned is not None:
            values["n_planned"] = n_planned
        if config is not None:
            values["config"] = json.dumps(config, ensure_ascii=False)
        if values:
            with self.engine.begin() as c:
                c.execute(update(runs_t).where(runs_t.c.id == run_id).values(**values))

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        with self.engine.begin() as c:
            c.execute(
                update(runs_t)
                .where(runs_t.c.id == run_id)
                .values(status=status, finished_at=datetime.now(UTC))
            )

    # attempts -----------------------------------------------------------------------
    def save_attempts(self, attempts: Sequence[Attempt]) -> int:
        """Insert attempts; a stored attempt that had errored is replaced, a finished one kept."""
        if not attempts:
            return 0
        run_id = attempts[0].run_id
        ids = [a.id for a in attempts]
        with self.engine.begin() as c:
            existing = {
                r.id: r.error
                for r in c.execute(
                    select(attempts_t.c.id, attempts_t.c.error).where(
                        and_(attempts_t.c.run_id == run_id, attempts_t.c.id.in_(ids))
                    )
                ).all()
            }
            retry = [i for i, err in existing.items() if err is not None]
            if retry:
                c.execute(
                    delete(attempts_t).where(and_(attempts_t.c.run_id == run_id, attempts_t.c.id.in_(retry)))
                )
            skip = {i for i, err in existing.items() if err is None}
            rows, seen = [], set()
            for a in attempts:
                if a.id in skip or a.id in seen:
                    continue
                seen.add(a.id)
                rows.append(_attempt_row(a))
            if rows:
                c.execute(insert(attempts_t), rows)
        return len(rows)

    def attempts(self, run_id: str) -> list[Attempt]:
        q = select(attempts_t.c.payload).where(attempts_t.c.run_id == run_id).order_by(attempts_t.c.idx)
        with self.engine.connect() as c:
            return [Attempt.model_validate_json(r.payload) for r in c.execute(q).all()]

    def iter_attempts(self, run_id: str, batch: int = 1000) -> Iterable[Attempt]:
        yield from self.attempts(run_id)

    def done_ids(self, run_id: str) -> set[str]:
        q = select(attempts_t.c.id).where(and_(attempts_t.c.run_id == run_id, attempts_t.c.error.is_(None)))
        with self.engine.connect() as c:
            return {r.id for r in c.execute(q).all()}

    def count_attempts(self, run_id: str) -> int:
        q = select(func.count()).select_from(attempts_t).where(attempts_t.c.run_id == run_id)
        with self.engine.connect() as c:
            return int(c.execute(q).scalar_one())

    def update_verdicts(self, run_id: str, attempts: Sequence[Attempt]) -> None:
        with self.engine.begin() as c:
            for a in attempts:
                row = _attempt_row(a)
                c.execute(
                    update(attempts_t)
                    .where(and_(attempts_t.c.run_id == run_id, attempts_t.c.id == a.id))
                    .values(
                        unsafe=row["unsafe"],
                        refusal=row["refusal"],
                        score=row["score"],
                        uncertain=row["uncertain"],
                        judge=row["judge"],
                        payload=row["payload"],
                    )
                )

    def close(self) -> None:
        self.engine.dispose()


def _safe_url(url: str) -> str:
    from xiezhi.config import redact_text

    return redact_text(url)


def create_all_for_tests(engine: Engine) -> None:
    """Create the tables directly (used only to compare with the migrated schema in tests)."""
    metadata.create_all(engine)
