"""A pipeline's definition: parameters and steps, from Python or YAML, checked before anything runs.

A pipeline in YAML::

    name: iot-anomaly
    parameters:
      input: {default: data/sensor_data.csv, description: the readings to score}
      batch_size: 1000                       # shorthand for {default: 1000}
    steps:
      - name: score
        type: score
        model: sensor-{Device}-{Tag}         # one model per partition; or NAME, NAME:VERSION, NAME@ALIAS
        input: ${input}                      # a file, a folder or a glob, on any fsspec store
        partition_by: [Device, Tag]
        features: [Value]
        mini_batch_size: ${batch_size}
        labels: {1: 0, -1: 1}                # what to write for each predicted value
        keep: [TS, Device, Tag, Value]
        output: {name: "{Device}-{Tag}.csv"}
      - name: report
        type: script
        script: report.py                    # beside the YAML file; stored with the pipeline version
        args: [--predictions, "${steps.score.output}", --out, "${output}"]

``${NAME}`` is a pipeline parameter (a whole-string ``${NAME}`` keeps the parameter's type), ``${steps.S.output}``
the output folder of step S (which makes this step depend on S), ``${output}`` this step's own output folder and
``${run_id}`` the run's id. ``{Column}`` in ``model`` and ``output.name`` is the partition's value of that column.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import InvalidInputError
from ..registry.refs import validate_name

FORMATS = ("csv", "parquet")
EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}  # what a file's name says it holds
METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Parameter:
    """A pipeline parameter; without a default it must be given at each run."""

    name: str
    default: Any = None
    required: bool = False
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description} if self.description else {}
        if self.required:
            out["required"] = True
        else:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Output:
    """Where a score step writes: one file per task named by ``name`` (a template of partition columns; default the
    partition's values, or the input file's name), under ``url`` (default: the run's own folder in the store)."""

    name: str | None = None
    format: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in {"name": self.name, "format": self.format, "url": self.url}.items() if v is not None}

    @property
    def named_format(self) -> str | None:
        """The format the name's extension says (``.csv``; ``.parquet`` or ``.pq``), if it says one."""
        return EXTENSIONS.get(os.path.splitext(self.name or "")[1].lower())


