"""Recipes, feature sets, training, hyperparameter search, evaluation and the model registry."""

from __future__ import annotations

import builtins

import uuid
from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, dump, id_of
from .resources import FeatureSet, Job, Model, ModelVersion, Recipe


class RecipesApi:
    """Transform recipes: fitted once on a dataset version, applied identically in batch and per row."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, name: str, steps: builtins.list[dict[str, Any]], *, project: Any = None) -> Recipe:
        """Steps such as `{"op": "fillNull", "columns": [...], "strategy": "mean"}`, `{"op": "oneHot", "column": ...}`; validated now."""
        data = self._ctx.request(ops.CREATE_RECIPE, {"projectId": self._ctx.project_id(project), "name": name, "steps": steps})
        return self._ctx.bind(Recipe, data["createRecipe"])

    def get(self, recipe: Any) -> Recipe:
        return self._ctx.bind(Recipe, self._ctx.request(ops.RECIPE, {"id": id_of(recipe, "recipe")})["recipe"])

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[Recipe]:
        return list(self._ctx.pages(ops.RECIPES, "recipes", {"projectId": self._ctx.project_id(project)}, Recipe, limit))

    def fit(self, recipe: Any, version: Any) -> Job:
        """Learns the recipe's parameters (means, categories...) from a dataset version."""
        data = self._ctx.request(ops.FIT_RECIPE, {"recipeId": id_of(recipe, "recipe"), "versionId": id_of(version, "dataset version")})
        return self._ctx.bind(Job, data["fitRecipe"])

    def apply(self, recipe: Any, version: Any, output_dataset: str) -> Job:
        """Runs the fitted recipe over a version into a new version of `output_dataset`."""
        data = self._ctx.request(ops.APPLY_RECIPE, {"recipeId": id_of(recipe, "recipe"), "versionId": id_of(version, "dataset version"), "outputDataset": output_dataset})
        return self._ctx.bind(Job, data["applyRecipe"])

    def transform_row(self, recipe: Any, row: dict[str, Any]) -> dict[str, Any] | None:
        """One row through the fitted recipe, exactly as serving does it (None when a filter drops it)."""
        return self._ctx.request(ops.TRANSFORM_ROW, {"recipeId": id_of(recipe, "recipe"), "row": row})["transformRow"]

    def auto_apply(self, recipe: Any, source_dataset: Any | None, output_dataset: str | None = None) -> Recipe:
        """Applies the recipe to every new version of `source_dataset` (None turns it off)."""
        variables = {"recipeId": id_of(recipe, "recipe"), "sourceDatasetId": id_of(source_dataset, "dataset") if source_dataset else None, "outputDataset": output_dataset}
        return self._ctx.bind(Recipe, self._ctx.request(ops.SET_RECIPE_AUTO_APPLY, variables)["setRecipeAutoApply"])


