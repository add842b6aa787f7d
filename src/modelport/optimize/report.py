"""What ``optimize`` found and decided, for people (the CLI renders it) and for scripts (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelportError
from .benchmark import Timing
from .equivalence import Equivalence, Tolerance

REGISTERED, DRY_RUN, REFUSED = "registered", "dry-run", "refused"


@dataclass
class OptimizeReport:
    """The checks, the measurements and the outcome: ``registered`` (``version`` names the new version),
    ``dry-run`` (everything passed; nothing was registered) or ``refused`` (``reason`` says why)."""

    source: str
    method: str
    tolerance: Tolerance
    min_speedup: float
    outcome: str = REFUSED
    reason: str | None = None
    layout: str | None = None
    output: str | None = None
    opset: int | None = None
    notes: list[str] = field(default_factory=list)
    equivalence: Equivalence | None = None
    timing: Timing | None = None
    version: str | None = None
    alias: str | None = None
    tools: dict[str, str] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.outcome == REFUSED

    def refuse(self, reason: str) -> OptimizeReport:
        self.outcome, self.reason = REFUSED, reason
        return self

    def measurements(self) -> dict[str, Any]:
        """What is stored in the new version's properties (``optimize``)."""
        return {
            "source": self.source,
            "method": self.method,
            "tolerance": {"rtol": self.tolerance.rtol, "atol": self.tolerance.atol},
            "layout": self.layout,
            "output": self.output,
            "opset": self.opset,
            "notes": list(self.notes),
            "equivalence": self.equivalence.to_dict() if self.equivalence else None,
            "timing": self.timing.to_dict() if self.timing else None,
            "tools": dict(self.tools),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "version": self.version,
            "alias": self.alias,
            "min_speedup": self.min_speedup,
            **self.measurements(),
        }


class OptimizationRefusedError(ModelportError):
    """``optimize`` did not register an ONNX version; ``report`` holds what it measured."""

    code = "optimization_refused"

    def __init__(self, report: OptimizeReport) -> None:
        super().__init__(f"{report.source} was not optimized: {report.reason}")
        self.report = report
