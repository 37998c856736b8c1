"""Runs and results, persisted through SQLAlchemy: a SQLite file by default, any URL for a team.

One row per run (its spec, the environment that produced it, its status and progress), one per
variant result, and a log of progress events. Results are written as soon as each variant is
measured and never rewritten by a later failure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from lib.errors import UserError
from lib.paths import default_store_url
from lib.schema import UNSET, RunDocument, VariantResult

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20), nullable=False),  # queued, running, done, failed
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("environment", sa.JSON),
    sa.Column("hardware", sa.String(200)),
    sa.Column("host", sa.String(200)),
    sa.Column("pid", sa.Integer),
    sa.Column("extra", sa.JSON),  # baseline facts: adaptation time, eval size, ...
)

results = sa.Table(
    "results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("variant", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # ok, failed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("stage", sa.String(100), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("fraction", sa.Float),
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Store:
    def __init__(self, url: str | None = None):
        self.url = url or default_store_url()
        try:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, **_engine_args(self.url))
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise UserError(f"Bad store URL '{self.url}': {exc}") from None
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            raise UserError(f"Cannot open the store at {_redact(self.url)}: {reason}") from None

    # ---------------------------------------------------------- writing
    def create_run(self, spec: dict, status: str = "queued", name: str = "") -> str:
        run_id = uuid.uuid4().hex[:12]
        with self.engine.begin() as c:
            c.execute(
                runs.insert().values(
                    id=run_id,
                    name=name or spec.get("name") or "",
                    created_at=_now(),
                    status=status,
                    message="",
                    progress=0.0,
                    spec=spec,
                )
            )
        return run_id

    def update_run(self, run_id: str, **values: Any) -> None:
        if values.get("status") in ("done", "failed", "interrupted"):
            values.setdefault("finished_at", _now())
        with self.engine.begin() as c:
            c.execute(runs.update().where(runs.c.id == run_id).values(**values))

    def add_event(
        self, run_id: str, stage: str, message: str, fraction: float | None = None
    ) -> None:
        with self.engine.begin() as c:
            c.execute(
                events.insert().values(
                    run_id=run_id, at=_now(), stage=stage, message=message, fraction=fraction
                )
            )
            if fraction is not None:
                c.execute(
                    runs.update()
                    .where(runs.c.id == run_id)
                    .values(progress=fraction, message=message)
                )

    def add_result(self, run_id: str, position: int, result: dict) -> None:
        with self.engine.begin() as c:
            c.execute(
                results.insert().values(
                    run_id=run_id,
                    position=position,
                    variant=result["variant"],
                    status=result.get("status", "ok"),
                    created_at=_now(),
                    data=result,
                )
            )

    def update_result(self, run_id: str, variant: str, values: dict[str, Any]) -> dict:
        """Set ``values`` (top-level keys) in the stored result of ``variant`` in run ``run_id``,
        in place: its other keys, its position and every other result stay as they were. A later
        measurement added to a finished run (``load_test``) lands this way. Returns the new data;
        ``UserError`` when the run has no result for that variant."""
        with self.engine.begin() as c:
            row = (
                c.execute(
                    results.select()
                    .where(results.c.run_id == run_id, results.c.variant == variant)
                    .order_by(results.c.id.desc())
                )
                .mappings()
                .first()
            )
            if row is None:
                raise UserError(f"Run '{run_id}' has no result for variant '{variant}'.")
            data = {**row["data"], **values}  # a new object: SQLAlchemy writes JSON on assignment
            c.execute(results.update().where(results.c.id == row["id"]).values(data=data))
        return data

    # ---------------------------------------------------------- reading
    def get_run(self, run_id: str) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(runs.select().where(runs.c.id == run_id)).mappings().first()
        return dict(row) if row else None

    def list_runs(self, limit: int = 200) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(
                runs.select().order_by(runs.c.created_at.desc()).limit(limit)
            ).mappings()
            return [dict(r) for r in rows]

    def results_for(self, run_id: str) -> list[dict]:
        """The run's result dicts in order, read through ``lib.schema.VariantResult``."""
        return [r.to_dict() for r in self.variant_results(run_id)]

    def variant_results(self, run_id: str) -> list[VariantResult]:
        with self.engine.connect() as c:
            rows = c.execute(
                results.select()
                .where(results.c.run_id == run_id)
                .order_by(results.c.position, results.c.id)
            ).mappings()
            return [VariantResult.from_dict(r["data"]) for r in rows]

    def events_for(self, run_id: str, limit: int = 50) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(
                events.select()
                .where(events.c.run_id == run_id)
                .order_by(events.c.id.desc())
                .limit(limit)
            ).mappings()
            return [dict(r) for r in rows][::-1]

    def run_document(self, run_id: str, with_predictions: bool = False) -> dict:
        """The run as the CLI writes it: spec, environment and results (``RunDocument.to_dict``)."""
        return self.load_run(run_id, with_predictions).to_dict()

    def load_run(self, run_id: str, with_predictions: bool = False) -> RunDocument:
        """The run as a typed ``lib.schema.RunDocument`` (predictions left out unless asked)."""
        run = self.get_run(run_id)
        if run is None:
            raise UserError(f"No run with id '{run_id}' in the store.")
        res = self.variant_results(run_id)
        if not with_predictions:
            for r in res:
                r.predictions = UNSET
        return RunDocument(
            run_id=run_id,
            name=run["name"],
            status=run["status"],
            message=run["message"],
            created_at=run["created_at"].isoformat() if run["created_at"] else None,
            spec=run["spec"],
            environment=run["environment"] or {},
            baseline=run["extra"] or {},
            results=res,
        )


def _engine_args(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {}


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the page read while a worker writes; the busy timeout makes writers wait, not fail.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