class FeaturesApi:
    """Feature sets with an offline store (Parquet versions) and an online store (latest values per entity)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(
        self,
        name: str,
        source_dataset: Any,
        entity_keys: builtins.list[str],
        *,
        features: builtins.list[str] | None = None,
        recipe: Any = None,
        timestamp_column: str | None = None,
        source_version: Any = None,
        auto_materialize: bool | None = None,
        project: Any = None,
    ) -> FeatureSet:
        payload = g.CreateFeatureSetInput(
            name=name,
            project_id=self._ctx.project_id(project),
            source_dataset_id=id_of(source_dataset, "dataset"),
            entity_keys=entity_keys,
            features=features,
            recipe_id=id_of(recipe, "recipe") if recipe else None,
            timestamp_column=timestamp_column,
            source_version_id=id_of(source_version, "dataset version") if source_version else None,
            auto_materialize=auto_materialize,
        )
        return self._ctx.bind(FeatureSet, self._ctx.request(ops.CREATE_FEATURE_SET, {"input": dump(payload)})["createFeatureSet"])

    def get(self, feature_set: Any) -> FeatureSet:
        return self._ctx.bind(FeatureSet, self._ctx.request(ops.FEATURE_SET, {"id": id_of(feature_set, "feature set")})["featureSet"])

    def delete(self, feature_set: Any) -> FeatureSet:
        """Deletes the feature set and its online values; refused (ConflictError naming them) while a
        deployment, pipeline, run, job or stream still uses it. Offline versions are kept."""
        return self._ctx.bind(FeatureSet, self._ctx.request(ops.DELETE_FEATURE_SET, {"id": id_of(feature_set, "feature set")})["deleteFeatureSet"])

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[FeatureSet]:
        return list(self._ctx.pages(ops.FEATURE_SETS, "featureSets", {"projectId": self._ctx.project_id(project)}, FeatureSet, limit))

    def materialize(self, feature_set: Any, source_version: Any = None) -> Job:
        variables = {"featureSetId": id_of(feature_set, "feature set"), "sourceVersionId": id_of(source_version, "dataset version") if source_version else None}
        return self._ctx.bind(Job, self._ctx.request(ops.MATERIALIZE_FEATURE_SET, variables)["materializeFeatureSet"])

    def build_training_set(self, feature_sets: builtins.list[Any], spine_version: Any, spine_time: str, output_dataset: str) -> Job:
        """Point-in-time join of feature sets onto a spine (never a value from after each spine row's time)."""
        variables = {"featureSetIds": [id_of(f, "feature set") for f in feature_sets], "spineVersionId": id_of(spine_version, "dataset version"), "spineTime": spine_time, "outputDataset": output_dataset}
        return self._ctx.bind(Job, self._ctx.request(ops.BUILD_TRAINING_SET, variables)["buildTrainingSet"])

    def online(self, feature_set: Any, keys: builtins.list[str]) -> builtins.list[g.OnlineFeatures]:
        """Latest feature values per entity key, one entry per key asked, in order (values None when unknown)."""
        data = self._ctx.request(ops.ONLINE_FEATURES, {"featureSetId": id_of(feature_set, "feature set"), "keys": keys})
        return [g.OnlineFeatures.model_validate(o) for o in data["onlineFeatures"]]


    # -- event-fed feature sets -------------------------------------------------------------------

    def create_from_events(
        self,
        name: str,
        entity_keys: builtins.list[str],
        fields: dict[str, str],
        aggregations: builtins.list[dict[str, Any]],
        *,
        event_time_column: str,
        event_id_column: str,
        allowed_lateness_seconds: int | None = None,
        max_future_skew_seconds: int | None = None,
        project: Any = None,
    ) -> g.EventSource:
        """A feature set fed by events, with sliding-window aggregations kept fresh online.
        `fields`: `{"user": "integer", "amount": "float"}`; `aggregations`: `[{"name": "amount_1h",
        "function": "sum", "field": "amount", "window": "1h"}]` (count, sum, mean, min, max, last, distinct_count)."""
        payload = g.CreateEventFeatureSetInput(
            project_id=self._ctx.project_id(project),
            name=name,
            entity_keys=entity_keys,
            fields=[g.EventFieldInput(name=k, type=v) for k, v in fields.items()],
            aggregations=[g.WindowAggregationInput.model_validate(a) for a in aggregations],
            event_time_column=event_time_column,
            event_id_column=event_id_column,
            allowed_lateness_seconds=allowed_lateness_seconds,
            max_future_skew_seconds=max_future_skew_seconds,
        )
        return g.EventSource.model_validate(self._ctx.request(ops.CREATE_EVENT_FEATURE_SET, {"input": dump(payload)})["createEventFeatureSet"])

    def event_source(self, feature_set: Any) -> g.EventSource:
        return g.EventSource.model_validate(self._ctx.request(ops.EVENT_SOURCE, {"featureSetId": id_of(feature_set, "feature set")})["eventSource"])

    def ingest_events(self, feature_set: Any, events: builtins.list[dict[str, Any]]) -> g.IngestEventsResult:
        """Sends events; duplicates (by event id) are counted once, so a resend is harmless and retried."""
        data = self._ctx.request(ops.INGEST_EVENTS, {"featureSetId": id_of(feature_set, "feature set"), "events": events}, retry=True)
        return g.IngestEventsResult.model_validate(data["ingestEvents"])

    def materialize_events(self, feature_set: Any) -> Job:
        """Writes the event windows into the offline store (a new Parquet version)."""
        return self._ctx.bind(Job, self._ctx.request(ops.MATERIALIZE_EVENT_FEATURES, {"featureSetId": id_of(feature_set, "feature set")})["materializeEventFeatures"])


class TrainingApi:
    """Training jobs (TensorFlow.js on the workers), hyperparameter search and evaluation."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def _input(self, dataset_version: Any, target: str, task: str, project: Any, **fields: Any) -> dict[str, Any]:
        if project is None and self._ctx.default_project is None:
            # The version knows its project.
            project = getattr(dataset_version, "project_id", None) or self._ctx.client.datasets.version(dataset_version).project_id
        payload = g.TrainModelInput(
            project_id=self._ctx.project_id(project),
            dataset_version_id=id_of(dataset_version, "dataset version"),
            target=target,
            task=task,  # type: ignore[arg-type]
            **{k: v for k, v in fields.items() if v is not None},
        )
        return dump(payload)

    def train(
        self,
        dataset_version: Any,
        target: str,
        task: str,
        *,
        model: dict[str, Any] | None = None,
        recipe: Any = None,
        features: builtins.list[str] | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        seed: int | None = None,
        validation_fraction: float | None = None,
        validation_version: Any = None,
        positive_class: str | None = None,
        idempotency_key: str | None = None,
        project: Any = None,
    ) -> Job:
        """Trains a model in a new run. `task`: binary, multiclass or regression. `model`: e.g.
        `{"kind": "mlp", "layers": [16], "epochs": 40}`, `{"kind": "logistic"}`, `{"kind": "linear"}`.
        Per-epoch metrics stream through `ouro.runs.metrics(run_id)`; the job's result has `runId`."""
        key = idempotency_key or f"py-train-{uuid.uuid4()}"
        payload = self._input(
            dataset_version, target, task, project,
            model=model, recipe_id=id_of(recipe, "recipe") if recipe else None, features=features, experiment=experiment,
            run_name=run_name, seed=seed, validation_fraction=validation_fraction,
            validation_version_id=id_of(validation_version, "dataset version") if validation_version else None,
            positive_class=positive_class, idempotency_key=key,
        )
        # The idempotency key makes a resent request return the same job, so retrying is safe.
        return self._ctx.bind(Job, self._ctx.request(ops.TRAIN_MODEL, {"input": payload}, retry=True)["trainModel"])

    def search(
        self,
        dataset_version: Any,
        target: str,
        task: str,
        space: builtins.list[dict[str, Any] | g.DimensionInput],
        *,
        metric: str = "val_loss",
        maximize: bool = False,
        strategy: str = "random",
        trials: int = 10,
        max_concurrent: int = 2,
        median_stopping: bool = True,
        model: dict[str, Any] | None = None,
        recipe: Any = None,
        features: builtins.list[str] | None = None,
        experiment: str | None = None,
        seed: int | None = None,
        project: Any = None,
    ) -> Job:
        """Hyperparameter search: one child run per trial. `space` entries look like
        `{"name": "learningRate", "min": 1e-4, "max": 1e-1, "log": True}` or `{"name": "layers", "values": [[8], [16, 8]]}`.
        The job's result names `bestRunId`, `bestModel` and `bestScore`."""
        payload = self._input(dataset_version, target, task, project, model=model, recipe_id=id_of(recipe, "recipe") if recipe else None, features=features, experiment=experiment, seed=seed)
        search = g.SearchInput(
            space=[g.DimensionInput.model_validate(d) if isinstance(d, dict) else d for d in space],
            metric=metric,
            maximize=maximize,
            strategy=strategy,  # type: ignore[arg-type]
            trials=trials,
            max_concurrent=max_concurrent,
            median_stopping=median_stopping,
        )
        data = self._ctx.request(ops.START_SEARCH, {"input": payload, "search": dump(search)})
        return self._ctx.bind(Job, data["startHyperparameterSearch"])

    def evaluate(self, dataset_version: Any, *, model_version: Any = None, run: Any = None) -> Job:
        """Scores a model version (or a run's model) on a dataset version; the job's result has `metrics`."""
        if (model_version is None) == (run is None):
            raise ValueError("give exactly one of model_version= or run=")
        variables = {"datasetVersionId": id_of(dataset_version, "dataset version"), "modelVersionId": id_of(model_version, "model version") if model_version else None, "runId": id_of(run, "run") if run else None}
        return self._ctx.bind(Job, self._ctx.request(ops.EVALUATE_MODEL, variables)["evaluateModel"])


class ModelsApi:
    """The model registry: versions registered from training runs, aliases such as production."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def register(self, run: Any, model: str, *, description: str | None = None, intended_use: str | None = None, limitations: str | None = None) -> ModelVersion:
        """Registers the model a run trained as the next version of `model` (created on first use)."""
        card = g.ModelCardInput(description=description, intended_use=intended_use, limitations=limitations)
        payload = g.RegisterModelVersionInput(run_id=id_of(run, "run"), model=model, card=card)
        return self._ctx.bind(ModelVersion, self._ctx.request(ops.REGISTER_MODEL_VERSION, {"input": dump(payload)})["registerModelVersion"])

    def set_alias(self, version: Any, alias: str) -> g.ModelAlias:
        """Points `alias` (e.g. staging, production) at a version; the previous holder keeps it in history."""
        data = self._ctx.request(ops.SET_MODEL_ALIAS, {"versionId": id_of(version, "model version"), "alias": alias})
        return g.ModelAlias.model_validate(data["setModelAlias"])

    def get(self, model: Any, *, alias_history: bool = False) -> Model:
        """A model with its versions (newest first) and aliases (with `alias_history`, past holders too)."""
        data = self._ctx.request(ops.MODEL, {"id": id_of(model, "model"), "current": not alias_history})
        return self._ctx.bind(Model, data["model"])

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[Model]:
        return list(self._ctx.pages(ops.MODELS, "models", {"projectId": self._ctx.project_id(project)}, Model, limit))

    def version(self, version: Any) -> ModelVersion:
        return self._ctx.bind(ModelVersion, self._ctx.request(ops.MODEL_VERSION, {"id": id_of(version, "model version")})["modelVersion"])

    def compare(self, versions: builtins.list[Any]) -> builtins.list[ModelVersion]:
        """Several versions side by side (metrics, signature, card)."""
        data = self._ctx.request(ops.COMPARE_MODEL_VERSIONS, {"ids": [id_of(v, "model version") for v in versions]})
        return [self._ctx.bind(ModelVersion, v) for v in data["compareModelVersions"]]

    def lineage(self, node: Any) -> g.Lineage:
        """Everything upstream and downstream of a dataset version, recipe, run, model version or feature set."""
        return g.Lineage.model_validate(self._ctx.request(ops.LINEAGE, {"id": id_of(node)})["lineage"])
