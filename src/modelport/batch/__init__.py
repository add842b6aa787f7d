"""Batch scoring: pipelines (score and script steps with parameters), their runs and tasks, the engines that run
them (a local process pool, Ray), schedules and ingestion.

>>> from modelport import Workspace
>>> from modelport.batch import PipelineRegistry, RunExecutor, RunRegistry
>>> ws = Workspace()
>>> PipelineRegistry(ws).register("pipeline.yaml")                 # doctest: +SKIP
>>> run = RunRegistry(ws).create("iot-anomaly", {"batch_size": 50})  # doctest: +SKIP
>>> RunExecutor(ws).execute(run.id).status                           # doctest: +SKIP
'completed'
"""

from .pipeline import Output, Parameter, Pipeline, ScoreStep, ScriptStep
from .pipelines import PipelineRegistry
from .records import PipelineVersion, Run, Task
from .runner import Progress, RunExecutor
from .runs import RunRegistry

__all__ = [
    "Output",
    "Parameter",
    "Pipeline",
    "PipelineRegistry",
    "PipelineVersion",
    "Progress",
    "Run",
    "RunExecutor",
    "RunRegistry",
    "ScoreStep",
    "ScriptStep",
    "Task",
]
