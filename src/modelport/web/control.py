"""The control-plane API of a workspace (``modelport server``): start published pipelines over REST, Azure ML
style, and follow their runs.

=======  ==============================  ======================================================================
method   path                            what it does
=======  ==============================  ======================================================================
GET      /health                         liveness; the only route that needs no key
GET      /pipelines                      the published pipelines
POST     /pipelines/{name}/runs          queue a run: ``{"ExperimentName", "ParameterAssignments", "Version"}``
                                         -> 202 ``{"Id": RUN_ID}``
GET      /runs/{id}                      the run's status and tasks
GET      /runs/{id}/outputs              the files the run wrote (outputs and logs), with their sizes; those a
                                         step wrote elsewhere (its ``output.url``) as ``external/STEP/NAME``
GET      /runs/{id}/outputs/{path}       one of them
=======  ==============================  ======================================================================

Every route but ``/health`` needs ``Authorization: Bearer KEY`` with a key from ``modelport keys create``; without
one the answer is 401 with ``WWW-Authenticate: Bearer``. Errors have the one JSON shape of ``web.errors``.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import fsspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from ..batch import PipelineRegistry, Run, RunRegistry
from ..batch.records import below_step
from ..codecs.json import dumps, loads
from ..errors import InvalidInputError, NotFoundError
from ..registry import Workspace
from ..registry.keys import ApiKey, ApiKeyRegistry
from ..settings import ControlSettings
from .auth import BearerAuth
from .body import read_body
from .errors import error_body, error_response

RUN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "ExperimentName": str,
    "ParameterAssignments": dict,
    "Version": (int, str),
}
# what Azure ML's clients (the SDK, Data Factory's AzureMLExecutePipeline activity) also send, and that does not
# change what runs: accepted and not used
AZURE_INFORMATIONAL = frozenset({"RunSource", "ParentRunId", "Description", "ContinueOnStepFailure"})
# Azure ML data bindings: modelport pipelines take their paths as parameters, so only empty ones are accepted
AZURE_DATA_BINDINGS = ("DataPathAssignments", "DataSetDefinitionValueAssignments")
CHUNK = 1024 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]


class ControlApp:
    def __init__(self, workspace: Workspace, settings: ControlSettings, on_queued: Callable[[], None]) -> None:
        self.workspace = workspace
        self.settings = settings
        self.pipelines = PipelineRegistry(workspace)
        self.runs = RunRegistry(workspace)
        self.on_queued = on_queued

    @staticmethod
    def endpoint(handler: Endpoint) -> Endpoint:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(exc)

        return wrapped

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def list_pipelines(self, request: Request) -> Response:
        versions = await run_in_threadpool(self.pipelines.list)
        return _json([_pipeline(v) for v in versions if v.published])

    async def start_run(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = loads(await read_body(request, self.settings.max_body_bytes) or b"{}", what="request body")
        experiment, parameters, version = _run_request(body)
        key: ApiKey = request.scope["state"]["api_key"]

        def create() -> str:
            published = self.pipelines.get(f"{name}@published")  # only published pipelines are started over REST
            ref = published.ref if version is None else f"{name}:{version}"
            return self.runs.create(ref, parameters, experiment=experiment, trigger=f"rest:{key.name}").id

        run_id = await run_in_threadpool(create)
        self.on_queued()
        return _json({"Id": run_id}, 202, {"location": f"/runs/{run_id}"})

    async def get_run(self, request: Request) -> Response:
        run = await run_in_threadpool(self.runs.get, request.path_params["id"])
        return _json(run.to_dict())

    async def list_outputs(self, request: Request) -> Response:
        def find() -> dict[str, Any]:
            run = self.runs.get(request.path_params["id"])
            fs, root = fsspec.core.url_to_fs(run.output_url)
            found = fs.find(root, detail=True) if fs.exists(root) else {}
            files = []
            for path, info in sorted(found.items()):
                relative = path[len(root.rstrip("/")) :].lstrip("/")
                if info.get("type") == "file" and not any(p.startswith(".") for p in relative.split("/")):
                    files.append({"path": relative, "size": info.get("size")})
            for relative, url in sorted(_external_outputs(run).items()):
                external, path = fsspec.core.url_to_fs(url)
                if external.isfile(path):
                    files.append({"path": relative, "size": external.size(path), "url": url})
            return {"Id": run.id, "status": run.status, "files": files}

        return _json(await run_in_threadpool(find))

    async def get_output(self, request: Request) -> Response:
        wanted = request.path_params["path"]
        relative = posixpath.normpath(wanted)
        if wanted.startswith("/") or "\\" in wanted or relative == "." or relative.split("/")[0] == "..":
            raise InvalidInputError(f"invalid output path {wanted!r}: give a path inside the run's folder")

        def open_file() -> tuple[Any, str, int | None]:
            run = self.runs.get(request.path_params["id"])
            external = _external_outputs(run).get(relative)
            if external is not None:
                fs, path = fsspec.core.url_to_fs(external)
            else:
                fs, root = fsspec.core.url_to_fs(run.output_url)
                path = f"{root.rstrip('/')}/{relative}"
            if not fs.isfile(path):
                raise NotFoundError(f"run {run.id} has no output {relative!r}: see /runs/{run.id}/outputs")
            return fs, path, fs.size(path)

        fs, path, size = await run_in_threadpool(open_file)

        def chunks() -> Iterator[bytes]:
            with fs.open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        headers = {"content-disposition": f'attachment; filename="{posixpath.basename(path)}"'}
        if size is not None:
            headers["content-length"] = str(size)
        return StreamingResponse(chunks(), media_type=media_type, headers=headers)


def _external_outputs(run: Run) -> dict[str, str]:
    """The outputs a run wrote outside its own folder (a score step's ``output.url``), listed and served as
    ``external/STEP/NAME``: NAME -> its URL."""
    inside = run.output_url.rstrip("/") + "/"
    return {
        f"external/{t.step}/{below_step(t.output.rstrip('/'), run.id, t.step)}": t.output
        for t in run.tasks
        if t.status == "completed" and t.output and not t.output.startswith(inside)
    }


def _run_request(body: Any) -> tuple[str, dict[str, Any], int | None]:
    if not isinstance(body, dict):
        raise InvalidInputError(
            'the request body must be a JSON object: {"ExperimentName": ..., "ParameterAssignments": {...}}'
        )
    unknown = sorted(set(body) - set(RUN_FIELDS) - AZURE_INFORMATIONAL - set(AZURE_DATA_BINDINGS))
    if unknown:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(RUN_FIELDS)}")
    for field in AZURE_DATA_BINDINGS:
        if body.get(field):
            raise InvalidInputError(
                f"{field} is not supported: a modelport pipeline takes its input and output paths as parameters; "
                "pass them in ParameterAssignments"
            )
    for field, kind in RUN_FIELDS.items():
        if body.get(field) is not None and (not isinstance(body[field], kind) or isinstance(body[field], bool)):
            raise InvalidInputError(f"{field} has the wrong type: {type(body[field]).__name__}")
    version = body.get("Version")
    if isinstance(version, str):
        if not version.isdigit():
            raise InvalidInputError(f"Version must be a whole number, not {version!r}")
        version = int(version)
    return str(body.get("ExperimentName") or ""), dict(body.get("ParameterAssignments") or {}), version


def _pipeline(version: Any) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "description": version.pipeline.description,
        "parameters": {n: p.to_dict() for n, p in version.pipeline.parameters.items()},
        "created_at": version.created_at.isoformat(),
    }


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status_code=status, media_type="application/json", headers=headers)


def create_control_app(
    workspace: Workspace,
    settings: ControlSettings | None = None,
    *,
    on_queued: Callable[[], None] = lambda: None,
) -> ASGIApp:
    """The control-plane ASGI app of ``workspace``; ``on_queued`` is called after each run it queues."""
    app = ControlApp(workspace, settings or ControlSettings(), on_queued)
    routes = [
        Route("/health", app.endpoint(app.health), methods=["GET"]),
        Route("/pipelines", app.endpoint(app.list_pipelines), methods=["GET"]),
        Route("/pipelines/{name}/runs", app.endpoint(app.start_run), methods=["POST"]),
        Route("/runs/{id}", app.endpoint(app.get_run), methods=["GET"]),
        Route("/runs/{id}/outputs", app.endpoint(app.list_outputs), methods=["GET"]),
        Route("/runs/{id}/outputs/{path:path}", app.endpoint(app.get_output), methods=["GET"]),
    ]

    async def unmatched(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            return Response(error_body(message, "method_not_allowed"), status_code=405, media_type="application/json")
        return error_response(NotFoundError(f"no route {request.url.path}"))

    routed = Starlette(routes=routes, exception_handlers={404: unmatched, 405: unmatched})
    return BearerAuth(routed, ApiKeyRegistry(workspace.engine), open_paths={"/health"})
