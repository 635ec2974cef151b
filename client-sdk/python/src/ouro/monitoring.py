"""Monitors (drift, data quality, performance per window of predictions) and alerts."""

from __future__ import annotations

import builtins

from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, dump, id_of
from ._live import LiveStream
from .resources import Job, Monitor


class MonitorsApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(
        self,
        name: str,
        deployment: Any,
        *,
        kinds: builtins.list[str] = ("data_drift", "prediction_drift"),  # type: ignore[assignment]
        window_predictions: int | None = None,
        window_minutes: int | None = None,
        features: builtins.list[str] | None = None,
        reference_version: Any = None,
        potential_threshold: float | None = None,
        detected_threshold: float | None = None,
        quality: dict[str, Any] | None = None,
        target: str | None = None,
        task: str | None = None,
    ) -> Monitor:
        """Watches a deployment's predictions, one window every `window_predictions` predictions or
        `window_minutes` minutes. `kinds`: data_drift, prediction_drift, data_quality, performance.
        The reference defaults to the deployed model's training data (which needs a profile)."""
        if (window_predictions is None) == (window_minutes is None):
            raise ValueError("give window_predictions= or window_minutes=")
        payload = g.CreateMonitorInput(
            name=name,
            deployment_id=id_of(deployment, "deployment"),
            kinds=list(kinds),  # type: ignore[arg-type]
            window=g.MonitorWindowInput(predictions=window_predictions, minutes=window_minutes),
            features=features,
            reference_version_id=id_of(reference_version, "dataset version") if reference_version else None,
            potential_threshold=potential_threshold,
            detected_threshold=detected_threshold,
            quality=g.QualityLimitsInput.model_validate(quality) if quality else None,
            target=target,
            task=task,
        )
        return self._ctx.bind(Monitor, self._ctx.request(ops.CREATE_MONITOR, {"input": dump(payload)})["createMonitor"])

    def get(self, monitor: Any) -> Monitor:
        """A monitor with its alert rules and latest result; renders as a drift chart in Jupyter."""
        return self._ctx.bind(Monitor, self._ctx.request(ops.MONITOR, {"id": id_of(monitor, "monitor")})["monitor"])

    def list(self, project: Any = None, *, limit: int | None = None) -> builtins.list[Monitor]:
        return list(self._ctx.pages(ops.MONITORS, "monitors", {"projectId": self._ctx.project_id(project)}, Monitor, limit))

    def results(self, monitor: Any, *, after: str | None = None, limit: int | None = None) -> builtins.list[g.MonitorResult]:
        """Results in window order after `after` (all, or the first `limit`)."""
        out: builtins.list[g.MonitorResult] = []
        while limit is None or len(out) < limit:
            page = self._ctx.request(ops.MONITOR_RESULTS, {"id": id_of(monitor, "monitor"), "first": 100, "after": after})["monitor"]["results"]
            out += [g.MonitorResult.model_validate(r) for r in page["nodes"]]
            if not page["hasNextPage"]:
                break
            after = page["endCursor"]
        return out if limit is None else out[:limit]

    def run_now(self, monitor: Any) -> Job:
        """Measures a window now over the predictions since the last one (a job)."""
        return self._ctx.bind(Job, self._ctx.request(ops.RUN_MONITOR_NOW, {"monitorId": id_of(monitor, "monitor")})["runMonitorNow"])

    def updates(self, monitor: Any, *, after: str | None = None, **options: Any) -> LiveStream[g.MonitorResult]:
        """Each window's result after `after` (from the first), then live; resumes from its cursor after a reconnect."""
        monitor_id = id_of(monitor, "monitor")

        def extract(data: dict[str, Any]) -> tuple[builtins.list[g.MonitorResult], str, bool]:
            result = g.MonitorResult.model_validate(data["monitorUpdates"])
            return [result], result.cursor, False

        return self._ctx.live(ops.MONITOR_UPDATES, lambda cursor: {"monitorId": monitor_id, "after": cursor}, extract, after=after, **options)

    def chart(self, monitor: Any) -> Any:
        """The drift chart of a monitor (Vega-Lite)."""
        return self.get(monitor).chart()


class AlertsApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create_rule(
        self,
        monitor: Any,
        name: str,
        metric: str,
        threshold: float,
        *,
        direction: str | None = None,
        for_windows: int | None = None,
        severity: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> g.AlertRuleCreated:
        """Fires when `metric` (status, driftScore, feature:<name>, prediction, performance.accuracy, quality.…)
        is above (or below) `threshold` for `for_windows` windows in a row. `.webhook_secret` is shown once."""
        payload = g.CreateAlertRuleInput(
            monitor_id=id_of(monitor, "monitor"), name=name, metric=metric, threshold=threshold,
            direction=direction, for_windows=for_windows, severity=severity,  # type: ignore[arg-type]
            webhook_url=webhook_url, webhook_secret=webhook_secret,
        )
        return g.AlertRuleCreated.model_validate(self._ctx.request(ops.CREATE_ALERT_RULE, {"input": dump(payload)})["createAlertRule"])

    def list(self, project: Any = None, *, state: str | None = None, limit: int | None = None) -> builtins.list[g.Alert]:
        """A project's alerts (optionally only firing, acknowledged or resolved ones)."""
        return list(self._ctx.pages(ops.ALERTS, "alerts", {"projectId": self._ctx.project_id(project), "state": state}, g.Alert, limit))

    def acknowledge(self, alert: Any) -> g.Alert:
        return g.Alert.model_validate(self._ctx.request(ops.ACKNOWLEDGE_ALERT, {"alertId": id_of(alert, "alert")}, retry=True)["acknowledgeAlert"])

    def events(self, project: Any = None, *, after: str | None = None, **options: Any) -> LiveStream[g.AlertEvent]:
        """Alert state changes (firing, acknowledged, resolved) after `after`, then live."""
        project_id = self._ctx.project_id(project)

        def extract(data: dict[str, Any]) -> tuple[builtins.list[g.AlertEvent], str, bool]:
            event = g.AlertEvent.model_validate(data["alertEvents"])
            return [event], event.cursor, False

        return self._ctx.live(ops.ALERT_EVENTS, lambda cursor: {"projectId": project_id, "after": cursor}, extract, after=after, **options)
