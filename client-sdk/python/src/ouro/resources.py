"""The generated types with methods: a Job can wait, a DatasetVersion can preview itself, a Run draws its curves.

Each class keeps every field of its generated type (from schema.graphql) and adds methods
that go through the client that fetched it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr

from . import _generated as g
from .charts import VegaLite, drift_chart, metrics_chart, profile_chart

if TYPE_CHECKING:
    import pandas

    from ._live import LiveStream
    from .client import Ouro

TERMINAL_JOB_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


class _Bound:
    _client: Ouro | None = PrivateAttr(default=None)

    @property
    def client(self) -> Ouro:
        if self._client is None:
            raise RuntimeError(f"this {type(self).__name__} is not attached to a client; fetch it through Ouro")
        return self._client


class Job(_Bound, g.Job):
    """A unit of work in Ouro's queue. Mutations that start work return one."""

    logs: list[g.JobLogLine] | None = None  # type: ignore[assignment]

    @property
    def done(self) -> bool:
        return str(getattr(self.status, "value", self.status)) in TERMINAL_JOB_STATUSES

    def wait(self, *, timeout: float | None = None, progress: bool | None = None) -> Job:
        """Blocks until the job ends; returns it when it succeeded, raises OuroJobError otherwise.

        `progress`: a tqdm bar (a widget in notebooks with ipywidgets); by default shown when
        running in a notebook or a terminal. TimeoutError after `timeout` seconds."""
        return self.client.jobs.wait(self.id, timeout=timeout, progress=progress, after=None)

    def watch(self, **options: Any) -> LiveStream[Job]:
        """The job now, then each change; ends after the job does."""
        return self.client.jobs.watch(self.id, **options)

    def refresh(self, logs: int = 50) -> Job:
        return self.client.jobs.get(self.id, logs=logs)

    def cancel(self) -> Job:
        return self.client.jobs.cancel(self.id)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"Job({self.kind}, {getattr(self.status, 'value', self.status)}, {self.progress * 100:.0f}%, id={self.id})")


class DataPreview(g.DataPreview):
    """A page of rows. `.to_pandas()` needs pandas (the `pandas` extra)."""

    def to_pandas(self) -> pandas.DataFrame:
        return _pandas().DataFrame(self.rows, columns=self.columns)

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in self.columns) + "</tr>" for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>rows {self.offset}–{self.offset + len(self.rows)} of {self.total_rows:.0f}</p>"


class Profile(dict):  # type: ignore[type-arg]
    """A dataset version's profile (the server's JSON, as a dict) that renders as histograms."""

    def chart(self, columns: int = 4) -> VegaLite:
        return profile_chart(self, columns=columns)

    def column(self, name: str) -> dict[str, Any]:
        for col in self.get("columns", []):
            if col["name"] == name:
                return col
        raise KeyError(name)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.chart()._repr_mimebundle_()


class DatasetVersion(_Bound, g.DatasetVersion):
    def head(self, limit: int = 10, offset: int = 0) -> DataPreview:
        """A page of rows (at most 500 per call); renders as a table in Jupyter."""
        return self.client.datasets.preview(self.id, limit=limit, offset=offset)

    def rows(self, limit: int | None = None, page: int = 500) -> Iterator[dict[str, Any]]:
        """Every row (or the first `limit`), fetched a page at a time."""
        offset = 0
        while limit is None or offset < limit:
            size = page if limit is None else min(page, limit - offset)
            chunk = self.head(limit=size, offset=offset)
            yield from chunk.rows
            offset += len(chunk.rows)
            if not chunk.rows or offset >= chunk.total_rows:
                return

    def to_pandas(self, limit: int | None = None) -> pandas.DataFrame:
        """The rows as a DataFrame (needs pandas), in the version's column order."""
        return _pandas().DataFrame(list(self.rows(limit)), columns=[c.name for c in self.schema or []] or None)

    def get_profile(self, *, compute: bool = True, expectations: list[Any] | None = None, progress: bool | None = None, timeout: float | None = None) -> Profile | None:
        """The stored profile (renders as histograms in Jupyter); when there is none and `compute`,
        profiles the version first (a job, with a progress bar)."""
        return self.client.datasets.get_profile(self.id, compute=compute, expectations=expectations, progress=progress, timeout=timeout)


class Dataset(_Bound, g.Dataset):
    latest_version: DatasetVersion | None = Field(default=None, alias="latestVersion")  # type: ignore[assignment]

    def list_versions(self) -> list[DatasetVersion]:
        """Every version, newest first."""
        return self.client.datasets.versions(self.id)


class Recipe(_Bound, g.Recipe):
    def fit(self, version: Any) -> Job:
        return self.client.recipes.fit(self, version)

    def apply(self, version: Any, output_dataset: str) -> Job:
        return self.client.recipes.apply(self, version, output_dataset)

    def transform_row(self, row: dict[str, Any]) -> dict[str, Any] | None:
        return self.client.recipes.transform_row(self, row)


class FeatureSet(_Bound, g.FeatureSet):
    def materialize(self, source_version: Any = None) -> Job:
        return self.client.features.materialize(self, source_version)

    def online(self, keys: list[str]) -> list[g.OnlineFeatures]:
        return self.client.features.online(self, keys)


