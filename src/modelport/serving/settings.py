"""Settings of the scoring service. Every field can be set by ``MODELPORT_SERVE_<FIELD>``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..settings import DEFAULT_PORT


class ServingSettings(BaseSettings):
    """Limits and behaviour of one scoring service."""

    model_config = SettingsConfigDict(env_prefix="MODELPORT_SERVE_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address to listen on; 0.0.0.0 for every interface.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="Port to listen on; 0 picks a free one.")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes sharing the port.")
    max_body_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, description="Largest request body accepted; larger ones get 413."
    )
    scoring_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest a prediction may take; the request then fails with a timeout."
    )
    max_waiting: int = Field(
        default=256, ge=1, description="Requests that may wait for a model at once; more get 503 with Retry-After."
    )
    threads: int = Field(default=4, ge=1, le=256, description="Threads that run predictions off the event loop.")
    batching: bool = Field(
        default=True,
        description="Score concurrent requests for one no-code model together (a model's `batching` option wins).",
    )
    max_batch_size: int = Field(
        default=64, ge=1, description="Most rows scored in one batch (a model's `max_batch_size` option wins)."
    )
    max_latency_ms: float = Field(
        default=0.0,
        ge=0,
        description="How long a batch that is not full may wait for more requests; 0 scores as soon as the model is "
        "free (a model's `max_latency_ms` option wins).",
    )
    inline_below_ms: float = Field(
        default=5.0,
        ge=0,
        description="Batches that score faster than this run on the event loop (a thread hop costs more than they "
        "do); slower ones on the prediction threads. 0 sends every batch to the threads.",
    )
    service_name: str = Field(default="ML service", description="Title of the generated swagger document.")
