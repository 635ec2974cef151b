"""Deployments: deploy a model version behind an endpoint, split traffic, predict, log labels."""

from __future__ import annotations

import builtins

from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, dump, id_of
from .resources import Deployment


def route_input(route: dict[str, Any] | g.RouteInput) -> dict[str, Any]:
    """A route as the server takes it; `model_versions` / `model_version` may hold versions or ids."""
    if isinstance(route, g.RouteInput):
        return dump(route)
    out = dict(route)
    if "model_version" in out:
        out["modelVersionIds"] = [id_of(out.pop("model_version"), "model version")]
    if "model_versions" in out:
        out["modelVersionIds"] = [id_of(v, "model version") for v in out.pop("model_versions")]
    if "modelVersionIds" in out:
        out["modelVersionIds"] = [id_of(v, "model version") for v in out["modelVersionIds"]]
    return dump(g.RouteInput.model_validate(out))


class DeploymentsApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def deploy(
        self,
        name: str,
        model_version: Any = None,
        *,
        routes: builtins.list[dict[str, Any]] | None = None,
        shadow: builtins.list[dict[str, Any]] | None = None,
        sticky_key: str | None = None,
        threshold: float | None = None,
        enrich: dict[str, Any] | None = None,
        micro_batch: dict[str, Any] | None = None,
        project: Any = None,
    ) -> Deployment:
        """Serves one model version (or weighted `routes`, e.g. `[{"name": "stable", "model_version": v1, "weight": 9},
        {"name": "canary", "model_version": v2, "weight": 1}]`) at /v1/endpoints/{name}/predict."""
        if (model_version is None) == (routes is None):
            raise ValueError("give model_version= or routes=")
        payload = g.DeployModelInput(
            name=name,
            project_id=self._ctx.project_id(project),
            model_version_id=id_of(model_version, "model version") if model_version is not None else None,
            routes=[g.RouteInput.model_validate(route_input(r)) for r in routes] if routes else None,
            shadow=[g.RouteInput.model_validate(route_input(r)) for r in shadow] if shadow else None,
            sticky_key=sticky_key,
            threshold=threshold,
            enrich=g.EnrichInput.model_validate(enrich) if enrich else None,
            micro_batch=g.MicroBatchInput.model_validate(micro_batch) if micro_batch else None,
        )
        return self._ctx.bind(Deployment, self._ctx.request(ops.DEPLOY_MODEL, {"input": dump(payload)})["deployModel"])

    def get(self, deployment: Any) -> Deployment:
        return self._ctx.bind(Deployment, self._ctx.request(ops.DEPLOYMENT, {"id": id_of(deployment, "deployment")})["deployment"])

    def list(self, project: Any = None) -> builtins.list[Deployment]:
        data = self._ctx.request(ops.DEPLOYMENTS, {"projectId": self._ctx.project_id(project)})
        return [self._ctx.bind(Deployment, d) for d in data["deployments"]]

    def set_traffic(self, deployment: Any, routes: builtins.list[dict[str, Any]], *, shadow: builtins.list[dict[str, Any]] | None = None, sticky_key: str | None = None) -> Deployment:
        """Replaces the routes (canary, promote, rollback) without downtime; bumps the revision."""
        payload = {"deploymentId": id_of(deployment, "deployment"), "routes": [route_input(r) for r in routes], "shadow": [route_input(r) for r in shadow] if shadow else None, "stickyKey": sticky_key}
        return self._ctx.bind(Deployment, self._ctx.request(ops.SET_TRAFFIC, {"input": payload})["setTraffic"])

    def canary(self, deployment: Any, stable: Any, canary: Any, canary_share: float = 0.1) -> Deployment:
        """Sends `canary_share` of the traffic to `canary` and the rest to `stable`."""
        if not 0 < canary_share < 1:
            raise ValueError("canary_share must be between 0 and 1")
        return self.set_traffic(deployment, [
            {"name": "stable", "model_version": stable, "weight": 1 - canary_share},
            {"name": "canary", "model_version": canary, "weight": canary_share},
        ])

    def promote(self, deployment: Any, version: Any) -> Deployment:
        """All traffic to one version (ends a canary, or rolls back)."""
        return self.set_traffic(deployment, [{"name": "primary", "model_version": version, "weight": 1}])

    def set_status(self, deployment: Any, active: bool) -> Deployment:
        data = self._ctx.request(ops.SET_DEPLOYMENT_STATUS, {"id": id_of(deployment, "deployment"), "active": active})
        return self._ctx.bind(Deployment, data["setDeploymentStatus"])

    def delete(self, deployment: Any) -> Deployment:
        """Deletes a stopped deployment with its monitors and prediction log; refused (ConflictError
        naming them) while it is active or a labelling task, pipeline, job or rollout still needs it."""
        return self._ctx.bind(Deployment, self._ctx.request(ops.DELETE_DEPLOYMENT, {"id": id_of(deployment, "deployment")})["deleteDeployment"])

    def predict(self, deployment: Any, rows: builtins.list[dict[str, Any]] | dict[str, Any]) -> g.PredictResult:
        """Predictions for rows (one dict or a list) through GraphQL; each prediction's `id` is what log_labels takes."""
        rows_list = [rows] if isinstance(rows, dict) else list(rows)
        data = self._ctx.request(ops.PREDICT, {"deploymentId": id_of(deployment, "deployment"), "rows": rows_list})
        return g.PredictResult.model_validate(data["predict"])

    def predict_rest(self, name: str, rows: builtins.list[dict[str, Any]] | dict[str, Any], *, project: Any = None) -> dict[str, Any]:
        """The REST hot path, POST /v1/endpoints/{name}/predict: `{requestId, revision, predictions}`."""
        project_id = self._ctx.project_id(project) if (project is not None or self._ctx.default_project) else None
        body = {"rows": [rows] if isinstance(rows, dict) else list(rows)}
        return self._ctx.transport.post_json(f"/v1/endpoints/{name}/predict", body, params={"projectId": project_id} if project_id else None)

    def log_labels(self, deployment: Any, labels: dict[str, Any] | builtins.list[dict[str, Any]]) -> int:
        """Ground truth for earlier predictions: `{request_id: label}` or `[{"requestId": ..., "label": ...}]`. Returns how many were stored."""
        listed = [{"requestId": k, "label": v} for k, v in labels.items()] if isinstance(labels, dict) else [dump(x) for x in labels]
        return self._ctx.request(ops.LOG_LABELS, {"deploymentId": id_of(deployment, "deployment"), "labels": listed}, retry=True)["logLabels"]
