"""Runs: a RunHandle that batches metrics in the background, and the runs API.

`log_metric` only queues a point. Points go out in batches: when `batch_size` are waiting,
every `flush_interval` seconds (a background thread), on `flush()`, on `finish()`, when a
`with` block ends, and at interpreter exit (atexit). One batch is in flight at a time, so
points arrive in the order they were logged. A batch whose answer was lost is sent again: the
server keeps the first value of each (run, key, step), so a resend is stored once.
"""

from __future__ import annotations

import builtins

import atexit
import math
import numbers
import re
import threading
import time
import uuid
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, id_of
from ._live import LiveStream
from .errors import OuroError, is_retryable
from .resources import Job, Run

MAX_POINTS_PER_REQUEST = 10_000  # the server's limit per logMetrics call
METRIC_KEY = re.compile(r"^[\w .:\-/]{1,250}$")

_open_runs: weakref.WeakSet[RunHandle] = weakref.WeakSet()


@atexit.register
def _flush_open_runs_at_exit() -> None:
    for handle in list(_open_runs):
        handle._flush_quietly(max_retries=2)


@dataclass
class RunStats:
    logged: int = 0
    """Points given to log_metric."""
    accepted: int = 0
    """Points the server stored."""
    duplicates: int = 0
    """Points the server already had for their (key, step)."""
    batches: int = 0
    """logMetrics calls that succeeded."""
    retries: int = 0
    """Sends repeated after a network or transient error."""
    dropped: int = 0
    """Points given up on after a refusal retrying cannot fix."""
    pending: int = 0
    """Points waiting to be sent."""


