"""Open Inference Protocol (KServe V2) REST routes, so Triton and KServe clients work unchanged. The tensor codec,
including the binary tensor extension, is ``codecs.v2``; this module only wires it to HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .._version import __version__
from ..codecs import v2
from ..errors import UnavailableError
from ..runtimes.script import ScriptRuntime
from ..serving import context
from ..serving.service import InferenceService, ServedModel
from ..serving.settings import ServingSettings
from .body import read_body

Handler = Callable[[Request], Awaitable[Response]]


class V2Routes:
    def __init__(self, service: InferenceService, settings: ServingSettings) -> None:
        self.service = service
        self.settings = settings

    def table(self) -> list[tuple[str, str, Handler, list[str]]]:
        """(path, route name for metrics, handler, methods)."""
        model = "/v2/models/{name}"
        versioned = "/v2/models/{name}/versions/{version}"
        return [
            ("/v2", "v2_server", self.server_metadata, ["GET"]),
            ("/v2/health/live", "v2_live", self.live, ["GET"]),
            ("/v2/health/ready", "v2_ready", self.ready, ["GET"]),
            (model, "v2_model", self.model_metadata, ["GET"]),
            (versioned, "v2_model", self.model_metadata, ["GET"]),
            (model + "/ready", "v2_model_ready", self.model_ready, ["GET"]),
            (versioned + "/ready", "v2_model_ready", self.model_ready, ["GET"]),
            (model + "/infer", "v2_infer", self.infer, ["POST"]),
            (versioned + "/infer", "v2_infer", self.infer, ["POST"]),
        ]

    def _model(self, request: Request) -> ServedModel:
        model = self.service.resolve(request.path_params["name"], request.path_params.get("version"))
        context.model_name.set(model.name)
        context.model_version.set(model.version)
        return model

    async def server_metadata(self, request: Request) -> Response:
        return JSONResponse({"name": "modelport", "version": __version__, "extensions": ["binary_tensor_data"]})

    async def live(self, request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(self, request: Request) -> Response:
        self.service.check_ready()
        return JSONResponse({"ready": True})

    async def model_metadata(self, request: Request) -> Response:
        model = self._model(request)
        signature = model.signature
        return JSONResponse(
            {
                "name": model.name,
                "versions": [str(m.version) for m in self.service.models if m.name == model.name],
                "platform": model.record.framework,
                "inputs": [{"name": t.name, "datatype": t.datatype, "shape": t.shape} for t in signature.inputs],
                "outputs": [{"name": t.name, "datatype": t.datatype, "shape": t.shape} for t in signature.outputs],
            }
        )

    async def model_ready(self, request: Request) -> Response:
        model = self._model(request)
        if not model.ready:
            raise UnavailableError(f"model {model.record.ref} is not ready", retry_after=1)
        return JSONResponse({"name": model.name, "ready": True})

    async def infer(self, request: Request) -> Response:
        model = self._model(request)
        body = await read_body(request, self.settings.max_body_bytes)
        decoded = v2.decode_request(body, v2.parse_header_length(request.headers.get(v2.HEADER_LENGTH)))
        if isinstance(model.runtime, ScriptRuntime):
            # a script's run() takes the Azure ML protocol: the tensors become a JSON object, one key per input
            inputs: Any = {t.name: t.data.item() if t.data.size == 1 else t.data.tolist() for t in decoded.inputs}
        else:
            inputs = v2.inputs_as_payload(decoded)
        result = await self.service.predict(model, inputs)
        payload, headers = v2.encode_prediction(decoded, result, model.name, model.version, model.signature)
        return Response(payload, headers=headers)
