"""Labelling tasks: a queue of rows (from a dataset version or the prediction log), labels, agreement, export."""

from __future__ import annotations

import builtins

from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, dump, id_of
from ._live import LiveStream
from .resources import Job


class LabellingApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create_task(
        self,
        name: str,
        *,
        size: int,
        classes: builtins.list[str] | None = None,
        kind: str = "classes",
        min: float | None = None,  # noqa: A002 - the schema's names
        max: float | None = None,  # noqa: A002
        source_version: Any = None,
        prediction_log: dict[str, Any] | None = None,
        selection: dict[str, Any] | None = None,
        labels_per_row: int | None = None,
        assignees: builtins.list[Any] | None = None,
        label_column: str | None = None,
        project: Any = None,
    ) -> g.LabellingTask:
        """A queue of `size` rows to label, from `source_version` or `prediction_log={"deploymentId": ...}`.
        `kind`: classes (with `classes`), multiLabel or numeric; `selection` defaults to `{"strategy": "random"}`
        (also leastConfident, disagreement). A job (`build_job_id`) builds the queue."""
        if (source_version is None) == (prediction_log is None):
            raise ValueError("give source_version= or prediction_log=")
        payload = g.CreateLabellingTaskInput(
            project_id=self._ctx.project_id(project),
            name=name,
            size=size,
            label_schema=g.LabelSchemaInput(kind=kind, classes=classes, min=min, max=max),  # type: ignore[arg-type]
            source=g.LabellingSourceInput(
                dataset_version_id=id_of(source_version, "dataset version") if source_version is not None else None,
                prediction_log=g.PredictionLogSourceInput.model_validate(prediction_log) if prediction_log else None,
            ),
            selection=g.LabellingSelectionInput.model_validate(selection or {"strategy": "random"}),
            labels_per_row=labels_per_row,
            assignee_ids=[id_of(a, "user") for a in assignees] if assignees else None,
            label_column=label_column,
        )
        return g.LabellingTask.model_validate(self._ctx.request(ops.CREATE_LABELLING_TASK, {"input": dump(payload)})["createLabellingTask"])

    def get(self, task: Any) -> g.LabellingTask:
        """A task with its progress and agreement (Cohen's and Fleiss' kappa, class counts)."""
        return g.LabellingTask.model_validate(self._ctx.request(ops.LABELLING_TASK, {"id": id_of(task, "labelling task")})["labellingTask"])

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[g.LabellingTask]:
        return list(self._ctx.pages(ops.LABELLING_TASKS, "labellingTasks", {"projectId": self._ctx.project_id(project)}, g.LabellingTask, limit))

    def wait_ready(self, task: Any, *, timeout: float | None = None, progress: bool | None = None) -> g.LabellingTask:
        """Waits for the job that builds the task's queue, then returns the task."""
        current = task if isinstance(task, g.LabellingTask) else self.get(task)
        if current.build_job_id and current.status == "building":
            self._ctx.client.jobs.wait(current.build_job_id, timeout=timeout, progress=progress)
        return self.get(current.id)

    def items(self, task: Any, *, limit: int = 50, offset: int = 0) -> builtins.list[g.LabellingItem]:
        """The queue in order, with every answer."""
        data = self._ctx.request(ops.LABELLING_ITEMS, {"id": id_of(task, "labelling task"), "limit": limit, "offset": offset})
        return [g.LabellingItem.model_validate(i) for i in data["labellingTask"]["items"]]

    def next_items(self, task: Any, limit: int = 10) -> builtins.list[g.LabellingItem]:
        """Your next rows to label; reserved for you for 30 minutes."""
        data = self._ctx.request(ops.NEXT_LABELLING_ITEMS, {"taskId": id_of(task, "labelling task"), "limit": limit})
        return [g.LabellingItem.model_validate(i) for i in data["nextLabellingItems"]]

    def submit(self, item: Any, value: str | builtins.list[str] | float) -> g.Label:
        """A label: a class name, a list of class names (multiLabel) or a number (numeric)."""
        if isinstance(value, str):
            payload: dict[str, Any] = {"class": value}
        elif isinstance(value, (list, tuple)):
            payload = {"classes": list(value)}
        else:
            payload = {"number": float(value)}
        return g.Label.model_validate(self._ctx.request(ops.SUBMIT_LABEL, {"itemId": id_of(item, "labelling item"), "value": payload}, retry=True)["submitLabel"])

    def skip(self, item: Any) -> g.Label:
        return g.Label.model_validate(self._ctx.request(ops.SKIP_LABELLING_ITEM, {"itemId": id_of(item, "labelling item")}, retry=True)["skipLabellingItem"])

    def export(self, task: Any, *, dataset: str | None = None, labelled_only: bool | None = None) -> Job:
        """Writes the labels (consensus per row) as a new dataset version (a job)."""
        variables = {"taskId": id_of(task, "labelling task"), "dataset": dataset, "labelledOnly": labelled_only}
        return self._ctx.bind(Job, self._ctx.request(ops.EXPORT_LABELS, variables)["exportLabels"])

    def progress(self, task: Any, *, after: str | None = None, **options: Any) -> LiveStream[g.LabellingProgress]:
        """The task's progress now, then after every label, skip or status change."""
        task_id = id_of(task, "labelling task")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[g.LabellingProgress], str, bool]:
            item = g.LabellingProgress.model_validate(data["labellingProgress"])
            return [item], item.cursor, False

        return self._ctx.live(ops.LABELLING_PROGRESS, lambda cursor: {"taskId": task_id, "after": cursor}, extract, after=after, **options)
