"""Runs and results, persisted through SQLAlchemy: a SQLite file by default, any URL for a team.

One row per run (its spec, the environment that produced it, its status and progress), one per
variant result, and a log of progress events. Results are written as soon as each variant is
measured and never rewritten by a later failure.

A sweep (``lib.sweep``: a matrix of runs on a Ray cluster) has a row of its own in ``sweeps`` and
one row per planned run in ``sweep_runs``: its idempotent key (a hash of the run spec and the
target machine kind), the node it ran on, its status and the run it produced. New tables are
created on first open (``create_all``), beside the existing ones, which stay as they were.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from lib.access.redact import redact
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


sweeps = sa.Table(
    "sweeps",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # a hash of the sweep's run keys
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),  # the driver's heartbeat
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20), nullable=False),  # running, done, failed, interrupted
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("address", sa.String(300), nullable=False, default=""),  # the Ray cluster
    sa.Column("driver", sa.String(300), nullable=False, default=""),  # host:pid submitting it
)

sweep_runs = sa.Table(
    "sweep_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sweep_id", sa.String(36), sa.ForeignKey("sweeps.id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("key", sa.String(64), nullable=False, index=True),  # hash of run spec + target
    sa.Column("model", sa.String(500), nullable=False),
    sa.Column("dataset", sa.String(500), nullable=False),
    sa.Column("target", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # pending, running, done, failed
    sa.Column("run_id", sa.String(36)),  # the latest attempt's run (runs.id)
    sa.Column("node_id", sa.String(64)),
    sa.Column("node_ip", sa.String(64)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("history", sa.JSON),  # every attempt: run id, node, status, reason
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("sweep_id", "key", name="uq_sweep_runs_sweep_key"),
)

SWEEP_RUN_STATES = ("pending", "running", "done", "failed")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Store:
    def __init__(self, url: str | None = None):
        self.url = url or default_store_url()
        try:
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, **_engine_args(self.url))
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise UserError(f"Bad store URL '{redact(self.url)}': {redact(exc)}") from None
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            raise UserError(
                f"Cannot open the store at {redact(self.url)}: {redact(reason)}"
            ) from None

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

    # ---------------------------------------------------------- sweeps
    def open_sweep(
        self, sweep_id: str, spec: dict, name: str = "", address: str = "", driver: str = ""
    ) -> bool:
        """Create the sweep's row, or mark an existing one running again (a re-submission);
        True when it was created."""
        now = _now()
        values = dict(status="running", message="", updated_at=now, finished_at=None)
        values.update(address=address, driver=driver)
        with self.engine.begin() as c:
            found = c.execute(sa.select(sweeps.c.id).where(sweeps.c.id == sweep_id)).first()
            if found is None:
                c.execute(
                    sweeps.insert().values(
                        id=sweep_id, name=name, created_at=now, spec=spec, **values
                    )
                )
                return True
            c.execute(sweeps.update().where(sweeps.c.id == sweep_id).values(**values))
        return False

    def update_sweep(self, sweep_id: str, **values: Any) -> None:
        """Set columns of the sweep's row; ``updated_at`` (the heartbeat) is set too."""
        if values.get("status") in ("done", "failed", "interrupted"):
            values.setdefault("finished_at", _now())
        values.setdefault("updated_at", _now())
        with self.engine.begin() as c:
            c.execute(sweeps.update().where(sweeps.c.id == sweep_id).values(**values))

    def get_sweep(self, sweep_id: str) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(sweeps.select().where(sweeps.c.id == sweep_id)).mappings().first()
        return dict(row) if row else None

    def list_sweeps(self, limit: int = 50) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(
                sweeps.select().order_by(sweeps.c.created_at.desc()).limit(limit)
            ).mappings()
            return [dict(r) for r in rows]

    def add_sweep_runs(self, sweep_id: str, planned: list[dict]) -> None:
        """Rows for the planned runs (``position``, ``key``, ``model``, ``dataset``, ``target``)
        that the sweep has no row for yet, as pending; existing rows stay as they are."""
        with self.engine.begin() as c:
            have = {
                r[0]
                for r in c.execute(
                    sa.select(sweep_runs.c.key).where(sweep_runs.c.sweep_id == sweep_id)
                )
            }
            rows = [
                {
                    "sweep_id": sweep_id,
                    "status": "pending",
                    "attempts": 0,
                    "message": "",
                    "history": [],
                    "updated_at": _now(),
                    **{k: p[k] for k in ("position", "key", "model", "dataset", "target")},
                }
                for p in planned
                if p["key"] not in have
            ]
            if rows:
                c.execute(sweep_runs.insert(), rows)

    def update_sweep_run(self, sweep_id: str, key: str, **values: Any) -> None:
        """Set columns of one planned run; ``status`` must be one of ``SWEEP_RUN_STATES``."""
        if "status" in values and values["status"] not in SWEEP_RUN_STATES:
            raise ValueError(f"unknown sweep run status {values['status']!r}")
        values.setdefault("updated_at", _now())
        if values.get("status") in ("done", "failed"):
            values.setdefault("finished_at", _now())
        with self.engine.begin() as c:
            c.execute(
                sweep_runs.update()
                .where(sweep_runs.c.sweep_id == sweep_id, sweep_runs.c.key == key)
                .values(**values)
            )

    def sweep_runs_for(self, sweep_id: str) -> list[dict]:
        """The sweep's planned runs in their order."""
        with self.engine.connect() as c:
            rows = c.execute(
                sweep_runs.select()
                .where(sweep_runs.c.sweep_id == sweep_id)
                .order_by(sweep_runs.c.position, sweep_runs.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    def done_run_for_key(self, key: str) -> dict | None:
        """The newest planned run with this key that is done, in any sweep: a re-submitted or
        overlapping sweep skips it."""
        with self.engine.connect() as c:
            row = (
                c.execute(
                    sweep_runs.select()
                    .where(sweep_runs.c.key == key, sweep_runs.c.status == "done")
                    .order_by(sweep_runs.c.finished_at.desc(), sweep_runs.c.id.desc())
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def sweep_counts(self, sweep_id: str) -> dict[str, int]:
        """How many of the sweep's runs are in each state (every state present, 0 if none)."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(sweep_runs.c.status, sa.func.count())
                .where(sweep_runs.c.sweep_id == sweep_id)
                .group_by(sweep_runs.c.status)
            ).all()
        counts = dict.fromkeys(SWEEP_RUN_STATES, 0)
        counts.update({str(status): int(n) for status, n in rows})
        return counts

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
