"""Pipeline definitions: YAML and Python, checked before anything runs, with precise messages; versions by
content; parameters with defaults, overrides and types."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelport import InvalidInputError, NotFoundError, Workspace
from modelport.batch import Pipeline, PipelineRegistry, ScoreStep, ScriptStep
from modelport.batch.pipeline import dependencies

from .conftest import PIPELINE


def test_the_example_pipeline_reads_and_round_trips() -> None:
    pipeline = Pipeline.from_yaml(PIPELINE)

    (step,) = pipeline.steps
    assert isinstance(step, ScoreStep)
    assert step.model == "sensor-{Device}-{Tag}" and step.partition_by == ("Device", "Tag")
    assert step.labels == {1: 0, -1: 1}
    assert Pipeline.from_dict(pipeline.to_dict()) == pipeline
    assert Pipeline.from_dict(__import__("yaml").safe_load(pipeline.to_yaml())) == pipeline


def test_parameters_default_override_and_take_the_defaults_type() -> None:
    pipeline = Pipeline.from_yaml(PIPELINE)

    assert pipeline.resolve_parameters() == {"input": "examples/data/sensor_data.csv", "batch_size": 1000}
    assert pipeline.resolve_parameters({"batch_size": "50"})["batch_size"] == 50
    bound = pipeline.bind(pipeline.resolve_parameters({"batch_size": "50"}), {"score": "/out/score"}, "r1")
    assert bound.steps[0].mini_batch_size == 50  # type: ignore[union-attr]


def test_a_required_parameter_must_be_given() -> None:
    pipeline = Pipeline.from_dict(
        {
            "name": "p",
            "parameters": {"day": {"required": True, "description": "the day to score"}},
            "steps": [{"name": "s", "type": "score", "model": "m", "input": "data/${day}.csv"}],
        }
    )
    with pytest.raises(InvalidInputError, match="needs parameter 'day': pass --param day=VALUE"):
        pipeline.resolve_parameters()
    bound = pipeline.bind(pipeline.resolve_parameters({"day": "2026-12-02"}), {"s": "/o"}, "r")
    assert bound.steps[0].input == "data/2026-12-02.csv"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"name": "p", "steps": []}, "'steps' must be a non-empty list"),
        ({"name": "p", "steps": [{"name": "s", "type": "map"}]}, "'type' must be score or script, not 'map'"),
        ({"name": "p", "steps": [{"name": "s", "type": "score", "input": "x"}]}, "'model' is required"),
        (
            {"name": "p", "steps": [{"name": "s", "type": "score", "model": "m-{Device}", "input": "x"}]},
            "uses {Device}, which is not a partition column",
        ),
        (
            {"name": "p", "steps": [{"name": "s", "type": "score", "model": "m", "input": "${day}"}]},
            r"refers to \$\{day\}, which is not a parameter",
        ),
        (
            {"name": "p", "steps": [{"name": "s", "type": "script", "script": "a.py", "args": ["${steps.t.output}"]}]},
            "no earlier step is named 't'",
        ),
        (
            {"name": "p", "steps": [{"name": "s", "type": "score", "model": "m", "input": "x", "colour": 1}]},
            "unknown field\\(s\\) 'colour'",
        ),
        (
            {"name": "p", "steps": [{"name": "s", "type": "score", "model": "m", "input": "x", "method": "guess"}]},
            "method 'guess' is not one of",
        ),
        (
            {"name": "p", "steps": [{"name": "s", "type": "script", "script": "a.py"}] * 2},
            "two steps named 's'",
        ),
        ({"name": "bad name", "steps": [{"name": "s", "type": "script", "script": "a.py"}]}, "invalid pipeline name"),
    ],
)
def test_a_bad_definition_is_refused_with_what_is_wrong(definition: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Pipeline.from_dict(definition)


def test_bad_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the pipeline file"):
        Pipeline.from_yaml(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(InvalidInputError, match="is not valid YAML"):
        Pipeline.from_yaml(tmp_path / "bad.yaml")


def test_dependencies_come_from_depends_on_and_output_references() -> None:
    step = ScriptStep(name="b", script="b.py", args=("${steps.a.output}",), depends_on=("c",))
    assert dependencies(step) == {"a", "c"}


def test_versions_follow_content_and_scripts(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    registry = PipelineRegistry(sqlite_workspace)
    (tmp_path / "job.py").write_text("print(1)\n")
    (tmp_path / "p.yaml").write_text("name: job\nsteps:\n  - {name: run, type: script, script: job.py}\n")

    first = registry.register(tmp_path / "p.yaml")
    same = registry.register(tmp_path / "p.yaml")
    (tmp_path / "job.py").write_text("print(2)\n")
    changed_script = registry.register(tmp_path / "p.yaml")

    assert (first.version, same.version, changed_script.version) == (1, 1, 2)
    assert registry.get("job").version == 2 and registry.get("job:1").files != changed_script.files
    with pytest.raises(NotFoundError, match="no published version"):
        registry.get("job@published")
    assert registry.publish("job:1").published
    assert registry.get("job@published").version == 1
    with pytest.raises(NotFoundError, match=r"Did you mean 'job'\?"):
        registry.get("jobs")
    (tmp_path / "q.yaml").write_text("name: q\nsteps:\n  - {name: run, type: script, script: absent.py}\n")
    with pytest.raises(InvalidInputError, match=r"absent\.py does not exist"):
        registry.register(tmp_path / "q.yaml")
    assert [v.ref for v in registry.list()] == ["job:1", "job:2"]
