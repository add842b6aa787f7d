"""A one-step pipeline that runs in about a second: its script writes a greeting into its output folder."""

from __future__ import annotations

from pathlib import Path

from modelport import Workspace
from modelport.batch import PipelineRegistry, PipelineVersion

SCRIPT = """\
import os, pathlib, sys
out = pathlib.Path(os.environ["MODELPORT_OUTPUT"])
out.mkdir(parents=True, exist_ok=True)
(out / "greeting.txt").write_text(f"hello {sys.argv[1]}\\n")
"""

PIPELINE = """\
name: hello
description: write a greeting
parameters:
  who: world
steps:
  - name: write
    type: script
    script: write.py
    args: ["${who}"]
"""


def register_hello(ws: Workspace, folder: Path, publish: bool = True) -> PipelineVersion:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "write.py").write_text(SCRIPT)
    (folder / "pipeline.yaml").write_text(PIPELINE)
    pipelines = PipelineRegistry(ws)
    version = pipelines.register(folder / "pipeline.yaml")
    return pipelines.publish(version.ref) if publish else version