class Run(_Bound, g.Run):
    """A run; fetched with `ouro.runs.get`, it has params, artifacts and downsampled metric series."""

    def chart(self, keys: list[str] | None = None, columns: int = 3) -> VegaLite:
        series = [s.model_dump() for s in (self.metrics or []) if keys is None or s.key in keys]
        return metrics_chart(series, title=f"run {self.name}", columns=columns)

    def refresh(self, keys: list[str] | None = None, buckets: int = 500) -> Run:
        return self.client.runs.get(self.id, keys=keys, buckets=buckets)

    def params_dict(self) -> dict[str, str]:
        return {p.key: p.value for p in self.params or []}

    def metrics_frame(self) -> pandas.DataFrame:
        """One row per (key, step) of the downsampled series (needs pandas)."""
        rows = [{"key": s.key, "step": p.step, "value": p.value, "min": p.min, "max": p.max} for s in self.metrics or [] for p in s.points or []]
        return _pandas().DataFrame(rows, columns=["key", "step", "value", "min", "max"])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = self.chart()._repr_mimebundle_()
        status = getattr(self.status, "value", self.status)
        params = ", ".join(f"{k}={v}" for k, v in self.params_dict().items())
        bundle["text/plain"] = f"Run {self.name} ({status}) id={self.id}\n  params: {params or '—'}\n{bundle['text/plain']}"
        return bundle


class ModelVersion(_Bound, g.ModelVersion):
    def set_alias(self, alias: str) -> g.ModelAlias:
        return self.client.models.set_alias(self, alias)


class Model(_Bound, g.Model):
    versions: list[ModelVersion] | None = None  # type: ignore[assignment]

    def version_by_alias(self, alias: str) -> ModelVersion | None:
        ids = {a.model_version_id for a in self.aliases or [] if a.alias == alias and a.replaced_at is None}
        return next((v for v in self.versions or [] if v.id in ids), None)


class Deployment(_Bound, g.Deployment):
    """A model behind a predict endpoint (`/v1/endpoints/{name}/predict`), with traffic routes."""

    def predict(self, rows: list[dict[str, Any]] | dict[str, Any]) -> g.PredictResult:
        return self.client.deployments.predict(self, rows)

    def set_traffic(self, routes: list[dict[str, Any]], **options: Any) -> Deployment:
        return self.client.deployments.set_traffic(self, routes, **options)

    def log_labels(self, labels: dict[str, Any] | list[dict[str, Any]]) -> int:
        return self.client.deployments.log_labels(self, labels)


class PipelineRun(_Bound, g.PipelineRun):
    """One run of a pipeline: its steps, each with its job, outputs and status."""

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_JOB_STATUSES

    @property
    def progress(self) -> float:
        """Share of steps that have ended (0 to 1)."""
        steps = self.steps or []
        ended = sum(1 for st in steps if st.status in ("succeeded", "failed", "skipped", "cancelled"))
        return ended / len(steps) if steps else (1.0 if self.done else 0.0)

    def wait(self, *, timeout: float | None = None, progress: bool | None = None) -> PipelineRun:
        """Blocks until the run ends; returns it when it succeeded, raises OuroJobError otherwise."""
        return self.client.pipelines.wait_run(self.id, timeout=timeout, progress=progress)

    def watch(self, **options: Any) -> LiveStream[PipelineRun]:
        return self.client.pipelines.watch_run(self.id, **options)

    def cancel(self) -> PipelineRun:
        return self.client.pipelines.cancel_run(self.id)

    def step(self, step_id: str) -> g.PipelineStepRun:
        for st in self.steps or []:
            if st.step_id == step_id:
                return st
        raise KeyError(step_id)


class Pipeline(_Bound, g.Pipeline):
    def run(self, params: dict[str, Any] | None = None, *, force: bool = False, idempotency_key: str | None = None) -> PipelineRun:  # type: ignore[override]
        return self.client.pipelines.run(self, params, force=force, idempotency_key=idempotency_key)


class Monitor(_Bound, g.Monitor):
    """Drift, quality and performance measured per window of a deployment's predictions.

    Renders as a drift chart in Jupyter (per-feature score over the windows)."""

    def list_results(self, *, limit: int | None = None) -> list[g.MonitorResult]:
        """Results in window order (oldest first)."""
        return self.client.monitors.results(self, limit=limit)

    def run_now(self) -> Job:
        return self.client.monitors.run_now(self)

    def updates(self, **options: Any) -> LiveStream[g.MonitorResult]:
        return self.client.monitors.updates(self, **options)

    def chart(self, results: list[g.MonitorResult] | None = None) -> VegaLite:
        results = self.list_results() if results is None else results
        thresholds = (self.config or {}).get("thresholds") or {}
        return drift_chart([r.model_dump(by_alias=True) for r in results], potential=thresholds.get("potential", 0.5), detected=thresholds.get("detected", 0.7), title=f"monitor {self.name}")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.chart()._repr_mimebundle_()


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("pandas is not installed: pip install 'ouro-client[pandas]'") from err
    return pandas


for _cls in (Job, DataPreview, DatasetVersion, Dataset, Recipe, FeatureSet, Run, ModelVersion, Model, Deployment, PipelineRun, Pipeline, Monitor):
    _cls.model_rebuild()
