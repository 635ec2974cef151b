"""Pipelines: steps (ingest, fit, train, evaluate, register, gate...) run on triggers; their runs as live streams."""

from __future__ import annotations

import builtins

import time
from typing import Any

from . import _ops as ops
from ._base import Context, id_of
from ._live import LiveStream
from .errors import OuroJobError
from .jobs import default_progress, progress_bar
from .resources import TERMINAL_JOB_STATUSES, Pipeline, PipelineRun


class PipelinesApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, name: str, spec: dict[str, Any], *, triggers: builtins.list[dict[str, Any]] | None = None, project: Any = None) -> tuple[Pipeline, str]:
        """A pipeline from `spec` = `{params?, steps: [{id, kind, params, after?}]}`. Returns it and its
        webhook secret (shown only now)."""
        payload = {"projectId": self._ctx.project_id(project), "name": name, "spec": spec, "triggers": triggers}
        data = self._ctx.request(ops.CREATE_PIPELINE, {"input": payload})["createPipeline"]
        return self._ctx.bind(Pipeline, data["pipeline"]), data["webhookSecret"]

    def update(self, pipeline: Any, *, name: str | None = None, spec: dict[str, Any] | None = None, triggers: builtins.list[dict[str, Any]] | None = None) -> Pipeline:
        payload = {"id": id_of(pipeline, "pipeline"), "name": name, "spec": spec, "triggers": triggers}
        return self._ctx.bind(Pipeline, self._ctx.request(ops.UPDATE_PIPELINE, {"input": payload})["updatePipeline"])

    def get(self, pipeline: Any) -> Pipeline:
        return self._ctx.bind(Pipeline, self._ctx.request(ops.PIPELINE, {"id": id_of(pipeline, "pipeline")})["pipeline"])

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[Pipeline]:
        return list(self._ctx.pages(ops.PIPELINES, "pipelines", {"projectId": self._ctx.project_id(project)}, Pipeline, limit))

    def runs(self, pipeline: Any, *, limit: int | None = 50) -> builtins.list[PipelineRun]:
        """A pipeline's runs, newest first."""
        out: builtins.list[PipelineRun] = []
        after = None
        while limit is None or len(out) < limit:
            conn = self._ctx.request(ops.PIPELINE_RUNS, {"id": id_of(pipeline, "pipeline"), "first": 100, "after": after})["pipeline"]["runs"]
            out += [self._ctx.bind(PipelineRun, r) for r in conn["nodes"]]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        return out if limit is None else out[:limit]

    def run(self, pipeline: Any, params: dict[str, Any] | None = None, *, force: bool = False, idempotency_key: str | None = None) -> PipelineRun:
        """Starts a run; `force` re-runs steps whose inputs did not change instead of reusing their outputs."""
        variables = {"pipelineId": id_of(pipeline, "pipeline"), "params": params, "force": force, "idempotencyKey": idempotency_key}
        data = self._ctx.request(ops.RUN_PIPELINE, variables, retry=idempotency_key is not None)
        return self._ctx.bind(PipelineRun, data["runPipeline"])

    def get_run(self, run: Any) -> PipelineRun:
        return self._ctx.bind(PipelineRun, self._ctx.request(ops.PIPELINE_RUN, {"id": id_of(run, "pipeline run")})["pipelineRun"])

    def cancel_run(self, run: Any) -> PipelineRun:
        return self._ctx.bind(PipelineRun, self._ctx.request(ops.CANCEL_PIPELINE_RUN, {"id": id_of(run, "pipeline run")})["cancelPipelineRun"])

    def rotate_webhook_secret(self, pipeline: Any) -> str:
        return self._ctx.request(ops.ROTATE_PIPELINE_WEBHOOK_SECRET, {"id": id_of(pipeline, "pipeline")})["rotatePipelineWebhookSecret"]

    def watch_run(self, run: Any, *, after: str | None = None, **options: Any) -> LiveStream[PipelineRun]:
        """The run now, then each change; ends after the run does."""
        run_id = id_of(run, "pipeline run")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[PipelineRun], str, bool]:
            item = self._ctx.bind(PipelineRun, data["pipelineRunUpdated"])
            return [item], item.cursor, item.status in TERMINAL_JOB_STATUSES

        return self._ctx.live(ops.PIPELINE_RUN_UPDATED, lambda cursor: {"pipelineRunId": run_id, "after": cursor}, extract, after=after, **options)

    def watch(self, pipeline: Any, *, after: str | None = None, **options: Any) -> LiveStream[PipelineRun]:
        """Every run of a pipeline as it changes (never ends by itself)."""
        pipeline_id = id_of(pipeline, "pipeline")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[PipelineRun], str, bool]:
            item = self._ctx.bind(PipelineRun, data["pipelineRunUpdated"])
            return [item], item.cursor, False

        return self._ctx.live(ops.PIPELINE_RUN_UPDATED, lambda cursor: {"pipelineId": pipeline_id, "after": cursor}, extract, after=after, **options)

    def wait_run(self, run: Any, *, timeout: float | None = None, progress: bool | None = None) -> PipelineRun:
        """Blocks until the run ends; returns it when it succeeded, raises OuroJobError (with the run) otherwise."""
        run_id = id_of(run, "pipeline run")
        deadline = None if timeout is None else time.monotonic() + timeout
        show = default_progress() if progress is None else progress
        bar = None
        last: PipelineRun | None = None
        with self.watch_run(run_id) as stream:
            try:
                while True:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(f"pipeline run {run_id} did not finish within {timeout} s")
                    try:
                        last = stream.next(timeout=remaining)
                    except StopIteration:
                        break
                    except TimeoutError:
                        continue
                    if show:
                        bar = bar or progress_bar("pipeline")
                        bar.n = round(last.progress * 100, 1)
                        running = [st.step_id for st in last.steps or [] if st.status == "running"]
                        bar.set_postfix_str(f"{last.status} {' '.join(running)}".strip(), refresh=False)
                        bar.refresh()
            finally:
                if bar is not None:
                    bar.close()
        if last is None or not last.done:
            last = self.get_run(run_id)
            if not last.done:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                return self.wait_run(run_id, timeout=left, progress=progress)
        if last.status != "succeeded":
            raise OuroJobError(last)
        return last