class RunHandle:
    """A running run. Use it as a context manager, or call `finish()` yourself."""

    def __init__(
        self,
        run: Run,
        ctx: Context,
        *,
        batch_size: int = 1_000,
        flush_interval: float = 2.0,
        max_retries: int = 8,
        heartbeat_interval: float = 60.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.run = run
        self.id = run.id
        self._ctx = ctx
        self._transport = ctx.transport
        self._batch_size = max(1, min(MAX_POINTS_PER_REQUEST, batch_size))
        self._flush_interval = flush_interval
        self._max_retries = max_retries
        self._heartbeat_interval = heartbeat_interval
        self._on_error = on_error
        self._queue: builtins.list[dict[str, Any]] = []
        self._next_step: dict[str, int] = {}
        self._queue_lock = threading.Lock()
        self._send_lock = threading.Lock()  # one batch in flight at a time, in order
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._refusal: BaseException | None = None
        self._stats = RunStats()
        self._finished = False
        self._finishing = False
        self._last_contact = time.monotonic()
        _open_runs.add(self)
        self._thread = threading.Thread(target=self._background, name=f"ouro-run-{self.id[:8]}", daemon=True)
        self._thread.start()

    # -- logging --------------------------------------------------------------------------------

    @property
    def stats(self) -> RunStats:
        with self._queue_lock:
            return RunStats(**{**self._stats.__dict__, "pending": len(self._queue)})

    @property
    def finished(self) -> bool:
        return self._finished

    def log_params(self, params: dict[str, Any]) -> dict[str, str]:
        """Params are write-once: the same value again is fine, a different one is a ConflictError. Returns all params."""
        listed = [{"key": str(k), "value": str(v)} for k, v in params.items()]
        data = self._transport.request(ops.LOG_PARAMS, {"runId": self.id, "params": listed}, retry=True)
        self._last_contact = time.monotonic()
        return {p["key"]: p["value"] for p in data["logParams"]}

    def log_param(self, key: str, value: Any) -> dict[str, str]:
        return self.log_params({key: value})

    def log_metric(self, key: str, value: float, step: int | None = None, timestamp: datetime | None = None) -> None:
        """Queues one point. Without `step`, the key's next step (one more than the highest logged
        through this handle). Raises ValueError at once on a bad key, value or step."""
        if self._finished or self._finishing:
            raise RuntimeError(f"run {self.id} is finished; it accepts no more metrics")
        if not isinstance(key, str) or not METRIC_KEY.match(key) or ".." in key:
            raise ValueError(f"metric key {key!r}: 1 to 250 letters, digits, spaces or . : - / _, without '..'")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ValueError(f"metric {key}: value must be a finite number, got {value!r}")
        with self._queue_lock:
            nxt = self._next_step.get(key, 0)
            s = nxt if step is None else step
            if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0 or s > 2**53:
                raise ValueError(f"metric {key}: step must be a whole number ≥ 0, got {s!r}")
            self._next_step[key] = max(nxt, int(s) + 1)
            ts = (timestamp or datetime.now(timezone.utc)).isoformat()
            self._queue.append({"key": key, "step": int(s), "value": float(value), "timestamp": ts})
            self._stats.logged += 1
            full = len(self._queue) >= self._batch_size
        if full:
            self._wake.set()

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        """Queues several metrics at one step (each key's next step when omitted)."""
        for key, value in values.items():
            self.log_metric(key, value, step)

    # -- sending ----------------------------------------------------------------------------------

    def flush(self) -> None:
        """Sends every queued point; returns when the server has them. Raises when a batch could
        not be delivered (points that may still be delivered stay queued)."""
        with self._send_lock:
            self._drain(self._max_retries)
        refusal, self._refusal = self._refusal, None
        if refusal is not None:
            raise refusal

    def finish(self, status: str = "finished") -> Run:
        """Sends what is queued, then ends the run (`finished`, `failed` or `killed`)."""
        self._finishing = True
        try:
            self.flush()
            data = self._transport.request(ops.FINISH_RUN, {"runId": self.id, "status": status}, retry=True)
        except BaseException:
            self._finishing = False
            raise
        self._finished = True
        self._stop.set()
        self._wake.set()
        _open_runs.discard(self)
        self.run = self._ctx.bind(Run, data["finishRun"])
        return self.run

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self._finished:
            return
        if exc_type is None:
            self.finish("finished")
            return
        status = "killed" if issubclass(exc_type, KeyboardInterrupt) else "failed"
        try:
            self.finish(status)
        except OuroError as err:  # the original exception matters more
            warnings.warn(f"could not finish run {self.id} as {status}: {err}", stacklevel=2)

    def _flush_quietly(self, max_retries: int) -> None:
        try:
            with self._send_lock:
                self._drain(max_retries)
        except Exception as err:  # noqa: BLE001 - reported, never raised at exit
            self._report(err)

    def _report(self, err: BaseException) -> None:
        if self._on_error:
            self._on_error(err)
        else:
            warnings.warn(f"run {self.id}: metrics not sent yet: {err}", stacklevel=3)

    def _background(self) -> None:
        """Sends queued points every flush_interval (or when a batch fills up) and heartbeats."""
        while not self._stop.is_set():
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if self.stats.pending:
                    with self._send_lock:
                        self._drain(self._max_retries)
                elif self._heartbeat_interval and time.monotonic() - self._last_contact >= self._heartbeat_interval:
                    self._transport.request(ops.HEARTBEAT_RUN, {"runId": self.id}, retry=True)
                    self._last_contact = time.monotonic()
            except Exception as err:  # noqa: BLE001 - background: report, keep going
                if is_retryable(err):
                    self._report(err)

    def _drain(self, max_retries: int) -> None:
        """Sends the queue in batches until it is empty. Call with _send_lock held."""
        while True:
            with self._queue_lock:
                batch = self._queue[: self._batch_size]
                del self._queue[: len(batch)]
            if not batch:
                return
            try:
                data = self._transport.request(
                    ops.LOG_METRICS,
                    {"runId": self.id, "points": batch},
                    retry=True,
                    max_retries=max_retries,
                    on_retry=lambda _e, _n: self._count_retry(),
                )
            except BaseException as err:
                with self._queue_lock:
                    if is_retryable(err):
                        self._queue[:0] = batch  # keep them for the next flush
                    else:
                        self._stats.dropped += len(batch)
                        self._refusal = err
                raise
            result = data["logMetrics"]
            with self._queue_lock:
                self._stats.accepted += result["accepted"]
                self._stats.duplicates += result["duplicates"]
                self._stats.batches += 1
            self._last_contact = time.monotonic()

    def _count_retry(self) -> None:
        with self._queue_lock:
            self._stats.retries += 1


class RunsApi:
    def __init__(self, ctx: Context, handle_defaults: dict[str, Any]) -> None:
        self._ctx = ctx
        self._defaults = handle_defaults

    def start(self, experiment: str, *, name: str | None = None, tags: dict[str, str] | None = None, parent_run: Any = None, project: Any = None, **handle_options: Any) -> RunHandle:
        """Starts a run in `experiment` (created on first use). Handle options: batch_size,
        flush_interval, max_retries, heartbeat_interval, on_error."""
        variables = {"input": {"projectId": self._ctx.project_id(project), "experiment": experiment, "name": name, "tags": tags, "parentRunId": id_of(parent_run, "run") if parent_run else None}}
        data = self._ctx.request(ops.START_RUN, variables)  # never retried: a retry could start a second run
        run = self._ctx.bind(Run, data["startRun"])
        return RunHandle(run, self._ctx, **{**self._defaults, **handle_options})

    def get(self, run: Any, *, keys: builtins.list[str] | None = None, buckets: int = 500) -> Run:
        """A run with params, artifacts and metric series (at most `buckets` points per key). Renders as charts in Jupyter."""
        return self._ctx.bind(Run, self._ctx.request(ops.RUN, {"id": id_of(run, "run"), "keys": keys, "buckets": buckets})["run"])

    def list(
        self, project: Any = None, *, experiment: str | None = None, status: str | None = None, parent: Any = None, top_level: bool | None = None, limit: int | None = 100
    ) -> builtins.list[Run]:
        """A project's runs, newest first; `parent` (a run or its id) lists a search's trials, `top_level=True` only runs without a parent."""
        variables = {
            "projectId": self._ctx.project_id(project),
            "experiment": experiment,
            "status": status,
            "parentRunId": id_of(parent, "run") if parent is not None else None,
            "topLevel": top_level,
        }
        return list(self._ctx.pages(ops.RUNS, "runs", variables, Run, limit))

    def experiments(self, project: Any = None) -> builtins.list[g.Experiment]:
        return list(self._ctx.pages(ops.EXPERIMENTS, "experiments", {"projectId": self._ctx.project_id(project)}, g.Experiment))

    def finish(self, run: Any, status: str = "finished") -> Run:
        """Ends a run by id (for runs started here, use the handle so queued points go first)."""
        return self._ctx.bind(Run, self._ctx.request(ops.FINISH_RUN, {"runId": id_of(run, "run"), "status": status}, retry=True)["finishRun"])

    def export(self, run: Any, *, idempotency_key: str | None = None) -> Job:
        """A job writing the run's params and points as an NDJSON artifact (safe to retry)."""
        key = idempotency_key or f"py-export-{uuid.uuid4()}"
        data = self._ctx.request(ops.EXPORT_RUN, {"runId": id_of(run, "run"), "idempotencyKey": key}, retry=True)
        return self._ctx.bind(Job, data["exportRun"])

    def metrics(self, run: Any, *, keys: builtins.list[str] | None = None, after: str | None = None, **options: Any) -> LiveStream[g.MetricPoint]:
        """Every metric point after `after` (from the first when omitted), then live. Reconnects and
        resumes from its cursor: no gaps, no repeats. Never ends by itself."""
        run_id = id_of(run, "run")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[g.MetricPoint], str, bool]:
            batch = data["runMetrics"]
            return [g.MetricPoint.model_validate(p) for p in batch["points"]], batch["cursor"], False

        return self._ctx.live(ops.RUN_METRICS, lambda cursor: {"runId": run_id, "keys": keys, "after": cursor}, extract, after=after, **options)

    def metric_batches(self, run: Any, *, keys: builtins.list[str] | None = None, after: str | None = None, **options: Any) -> LiveStream[g.MetricBatch]:
        """As `metrics`, one item per server batch (each with the cursor after it)."""
        run_id = id_of(run, "run")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[g.MetricBatch], str, bool]:
            batch = g.MetricBatch.model_validate(data["runMetrics"])
            return [batch], batch.cursor, False

        return self._ctx.live(ops.RUN_METRICS, lambda cursor: {"runId": run_id, "keys": keys, "after": cursor}, extract, after=after, **options)
