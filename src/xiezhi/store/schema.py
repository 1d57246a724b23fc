"""Tables of the store (SQLAlchemy Core). Changes go through a migration in migrations/versions/."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("judge", Text, nullable=False),
    Column("n_planned", Integer, nullable=False),
    Column("config", Text, nullable=False),
    Column("versions", Text, nullable=False),
)

attempts = Table(
    "attempts",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("idx", Integer, nullable=False),
    Column("seed_id", Text, nullable=False),
    Column("lang", String(16), nullable=False),
    Column("category", String(64), nullable=False),
    Column("risk_type", String(64), nullable=False),
    Column("benign", Boolean, nullable=False),
    Column("tier", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("response", Text),
    Column("error", Text),
    Column("latency_s", Float),
    Column("unsafe", Boolean),
    Column("refusal", Boolean),
    Column("score", Float),
    Column("uncertain", Boolean),
    Column("judge", Text),
    Column("complexity", Float),
    Column("similarity", Float),
    Column("payload", Text, nullable=False),
    Index("ix_attempts_run_idx", "run_id", "idx"),
)
