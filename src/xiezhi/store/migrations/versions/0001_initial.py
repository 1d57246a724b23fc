"""Initial schema: runs and attempts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("judge", sa.Text, nullable=False),
        sa.Column("n_planned", sa.Integer, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
    )
    op.create_table(
        "attempts",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("seed_id", sa.Text, nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("risk_type", sa.String(64), nullable=False),
        sa.Column("benign", sa.Boolean, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("response", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("latency_s", sa.Float),
        sa.Column("unsafe", sa.Boolean),
        sa.Column("refusal", sa.Boolean),
        sa.Column("score", sa.Float),
        sa.Column("uncertain", sa.Boolean),
        sa.Column("judge", sa.Text),
        sa.Column("complexity", sa.Float),
        sa.Column("similarity", sa.Float),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_attempts_run_idx", "attempts", ["run_id", "idx"])


def downgrade() -> None:
    op.drop_index("ix_attempts_run_idx", "attempts")
    op.drop_table("attempts")
    op.drop_table("runs")
