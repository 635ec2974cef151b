"""Runs: batched metrics, params, the context manager, the exit flush, and charts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import ouro as sdk
from conftest import assert_vegalite
from ouro.charts import VEGA_LITE_MIME


def test_metrics_are_batched_and_all_arrive(ouro, project):
    with ouro.start_run("baseline", name="mlp-1", tags={"model": "mlp"}, batch_size=100, flush_interval=30) as run:
        assert run.log_params({"lr": 0.01, "layers": 3}) == {"lr": "0.01", "layers": "3"}
        for epoch in range(250):
            run.log_metrics({"loss": 1 / (epoch + 1), "acc": epoch / 250}, step=epoch)
        run.log_metric("lr", 0.01)  # step 0, then 1: the key's next step
        run.log_metric("lr", 0.005)
    stats = run.stats
    assert stats.logged == 502 and stats.accepted == 502 and stats.pending == 0 and stats.dropped == 0
    # 100 points per request: at least six requests, not one per point.
    assert 6 <= stats.batches <= 10
    assert run.finished and run.run.status.value == "finished"

    details = ouro.runs.get(run.id)
    assert details.params_dict() == {"lr": "0.01", "layers": "3"}
    series = {s.key: s for s in details.metrics}
    assert series["loss"].total == 250 and series["loss"].last_step == 249
    assert [p.step for p in series["lr"].points] == [0, 1]
    assert details.experiment.name == "baseline" and details.tags == {"model": "mlp"}


def test_run_renders_its_curves_as_vega_lite(ouro, project):
    with ouro.start_run("charts") as run:
        for step in range(20):
            run.log_metrics({"loss": 1 / (step + 1), "val_loss": 1.2 / (step + 1)}, step)
    details = ouro.runs.get(run.id)
    bundle = details._repr_mimebundle_()
    assert set(bundle) == {VEGA_LITE_MIME, "text/plain"}
    spec = bundle[VEGA_LITE_MIME]
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert_vegalite(spec)
    assert spec["facet"]["field"] == "key" and spec["spec"]["mark"]["type"] == "line"
    values = spec["data"]["values"]
    assert len(values) == 40 and {v["key"] for v in values} == {"loss", "val_loss"}
    assert {"step", "value", "key"} <= set(values[0])
    assert "loss" in bundle["text/plain"] and details.name in bundle["text/plain"]
    assert details.chart(keys=["loss"]).spec["data"]["values"][0]["key"] == "loss"
    frame = details.metrics_frame()
    assert len(frame) == 40


def test_bad_points_fail_at_once_and_params_are_write_once(ouro, project):
    with ouro.start_run("bad") as run:
        for bad in (float("nan"), float("inf"), "1.0", None, True):
            with pytest.raises(ValueError, match="finite number"):
                run.log_metric("x", bad)
        with pytest.raises(ValueError, match="metric key"):
            run.log_metric("a..b", 1.0)
        with pytest.raises(ValueError, match="step"):
            run.log_metric("x", 1.0, step=-1)
        assert run.stats.logged == 0
        run.log_params({"optimizer": "adam"})
        run.log_params({"optimizer": "adam"})  # the same value again is fine
        with pytest.raises(sdk.ConflictError):
            run.log_params({"optimizer": "sgd"})
    with pytest.raises(RuntimeError, match="finished"):
        run.log_metric("x", 1.0)


def test_an_exception_in_the_block_marks_the_run_failed_after_sending_its_points(ouro, project):
    with pytest.raises(ZeroDivisionError):
        with ouro.start_run("crashy") as run:
            run.log_metric("loss", 0.5)
            1 / 0  # noqa: B018
    details = ouro.runs.get(run.id)
    assert details.status.value == "failed" and details.metrics[0].total == 1


def test_points_queued_at_exit_are_sent(server, ouro, project):
    # A separate interpreter logs points and exits without flushing or finishing the run.
    script = textwrap.dedent(
        f"""
        from ouro import Ouro
        ouro = Ouro(project={project.id!r})
        run = ouro.start_run("exit", flush_interval=3600)
        for i in range(30):
            run.log_metric("loss", 1 / (i + 1))
        print(run.id, run.stats.pending)
        """
    )
    env = {**os.environ, "OURO_URL": server[0], "OURO_TOKEN": server[1]}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    run_id, pending = out.stdout.split()
    assert pending == "30"  # nothing had been sent when the script ended
    details = ouro.runs.get(run_id)
    assert details.metrics[0].total == 30 and details.status.value == "running"


def test_runs_and_experiments_are_listed(ouro, project):
    with ouro.start_run("listing", name="one"):
        pass
    with ouro.start_run("listing", name="two"):
        pass
    runs = ouro.runs.list(experiment="listing")
    assert [r.name for r in runs] == ["two", "one"]
    assert [e.name for e in ouro.runs.experiments()] == ["listing"]
