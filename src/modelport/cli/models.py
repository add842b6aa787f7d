"""``modelport models``: register, list, show, download, alias and delete model versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..codecs.json import loads
from ..errors import InvalidInputError
from ..registry import ModelVersion
from ..registry.frameworks import FRAMEWORKS
from ._output import (
    JSON_OPTION,
    console,
    fields,
    human_size,
    open_workspace,
    parse_pairs,
    print_json,
    table,
    when,
)

app = typer.Typer(help="Register, list, show, download, alias and delete model versions.", no_args_is_help=True)


def _read_json_file(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from exc
    return loads(text, what=f"{what} file {path}")


@app.command()
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name: letters, digits, '-', '_', '.'.")],
    path: Annotated[Path, typer.Argument(help="The model file or folder.")],
    framework: Annotated[
        str | None, typer.Option(help=f"One of {', '.join(FRAMEWORKS)}; detected when left out.")
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What this version is.")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="KEY=VALUE, repeatable.")] = None,
    prop: Annotated[list[str] | None, typer.Option("--property", "-p", help="KEY=VALUE, repeatable.")] = None,
    sample_input: Annotated[Path | None, typer.Option(help="JSON file with a sample request.")] = None,
    sample_output: Annotated[Path | None, typer.Option(help="JSON file with the matching response.")] = None,
    cpu: Annotated[float | None, typer.Option(help="CPU cores one replica needs.")] = None,
    memory_gb: Annotated[float | None, typer.Option(help="Memory in GB one replica needs.")] = None,
    gpu: Annotated[int | None, typer.Option(help="GPUs one replica needs.")] = None,
    entry_script: Annotated[
        Path | None, typer.Option(help="Scoring script with init() and run(data), stored with the model.")
    ] = None,
    source_dir: Annotated[
        Path | None, typer.Option(help="Folder stored as the script's code; --entry-script is relative to it.")
    ] = None,
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="Runtime option KEY=VALUE, e.g. method=predict_proba.")
    ] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", "-a", help="Point this alias at the new version.")
    ] = None,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Register a new version of NAME from a file or folder."""
    resources = {k: v for k, v in {"cpu": cpu, "memory_gb": memory_gb, "gpu": gpu}.items() if v is not None}
    with open_workspace(ctx) as ws:
        version = ws.models.register(
            name,
            path,
            framework=framework,
            description=description,
            tags=parse_pairs(tag, "tag", typed=False),
            properties=parse_pairs(prop, "property", typed=True),
            sample_input=_read_json_file(sample_input, "sample input"),
            sample_output=_read_json_file(sample_output, "sample output"),
            resources=resources,
            entry_script=entry_script,
            source_directory=source_dir,
            runtime_options=parse_pairs(option, "option", typed=True),
        )
        for name_of_alias in alias or ():
            version = ws.models.set_alias(version.name, name_of_alias, version.version)
    if json:
        print_json(version.to_dict())
        return
    console.print(
        f"Registered [bold]{version.ref}[/bold] ({version.framework}, {len(version.files)} file(s), "
        f"{human_size(version.size)})"
        + (f" as {', '.join('@' + a for a in version.aliases)}" if version.aliases else "")
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only versions with this tag: KEY or KEY=VALUE.")] = None,
    latest: Annotated[bool, typer.Option(help="Only the newest version of each model.")] = False,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """List model versions, newest first."""
    with open_workspace(ctx) as ws:
        versions = ws.models.list(name=name, tag=tag, latest=latest)
    if json:
        print_json([v.to_dict() for v in versions])
        return
    if not versions:
        console.print("No models match." if name or tag else "No models registered yet.")
        return
    table(
        ["NAME", "VERSION", "FRAMEWORK", "ALIASES", "TAGS", "SIZE", "CREATED"],
        (
            (
                v.name,
                v.version,
                v.framework,
                ", ".join(v.aliases),
                ", ".join(f"{k}={val}" if val else k for k, val in v.tags.items()),
                human_size(v.size),
                when(v.created_at),
            )
            for v in versions
        ),
    )


def _show(version: ModelVersion) -> None:
    resources = ", ".join(f"{k}={v}" for k, v in version.resources.to_dict().items())
    fields(
        {
            "model": version.ref,
            "framework": version.framework,
            "model path": version.model_path,
            "entry script": version.entry_script,
            "aliases": ", ".join(version.aliases),
            "description": version.description,
            "tags": ", ".join(f"{k}={v}" for k, v in version.tags.items()),
            "properties": ", ".join(f"{k}={v}" for k, v in version.properties.items()),
            "resources": resources,
            "runtime options": ", ".join(f"{k}={v}" for k, v in version.runtime_options.items()),
            "created": when(version.created_at),
            "size": human_size(version.size),
        }
    )
    if version.signature:
        table(
            ["", "NAME", "DATATYPE", "SHAPE"],
            [("input", t["name"], t["datatype"], t["shape"]) for t in version.signature.get("inputs", [])]
            + [("output", t["name"], t["datatype"], t["shape"]) for t in version.signature.get("outputs", [])],
            title="Signature",
        )
    table(
        ["ROLE", "PATH", "SIZE", "SHA256"],
        ((f.role, f.path, human_size(f.size), f.sha256) for f in version.files),
        title="Files",
    )


@app.command()
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Show everything about one model version: metadata, signature, files with sizes and hashes."""
    with open_workspace(ctx) as ws:
        version = ws.models.get(ref)
    if json:
        print_json(version.to_dict())
    else:
        _show(version)


@app.command()
def download(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION or NAME@ALIAS.")],
    destination: Annotated[Path, typer.Argument(help="A new (or empty) folder to write the files into.")],
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Write a version's files (verified against their hashes) into a folder."""
    with open_workspace(ctx) as ws:
        version = ws.models.get(ref)
        target = ws.models.download(version.ref, destination)
    if json:
        print_json({"model": version.ref, "path": str(target.resolve()), "files": len(version.files)})
    else:
        console.print(f"Downloaded {version.ref} ({len(version.files)} file(s)) to {target}")


@app.command()
def alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias, e.g. production or staging.")],
    version: Annotated[int | None, typer.Argument(help="The version the alias should point at.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias instead.")] = False,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Point NAME@ALIAS at VERSION (creating or moving it), or remove it with --remove."""
    with open_workspace(ctx) as ws:
        if remove:
            if version is not None:
                raise InvalidInputError("give either a VERSION to point the alias at or --remove, not both")
            ws.models.remove_alias(name, alias_name)
            result: dict[str, Any] = {"model": name, "alias": alias_name, "removed": True}
            message = f"Removed {name}@{alias_name}"
        else:
            if version is None:
                raise InvalidInputError(f"give the version {name}@{alias_name} should point at, or --remove")
            moved = ws.models.set_alias(name, alias_name, version)
            result = {"model": name, "alias": alias_name, "version": moved.version}
            message = f"{name}@{alias_name} -> {moved.ref}"
    if json:
        print_json(result)
    else:
        console.print(message)


@app.command()
def delete(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME:VERSION: the version to delete.")],
    force: Annotated[bool, typer.Option("--force", help="Delete even if aliases point at it (they go too).")] = False,
    json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Delete one model version and the artifacts no other version shares."""
    with open_workspace(ctx) as ws:
        deleted = ws.models.delete(ref, force=force)
    if json:
        print_json({"deleted": deleted.ref, "aliases_removed": list(deleted.aliases)})
    else:
        suffix = f" (removed aliases: {', '.join(deleted.aliases)})" if deleted.aliases else ""
        console.print(f"Deleted {deleted.ref}{suffix}")
