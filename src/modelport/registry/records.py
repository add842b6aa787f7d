"""The registry's public records: plain frozen dataclasses, detached from the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..errors import InvalidInputError


@dataclass(frozen=True)
class Resources:
    """What one replica of the model needs: CPU cores, memory in GB and GPUs. ``None`` means unstated."""

    cpu: float | None = None
    memory_gb: float | None = None
    gpu: int | None = None

    def __post_init__(self) -> None:
        for key in ("cpu", "memory_gb", "gpu"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise InvalidInputError(f"resource {key} must be a number >= 0, got {value!r}")
        if self.gpu is not None and int(self.gpu) != self.gpu:
            raise InvalidInputError(f"resource gpu must be a whole number, got {self.gpu!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ModelFile:
    path: str
    role: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, as stored in the workspace."""

    name: str
    version: int
    framework: str
    model_path: str
    created_at: datetime
    description: str = ""
    entry_script: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    sample_input: Any = None
    sample_output: Any = None
    signature: dict[str, Any] | None = None
    resources: Resources = field(default_factory=Resources)
    runtime_options: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    files: tuple[ModelFile, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["resources"] = self.resources.to_dict()
        data["aliases"] = list(self.aliases)
        data["files"] = [asdict(f) for f in self.files]
        return data


@dataclass(frozen=True)
class EnvironmentVersion:
    """One registered version of an environment: a Python version and pip requirements."""

    name: str
    version: int
    python_version: str
    requirements: tuple[str, ...]
    created_at: datetime
    base_image: str | None = None
    description: str = ""
    content_hash: str = ""

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["requirements"] = list(self.requirements)
        return data