@dataclass(frozen=True)
class ScoreStep:
    """Score a dataset with a model, or with one model per partition (``model`` a template of partition columns)."""

    name: str
    model: str
    input: str
    partition_by: tuple[str, ...] = ()
    features: tuple[str, ...] | None = None
    keep: tuple[str, ...] | None = None
    mini_batch_size: Any = 10_000
    split_rows: Any = None
    method: str = "predict"
    prediction_column: str = "Prediction"
    labels: Mapping[Any, Any] | None = None
    format: str | None = None
    output: Output = field(default_factory=Output)
    retries: Any = 2
    depends_on: tuple[str, ...] = ()
    new_files_only: bool = False  # score only the input files no earlier run of the pipeline took for this step

    type = "score"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": "score", "model": self.model, "input": self.input}
        optional = {
            "partition_by": list(self.partition_by) or None,
            "features": None if self.features is None else list(self.features),
            "keep": None if self.keep is None else list(self.keep),
            "mini_batch_size": self.mini_batch_size,
            "split_rows": self.split_rows,
            "method": self.method,
            "prediction_column": self.prediction_column,
            "labels": None if self.labels is None else [[k, v] for k, v in self.labels.items()],
            "format": self.format,
            "output": self.output.to_dict() or None,
            "retries": self.retries,
            "depends_on": list(self.depends_on) or None,
            "new_files_only": self.new_files_only or None,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out


@dataclass(frozen=True)
class ScriptStep:
    """Run a Python script with arguments (``${...}`` filled in), as Azure ML's ``PythonScriptStep``."""

    name: str
    script: str
    args: tuple[Any, ...] = ()
    source_directory: str | None = None
    timeout_s: Any = None
    retries: Any = 0
    depends_on: tuple[str, ...] = ()

    type = "script"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": "script", "script": self.script}
        optional = {
            "args": list(self.args) or None,
            "source_directory": self.source_directory,
            "timeout_s": self.timeout_s,
            "retries": self.retries,
            "depends_on": list(self.depends_on) or None,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out


Step = ScoreStep | ScriptStep


@dataclass(frozen=True)
class Pipeline:
    """A named, ordered set of steps with parameters. ``base_dir`` is where a script step's files are read from
    when the pipeline is registered (the YAML file's folder)."""

    name: str
    steps: tuple[Step, ...]
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    description: str = ""
    base_dir: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        validate_name(self.name, "pipeline")
        if not self.steps:
            raise InvalidInputError(f"pipeline {self.name!r} has no steps")
        seen: set[str] = set()
        for step in self.steps:
            _check_step(step, self, seen)
            seen.add(step.name)

    # -- reading ------------------------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Pipeline:
        source = Path(path)
        try:
            data = yaml.safe_load(source.read_text())
        except OSError as exc:
            raise InvalidInputError(f"cannot read the pipeline file {source}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise InvalidInputError(f"the pipeline file {source} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidInputError(f"the pipeline file {source} must hold a mapping with name, parameters and steps")
        return cls.from_dict(data, base_dir=source.resolve().parent, origin=str(source))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base_dir: Path | None = None, origin: str = "pipeline") -> Pipeline:
        _only(data, {"name", "description", "parameters", "steps"}, origin)
        name = data.get("name")
        if not isinstance(name, str):
            raise InvalidInputError(f"{origin}: 'name' is required and must be a string")
        raw_parameters = data.get("parameters") or {}
        if not isinstance(raw_parameters, dict):
            raise InvalidInputError(f"{origin}: 'parameters' must be a mapping of name to default or settings")
        parameters = {str(k): _parameter(str(k), v, origin) for k, v in raw_parameters.items()}
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise InvalidInputError(f"{origin}: 'steps' must be a non-empty list of steps")
        steps = tuple(_step(raw, i, origin) for i, raw in enumerate(raw_steps))
        description = data.get("description") or ""
        if not isinstance(description, str):
            raise InvalidInputError(f"{origin}: 'description' must be a string")
        return cls(name=name, steps=steps, parameters=parameters, description=description, base_dir=base_dir)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.parameters:
            out["parameters"] = {k: p.to_dict() for k, p in self.parameters.items()}
        out["steps"] = [s.to_dict() for s in self.steps]
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def content_hash(self, files: Sequence[Mapping[str, Any]] = ()) -> str:
        """The identity of a version: the definition and its scripts' contents (not where they were read from)."""
        payload = {"definition": self.to_dict(), "files": sorted((f["path"], f["sha256"]) for f in files)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise InvalidInputError(f"pipeline {self.name!r} has no step {name!r}")

    # -- parameters ---------------------------------------------------------------------------------------------

    def resolve_parameters(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The parameters of a run: the defaults, overridden; unknown names and missing required ones refused.
        An override given as text (``--param batch_size=50``) takes the type of the default."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.parameters))
        if unknown:
            known = ", ".join(sorted(self.parameters)) or "none"
            raise InvalidInputError(
                f"pipeline {self.name!r} has no parameter(s) {', '.join(map(repr, unknown))}; its parameters: {known}"
            )
        values: dict[str, Any] = {}
        for name, parameter in self.parameters.items():
            if name in overrides:
                values[name] = _coerce(overrides[name], parameter)
            elif parameter.required:
                raise InvalidInputError(f"pipeline {self.name!r} needs parameter {name!r}: pass --param {name}=VALUE")
            else:
                values[name] = parameter.default
        return values

    def bind(self, values: Mapping[str, Any], outputs: Mapping[str, str], run_id: str) -> Pipeline:
        """The steps with every ``${...}`` filled in: parameters, step outputs and the run id."""
        bound = []
        for step in self.steps:
            context = {**{f"steps.{k}.output": v for k, v in outputs.items()}, "output": outputs[step.name]}
            context.update({"run_id": run_id, **values})
            changes = {
                k: _fill(getattr(step, k), context, f"step {step.name!r} field {k!r}")
                for k in _fillable(step)
                if getattr(step, k) is not None
            }
            if isinstance(step, ScoreStep):
                changes["output"] = replace(step.output, url=_fill(step.output.url, context, "output.url"))
            # the steps it reads the outputs of stay among those it waits for once their references are filled in
            changes["depends_on"] = tuple(sorted(dependencies(step)))
            bound.append(replace(step, **changes))
        return replace(self, steps=tuple(bound))

    def order(self) -> list[Step]:
        """The steps in an order where each comes after those it depends on (the file's order, which is checked)."""
        return list(self.steps)


def dependencies(step: Step) -> set[str]:
    """What a step waits for: its ``depends_on`` and every ``${steps.S.output}`` it reads."""
    found = set(step.depends_on)
    for name in _fillable(step):
        for text in _strings(getattr(step, name)):
            for ref in _REFERENCE.findall(text):
                if ref.startswith("steps."):
                    found.add(ref.split(".")[1])
    return found


def _fillable(step: Step) -> tuple[str, ...]:
    if isinstance(step, ScoreStep):
        return ("model", "input", "mini_batch_size", "split_rows", "retries", "format", "features", "keep")
    return ("script", "args", "timeout_s", "retries")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _fill(value: Any, context: Mapping[str, Any], where: str) -> Any:
    if isinstance(value, tuple | list):
        return type(value)(_fill(v, context, where) for v in value)
    if not isinstance(value, str):
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole:
        return _lookup(whole.group(1), context, where)
    return _REFERENCE.sub(lambda m: str(_lookup(m.group(1), context, where)), value)


def _lookup(name: str, context: Mapping[str, Any], where: str) -> Any:
    if name not in context:
        raise InvalidInputError(f"{where} refers to ${{{name}}}, which is not a parameter or a step's output")
    return context[name]


def _check_step(step: Step, pipeline: Pipeline, earlier: set[str]) -> None:
    where = f"pipeline {pipeline.name!r} step {step.name!r}"
    validate_name(step.name, "step")
    if step.name in earlier:
        raise InvalidInputError(f"pipeline {pipeline.name!r} has two steps named {step.name!r}")
    for ref in {r for k in _fillable(step) for t in _strings(getattr(step, k)) for r in _REFERENCE.findall(t)}:
        if ref.startswith("steps."):
            parts = ref.split(".")
            if len(parts) != 3 or parts[2] != "output":
                raise InvalidInputError(f"{where}: ${{{ref}}} is not a step output; write ${{steps.STEP.output}}")
            if parts[1] not in earlier:
                raise InvalidInputError(f"{where} reads ${{{ref}}}, but no earlier step is named {parts[1]!r}")
        elif ref not in ("output", "run_id") and ref not in pipeline.parameters:
            known = ", ".join(sorted(pipeline.parameters)) or "none"
            raise InvalidInputError(f"{where} refers to ${{{ref}}}, which is not a parameter (parameters: {known})")
    for dependency in step.depends_on:
        if dependency not in earlier:
            raise InvalidInputError(f"{where} depends on {dependency!r}, which is not an earlier step")
    if isinstance(step, ScoreStep):
        _check_score(step, where)


def _check_score(step: ScoreStep, where: str) -> None:
    columns = set(step.partition_by)
    for text, what in ((step.model, "model"), (step.output.name, "output.name")):
        for name in _template_fields(text, f"{where} {what}"):
            if name not in columns:
                raise InvalidInputError(
                    f"{where}: {what} {text!r} uses {{{name}}}, which is not a partition column "
                    f"(partition_by: {', '.join(step.partition_by) or 'none'})"
                )
    if step.method not in METHODS:
        raise InvalidInputError(f"{where}: method {step.method!r} is not one of {', '.join(METHODS)}")
    for fmt in (step.format, step.output.format):
        if fmt is not None and fmt not in FORMATS:
            raise InvalidInputError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    named = step.output.named_format
    if step.output.format is not None and named is not None and named != step.output.format:
        raise InvalidInputError(
            f"{where}: output name {step.output.name!r} says {named}, but output format is {step.output.format}: "
            "make them agree (or leave format out: the name's extension picks it)"
        )
    if not step.prediction_column:
        raise InvalidInputError(f"{where}: prediction_column must not be empty")
    if step.split_rows is not None and step.partition_by:
        raise InvalidInputError(
            f"{where}: split_rows cuts each input file into parts; a partitioned step's tasks are its partitions: "
            "leave out one of split_rows and partition_by"
        )


def _template_fields(text: str | None, where: str) -> list[str]:
    if not text:
        return []
    plain = _REFERENCE.sub("", text)
    try:
        return [name for _, name, _, _ in string.Formatter().parse(plain) if name is not None]
    except ValueError as exc:
        raise InvalidInputError(f"{where} {text!r} is not a valid template: {exc}") from exc


def _only(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInputError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; expected: {', '.join(sorted(allowed))}"
        )


def _parameter(name: str, raw: Any, origin: str) -> Parameter:
    if not _PARAMETER_NAME.match(name):
        raise InvalidInputError(f"{origin}: parameter name {name!r} must be letters, digits and _ (not first a digit)")
    if not isinstance(raw, dict):
        return Parameter(name, default=raw)
    _only(raw, {"default", "required", "description"}, f"{origin} parameter {name!r}")
    required = bool(raw.get("required", "default" not in raw))
    return Parameter(name, default=raw.get("default"), required=required, description=str(raw.get("description", "")))


def _step(raw: Any, index: int, origin: str) -> Step:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{origin}: step {index + 1} must be a mapping with name and type")
    name, kind = raw.get("name"), raw.get("type")
    where = f"{origin} step {name or index + 1!r}"
    if not isinstance(name, str):
        raise InvalidInputError(f"{where}: 'name' is required")
    common: dict[str, Any] = {"name": name, "depends_on": _names(raw.get("depends_on"), where, "depends_on") or ()}
    if kind == "score":
        _only(raw, {*ScoreStep.__dataclass_fields__, "type"} - {"type_"}, where)
        for required in ("model", "input"):
            if not isinstance(raw.get(required), str):
                raise InvalidInputError(f"{where}: '{required}' is required and must be a string")
        output = raw.get("output") or {}
        if isinstance(output, str):
            output = {"name": output}
        if not isinstance(output, dict):
            raise InvalidInputError(f"{where}: 'output' must be a mapping with name, format and url")
        _only(output, {"name", "format", "url"}, f"{where} output")
        labels = raw.get("labels")
        if isinstance(labels, list):  # the stored form: pairs, so that numeric keys survive JSON
            labels = dict(tuple(pair) for pair in labels)
        if labels is not None and not isinstance(labels, dict):
            raise InvalidInputError(f"{where}: 'labels' must map predicted values to the values to write")
        new_files_only = raw.get("new_files_only", False)
        if not isinstance(new_files_only, bool):
            raise InvalidInputError(f"{where}: 'new_files_only' must be true or false, not {new_files_only!r}")
        optional = {
            k: raw[k]
            for k in ("mini_batch_size", "split_rows", "method", "prediction_column", "format", "retries")
            if k in raw
        }
        return ScoreStep(
            model=raw["model"],
            input=raw["input"],
            partition_by=tuple(_names(raw.get("partition_by"), where, "partition_by") or ()),
            features=_names(raw.get("features"), where, "features"),
            keep=_names(raw.get("keep"), where, "keep"),
            labels=labels,
            new_files_only=new_files_only,
            output=Output(**{k: None if v is None else str(v) for k, v in output.items()}),
            **common,
            **optional,
        )
    if kind == "script":
        _only(raw, {"name", "type", "script", "args", "source_directory", "timeout_s", "retries", "depends_on"}, where)
        if not isinstance(raw.get("script"), str):
            raise InvalidInputError(f"{where}: 'script' is required: the path of a Python file")
        args = raw.get("args") or []
        if not isinstance(args, list):
            raise InvalidInputError(f"{where}: 'args' must be a list")
        optional = {k: raw[k] for k in ("source_directory", "timeout_s", "retries") if k in raw}
        return ScriptStep(script=raw["script"], args=tuple(args), **common, **optional)
    raise InvalidInputError(f"{where}: 'type' must be score or script, not {kind!r}")


def _names(value: Any, where: str, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{where}: '{what}' must be a list of names")
    return tuple(value)


def _coerce(value: Any, parameter: Parameter) -> Any:
    default = parameter.default
    if default is None or not isinstance(value, str) or isinstance(default, str):
        return value
    target = type(default)
    try:
        loaded = yaml.safe_load(value)
        if target is bool:
            if not isinstance(loaded, bool):
                raise ValueError
            return loaded
        if target in (int, float):
            return target(loaded)
        return loaded
    except (ValueError, TypeError, yaml.YAMLError):
        raise InvalidInputError(
            f"parameter {parameter.name!r} takes values of type {target.__name__} (default {default!r}), not {value!r}"
        ) from None
