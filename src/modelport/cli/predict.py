"""``modelport predict``: score JSON input in-process with a registered model and print JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..codecs.json import loads
from ..errors import InvalidInputError
from ._output import open_workspace, parse_pairs, print_json, read_input


def predict(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    input_path: Annotated[str, typer.Option("--input", "-i", help="JSON input file, or - for standard input.")] = "-",
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="Runtime option KEY=VALUE, e.g. method=predict_proba.")
    ] = None,
    entry_script: Annotated[
        Path | None, typer.Option(help="Score with this script instead of the registered one.")
    ] = None,
    source_dir: Annotated[Path | None, typer.Option(help="The entry script's source folder.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Compact one-line JSON.")] = False,
) -> None:
    """Load a model version in-process, score the JSON input and print the result as JSON.

    No-code models take {"data": ...} (rows, columns or records) or the data itself; models with an entry
    script receive the input as their run() function expects it.
    """
    raw = read_input(input_path)
    if not raw.strip():
        raise InvalidInputError("the input is empty: expected a JSON document")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"the input is not UTF-8 text: {exc}") from exc
    with open_workspace(ctx) as ws:
        runtime = ws.models.load(
            ref, entry_script=entry_script, source_directory=source_dir, **parse_pairs(option, "option", typed=True)
        )
        try:
            payload = text if runtime.framework == "script" else loads(text)
            result = runtime.predict(payload)
        finally:
            runtime.unload()
    print_json(result, indent=not json)
