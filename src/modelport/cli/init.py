"""``modelport init``: create (or open) the workspace and say where it is."""

from __future__ import annotations

from typing import Annotated

import typer

from ._output import JSON_OPTION, console, fields, open_workspace, print_json


def init(ctx: typer.Context, json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Create the workspace (database, artifact store, cache) if needed, and show where it lives."""
    with open_workspace(ctx) as ws:
        where = ws.describe()
        where["models"] = str(len(ws.models.names()))
    if json:
        print_json(where)
        return
    console.print("Workspace ready.")
    fields(where)
