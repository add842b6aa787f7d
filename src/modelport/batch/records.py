"""Batch scoring's public records: plain frozen dataclasses, detached from the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from .pipeline import Pipeline

RUN_STATES = ("queued", "running", "completed", "failed", "canceled")
FINISHED = ("completed", "failed", "canceled")
TASK_STATES = ("pending", "running", "completed", "failed", "canceled", "skipped")


@dataclass(frozen=True)
class PipelineVersion:
    name: str
    version: int
    pipeline: Pipeline
    files: tuple[dict[str, Any], ...]
    created_at: datetime
    published: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "published": self.published,
            "description": self.pipeline.description,
            "created_at": self.created_at.isoformat(),
            "definition": self.pipeline.to_dict(),
            "files": list(self.files),
        }


@dataclass(frozen=True)
class Task:
    id: int
    step: str
    key: str
    status: str
    partition: dict[str, Any]
    model: str | None
    rows_in: int | None
    rows_out: int | None
    attempts: int
    duration_s: float | None
    output: str | None
    log: str | None
    error: str | None
    started_at: datetime | None
    ended_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("started_at", "ended_at"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


@dataclass(frozen=True)
class Run:
    id: str
    pipeline: str
    pipeline_version: int
    experiment: str
    parameters: dict[str, Any]
    engine: str
    workers: int | None
    status: str
    trigger: str
    output_url: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    cancel_requested: bool
    tasks: tuple[Task, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at or datetime.now(self.started_at.tzinfo)
        return (end - self.started_at).total_seconds()

    def counts(self) -> dict[str, int]:
        out = {state: 0 for state in TASK_STATES}
        for task in self.tasks:
            out[task.status] = out.get(task.status, 0) + 1
        return {k: v for k, v in out.items() if v}

    def to_dict(self, tasks: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "pipeline": self.pipeline,
            "pipeline_version": self.pipeline_version,
            "experiment": self.experiment,
            "parameters": self.parameters,
            "engine": self.engine,
            "workers": self.workers,
            "status": self.status,
            "trigger": self.trigger,
            "output_url": self.output_url,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "duration_s": self.duration_s,
            "tasks_by_status": self.counts(),
            "rows_in": sum(t.rows_in or 0 for t in self.tasks),
            "rows_out": sum(t.rows_out or 0 for t in self.tasks),
        }
        if tasks:
            out["tasks"] = [t.to_dict() for t in self.tasks]
        return out


@dataclass(frozen=True)
class Fire:
    """A slot of a schedule that a scheduler started: its run, or why it has none."""

    slot: datetime
    fired_at: datetime
    run_id: str | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.slot.isoformat(),
            "fired_at": self.fired_at.isoformat(),
            "run_id": self.run_id,
            "error": self.error,
        }


@dataclass(frozen=True)
class Schedule:
    name: str
    pipeline: str
    pipeline_version: int | None  # None: the published version at each slot
    cron: str
    timezone: str
    parameters: dict[str, Any]
    experiment: str
    engine: str
    missed: str
    paused: bool
    next_slot: datetime
    created_at: datetime
    fires: tuple[Fire, ...] = ()  # the newest first, when asked for

    @property
    def ref(self) -> str:
        return self.pipeline + ("@published" if self.pipeline_version is None else f":{self.pipeline_version}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pipeline": self.pipeline,
            "pipeline_version": self.pipeline_version,
            "cron": self.cron,
            "timezone": self.timezone,
            "parameters": self.parameters,
            "experiment": self.experiment,
            "engine": self.engine,
            "missed": self.missed,
            "paused": self.paused,
            "next_slot": self.next_slot.isoformat(),
            "created_at": self.created_at.isoformat(),
            "fires": [f.to_dict() for f in self.fires],
        }


def below_step(path: str, run_id: str, step: str) -> str:
    """Where an output lies below its step's folder (``.../<run id>/.../<step>/``), its folders kept: the parts of
    a split file (``data/part-00000.csv``) and the files of an input's subfolders would otherwise share names."""
    after = path.find(f"/{run_id}/")
    start = path.find(f"/{step}/", after) if after >= 0 else -1
    return path[start + len(step) + 2 :] if start >= 0 else path.rsplit("/", 1)[-1]
