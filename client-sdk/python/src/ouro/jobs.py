"""Jobs: get, list, cancel, watch (a live stream that ends with the job) and wait (with a progress bar)."""

from __future__ import annotations

import builtins

import os
import sys
import time
import warnings
from typing import Any

from . import _ops as ops
from ._base import Context, id_of
from ._live import LiveStream
from .errors import OuroJobError, OuroNetworkError
from .resources import TERMINAL_JOB_STATUSES, Job


def status_of(job: Job) -> str:
    return str(getattr(job.status, "value", job.status))


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm can draw a widget)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress_bar(desc: str) -> Any:
    """A tqdm bar over 0–100 %: a notebook widget when ipywidgets is there, text otherwise."""
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401

            from tqdm.notebook import tqdm

            return tqdm(total=100, desc=desc, unit="%", bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}]{postfix}")
        except ImportError:
            pass
    from tqdm import tqdm as text_tqdm

    return text_tqdm(total=100, desc=desc, unit="%", bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}]{postfix}", file=sys.stderr)


def default_progress() -> bool:
    if os.environ.get("OURO_PROGRESS") in ("0", "false", "no"):
        return False
    return in_notebook() or sys.stderr.isatty()


class JobsApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self, job: Any, *, logs: int = 50) -> Job:
        """A job with its last `logs` log lines."""
        return self._ctx.bind(Job, self._ctx.request(ops.JOB, {"id": id_of(job, "job"), "logs": logs})["job"])

    def list(self, project: Any = None, *, kind: str | None = None, status: str | None = None, limit: int | None = 100) -> builtins.list[Job]:
        """A project's jobs, newest first."""
        variables = {"projectId": self._ctx.project_id(project), "kind": kind, "status": status}
        return list(self._ctx.pages(ops.JOBS, "jobs", variables, Job, limit))

    def cancel(self, job: Any) -> Job:
        """Stops a queued or running job; a job that already ended comes back unchanged."""
        result = self._ctx.request(ops.CANCEL_JOB, {"id": id_of(job, "job")})["cancelJob"]
        if result["__typename"] == "JobNotCancellable":
            return self._ctx.bind(Job, result["job"])
        return self._ctx.bind(Job, result)

    def watch(self, job: Any, *, after: str | None = None, **options: Any) -> LiveStream[Job]:
        """The job now, then each change, ending after it has ended. Reconnects and resumes from its cursor."""
        job_id = id_of(job, "job")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[Job], str, bool]:
            item = self._ctx.bind(Job, data["jobUpdated"])
            return [item], item.cursor, status_of(item) in TERMINAL_JOB_STATUSES

        return self._ctx.live(ops.JOB_UPDATED, lambda cursor: {"id": job_id, "after": cursor}, extract, after=after, **options)

    def wait(self, job: Any, *, timeout: float | None = None, progress: bool | None = None, after: str | None = None) -> Job:
        """Blocks until the job ends. Returns it when it succeeded; raises OuroJobError (with the
        final job) when it failed or was cancelled, TimeoutError after `timeout` seconds."""
        job_id = id_of(job, "job")
        deadline = None if timeout is None else time.monotonic() + timeout
        show = default_progress() if progress is None else progress
        bar_holder: builtins.list[Any] = []
        last: Job | None = None
        stream = self.watch(job_id, after=after)
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"job {job_id} did not finish within {timeout} s (last status: {status_of(last) if last else 'unknown'})")
                try:
                    last = stream.next(timeout=remaining)
                except StopIteration:
                    break
                except TimeoutError:
                    continue
                except OuroNetworkError as err:
                    if not stream.never_connected:
                        raise
                    # No WebSocket at all (e.g. a proxy that does not pass them): poll instead.
                    warnings.warn(f"no live updates ({err}); polling job {job_id} instead", stacklevel=2)
                    last = self._poll(job_id, deadline, lambda j: self._show(bar_holder, j, show))
                    break
                self._show(bar_holder, last, show)
        finally:
            stream.close()
            if bar_holder:
                bar_holder[0].close()
        if last is None or status_of(last) not in TERMINAL_JOB_STATUSES:
            # The stream ended before the job did (should not happen); ask directly.
            last = self.get(job_id, logs=0)
            if status_of(last) not in TERMINAL_JOB_STATUSES:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                return self.wait(job_id, timeout=left, progress=progress, after=last.cursor)
        if status_of(last) != "succeeded":
            raise OuroJobError(last)
        return last

    @staticmethod
    def _show(bar_holder: builtins.list[Any], job: Job, show: bool) -> None:
        if not show:
            return
        if not bar_holder:
            bar_holder.append(progress_bar(job.kind))
        bar = bar_holder[0]
        bar.n = round(job.progress * 100, 1)
        bar.set_postfix_str(status_of(job), refresh=False)
        bar.refresh()

    def _poll(self, job_id: str, deadline: float | None, on_state: Any, interval: float = 1.0) -> Job:
        """Asks for the job until it has ended (the fallback when subscriptions cannot connect)."""
        while True:
            job = self.get(job_id, logs=0)
            on_state(job)
            if status_of(job) in TERMINAL_JOB_STATUSES:
                return job
            if deadline is not None and time.monotonic() + interval > deadline:
                raise TimeoutError(f"job {job_id} did not finish in time (last status: {status_of(job)})")
            time.sleep(interval)
