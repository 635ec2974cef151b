"""The Ouro client."""

from __future__ import annotations

import os
from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context
from ._transport import Transport, ws_url_for
from .admin import AuditApi, ProjectsApi, TokensApi
from .datasets import DatasetsApi
from .jobs import JobsApi
from .ml import FeaturesApi, ModelsApi, RecipesApi, TrainingApi
from .resources import Job
from .labelling import LabellingApi
from .monitoring import AlertsApi, MonitorsApi
from .pipelines import PipelinesApi
from .runs import RunHandle, RunsApi
from .serving import DeploymentsApi


class Ouro:
    """Ouro's Python client.

        ouro = Ouro("http://127.0.0.1:4000", token="ouro_...", project="demo")
        ouro = Ouro()  # OURO_URL, OURO_TOKEN and OURO_PROJECT from the environment

    Queries and mutations go over HTTP (queries are retried after network and transient
    errors); subscriptions use one WebSocket per stream and resume from their cursor after a
    reconnect. `project` (a name or an id) is the default for every call that takes one.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        project: str | None = None,
        ws_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        headers: dict[str, str] | None = None,
        verify: bool | str = True,
        run_defaults: dict[str, Any] | None = None,
    ) -> None:
        url = url or os.environ.get("OURO_URL")
        token = token or os.environ.get("OURO_TOKEN")
        if not url:
            raise ValueError("no Ouro URL: pass url=... or set OURO_URL (e.g. http://127.0.0.1:4000)")
        if not token:
            raise ValueError("no Ouro token: pass token=... or set OURO_TOKEN (create one with `ouro token create` or ouro.tokens.create)")
        self._transport = Transport(url, token, timeout=timeout, max_retries=max_retries, headers=headers, verify=verify)
        self.url = self._transport.endpoint
        self.ws_url = ws_url or ws_url_for(self._transport.endpoint)
        self._ctx = Context(self, self._transport, self.ws_url, token, project or os.environ.get("OURO_PROJECT") or None)
        self.projects = ProjectsApi(self._ctx)
        self.datasets = DatasetsApi(self._ctx)
        self.recipes = RecipesApi(self._ctx)
        self.features = FeaturesApi(self._ctx)
        self.runs = RunsApi(self._ctx, run_defaults or {})
        self.training = TrainingApi(self._ctx)
        self.models = ModelsApi(self._ctx)
        self.deployments = DeploymentsApi(self._ctx)
        self.pipelines = PipelinesApi(self._ctx)
        self.monitors = MonitorsApi(self._ctx)
        self.alerts = AlertsApi(self._ctx)
        self.labelling = LabellingApi(self._ctx)
        self.jobs = JobsApi(self._ctx)
        self.audit = AuditApi(self._ctx)
        self.tokens = TokensApi(self._ctx)

    @property
    def project(self) -> str | None:
        """The default project (a name or an id), or None."""
        return self._ctx.default_project

    @project.setter
    def project(self, value: str | None) -> None:
        self._ctx.default_project = value

    def viewer(self) -> g.User:
        """The token's user: a cheap way to check the URL and the token."""
        return g.User.model_validate(self._transport.request(ops.VIEWER)["viewer"])

    def request(self, query: str, variables: dict[str, Any] | None = None, *, retry: bool | None = None) -> dict[str, Any]:
        """Any GraphQL operation; returns its `data`. Queries retry by default, mutations only with retry=True."""
        return self._transport.request(query, variables, retry=retry)

    # Shortcuts for the calls a notebook makes most.

    def start_run(self, experiment: str, **options: Any) -> RunHandle:
        """`with ouro.start_run("baseline") as run: run.log_metrics({...}, step)`: see RunsApi.start."""
        return self.runs.start(experiment, **options)

    def train_model(self, dataset_version: Any, target: str, task: str, **options: Any) -> Job:
        """Starts a training job: see TrainingApi.train."""
        return self.training.train(dataset_version, target, task, **options)

    def close(self) -> None:
        """Closes the HTTP connections (runs still open keep their own flushing until finished)."""
        self._transport.close()

    def __enter__(self) -> Ouro:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ouro({self.url!r}, project={self.project!r})"
