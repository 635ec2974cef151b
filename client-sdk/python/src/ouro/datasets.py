"""Datasets: upload and ingest, versions, previews and profiles."""

from __future__ import annotations

import builtins

import os
import re
from pathlib import Path
from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, dump, id_of
from .jobs import default_progress
from .resources import DataPreview, Dataset, DatasetVersion, Job, Profile


def dataset_name_for(path: str | os.PathLike[str]) -> str:
    """A dataset name from a file name: `Seattle Weather.csv` → `seattle-weather`."""
    stem = Path(path).name.split(".")[0]
    return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-") or "dataset"


def format_input(format: str | dict[str, Any] | g.FormatInput | None) -> Any:
    if format is None:
        return None
    if isinstance(format, str):
        return {"format": format}
    return dump(format)


class DatasetsApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- getting data in ---------------------------------------------------------------------------

    def upload(
        self,
        path: str | os.PathLike[str],
        dataset: str | None = None,
        *,
        project: Any = None,
        format: str | dict[str, Any] | g.FormatInput | None = None,
        tags: builtins.list[str] | None = None,
        idempotency_key: str | None = None,
        progress: bool | None = None,
    ) -> Job:
        """Streams a local file to the server (POST /v1/uploads), then starts its ingestion into
        `dataset` (created on first use; named after the file by default). Returns the ingest job:
        `job.wait().result` has `versionId`, `version`, `rowCount` and `created`."""
        project_id = self._ctx.project_id(project)
        size = Path(path).stat().st_size if Path(path).is_file() else 0
        bar = None
        if progress if progress is not None else default_progress():
            from tqdm.auto import tqdm

            bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"upload {Path(path).name}")
        try:
            uploaded = self._ctx.transport.upload(project_id, path, on_bytes=bar.update if bar else None)
        finally:
            if bar is not None:
                bar.close()
        return self.ingest(dataset or dataset_name_for(path), upload_id=uploaded["uploadId"], project=project_id, format=format, tags=tags, idempotency_key=idempotency_key)

    def ingest(
        self,
        dataset: str,
        *,
        path: str | None = None,
        url: str | None = None,
        sql: dict[str, str] | g.SqlSourceInput | None = None,
        upload_id: str | None = None,
        project: Any = None,
        format: str | dict[str, Any] | g.FormatInput | None = None,
        tags: builtins.list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Reads a server path (under OURO_INGEST_ROOTS), a URL, a SQL query (`{source, query}`) or
        an upload id into a new version of `dataset`. Exactly one source."""
        sources = {k: v for k, v in {"path": path, "url": url, "sql": dump(sql), "uploadId": upload_id}.items() if v is not None}
        if len(sources) != 1:
            raise ValueError("give exactly one of path=, url=, sql= or upload_id=")
        variables = {"input": {"projectId": self._ctx.project_id(project), "dataset": dataset, "source": sources, "format": format_input(format), "tags": tags, "idempotencyKey": idempotency_key}}
        return self._ctx.bind(Job, self._ctx.request(ops.INGEST_DATASET, variables, retry=idempotency_key is not None)["ingestDataset"])

    # -- reading --------------------------------------------------------------------------------------

    def get(self, dataset: Any) -> Dataset:
        """A dataset with its latest version."""
        return self._ctx.bind(Dataset, self._ctx.request(ops.DATASET, {"id": id_of(dataset, "dataset")})["dataset"])

    def by_name(self, name: str, *, project: Any = None) -> Dataset:
        from .errors import NotFoundError

        for ds in self.list(project):
            if ds.name == name:
                return ds
        raise NotFoundError(f"no dataset named {name!r} in the project")

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[Dataset]:
        return list(self._ctx.pages(ops.DATASETS, "datasets", {"projectId": self._ctx.project_id(project)}, Dataset, limit))

    def version(self, version: Any) -> DatasetVersion:
        """A dataset version (schema, row count, source, tags)."""
        return self._ctx.bind(DatasetVersion, self._ctx.request(ops.DATASET_VERSION, {"id": id_of(version, "dataset version")})["datasetVersion"])

    def versions(self, dataset: Any, *, limit: int | None = None) -> builtins.list[DatasetVersion]:
        """Versions of a dataset, newest first."""
        return list(self._ctx.pages(ops.DATASET_VERSIONS, "datasetVersions", {"datasetId": id_of(dataset, "dataset")}, DatasetVersion, limit))

    def version_of(self, job: Any, *, timeout: float | None = None, progress: bool | None = None) -> DatasetVersion:
        """The version an ingest / applyRecipe / materialize / buildTrainingSet job produced (waits for it)."""
        finished = job if isinstance(job, Job) and job.done else self._ctx.client.jobs.wait(job, timeout=timeout, progress=progress)
        if finished.result is None or "versionId" not in finished.result:
            raise ValueError(f"job {finished.id} ({finished.kind}) did not produce a dataset version")
        return self.version(finished.result["versionId"])

    def preview(self, version: Any, *, limit: int = 50, offset: int = 0) -> DataPreview:
        data = self._ctx.request(ops.DATASET_PREVIEW, {"id": id_of(version, "dataset version"), "limit": limit, "offset": offset})
        return DataPreview.model_validate(data["datasetVersion"]["preview"])

    # -- profiles -------------------------------------------------------------------------------------

    def profile(self, version: Any, *, expectations: builtins.list[dict[str, Any] | g.ExpectationInput] | None = None) -> Job:
        """Starts a profiling job: per-column statistics, histograms and data-quality expectations."""
        variables = {"versionId": id_of(version, "dataset version"), "expectations": [dump(e) for e in expectations] if expectations else None}
        return self._ctx.bind(Job, self._ctx.request(ops.PROFILE_DATASET, variables)["profileDataset"])

    def get_profile(self, version: Any, *, compute: bool = True, expectations: builtins.list[Any] | None = None, progress: bool | None = None, timeout: float | None = None) -> Profile | None:
        """The stored profile (renders as histograms in Jupyter); computed first when missing and `compute`."""
        version_id = id_of(version, "dataset version")
        stored = self._ctx.request(ops.DATASET_PROFILE, {"id": version_id})["datasetVersion"]["profile"]
        if stored is None and compute:
            self.profile(version_id, expectations=expectations).wait(progress=progress, timeout=timeout)
            stored = self._ctx.request(ops.DATASET_PROFILE, {"id": version_id})["datasetVersion"]["profile"]
        return Profile(stored) if stored is not None else None
