"""``modelport keys``: create, list and revoke the control-plane server's API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ._output import JSON_OPTION, console, err_console, open_workspace, print_json, table, when

if TYPE_CHECKING:
    pass

app = typer.Typer(help="Create, list and revoke API keys of modelport server.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the key (who or what uses it).")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Create a key and print it: it is shown this once, only its hash is kept."""
    from ..registry.keys import ApiKeyRegistry

    with open_workspace(ctx) as ws:
        new = ApiKeyRegistry(ws.engine).create(name)
    if json:
        print_json({**new.key.to_dict(), "key": new.secret})
        return
    console.print(new.secret)
    err_console.print(
        f"API key {name!r} created. Keep it now: it cannot be shown again. Send it as Authorization: Bearer KEY."
    )


@app.command("list")
def list_(ctx: typer.Context, json: Annotated[bool, JSON_OPTION] = False) -> None:
    """List the keys: name, prefix, when created, last used and revoked (never the keys themselves)."""
    from ..registry.keys import ApiKeyRegistry

    with open_workspace(ctx) as ws:
        keys = ApiKeyRegistry(ws.engine).list()
    if json:
        print_json([k.to_dict() for k in keys])
        return
    if not keys:
        console.print("No API keys yet: modelport keys create NAME")
        return
    table(
        ["NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
        (
            (
                k.name,
                k.prefix + "...",
                when(k.created_at),
                when(k.last_used_at) if k.last_used_at else "never",
                when(k.revoked_at) if k.revoked_at else "",
            )
            for k in keys
        ),
    )


@app.command()
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The key's name.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from ..registry.keys import ApiKeyRegistry

    with open_workspace(ctx) as ws:
        key = ApiKeyRegistry(ws.engine).revoke(name)
    if json:
        print_json(key.to_dict())
    else:
        console.print(f"API key {key.name!r} ({key.prefix}...) is revoked.")
