"""A pipeline that trains and registers, then a deployment: predict (GraphQL and REST), labels, canary, promote."""

from __future__ import annotations

import time

import pytest

import ouro as sdk

from conftest import assert_vegalite, unique


@pytest.fixture(scope="module")
def pipeline_run(ouro, fitted):
    project, version, recipe = fitted
    spec = {
        "params": {"epochs": 6},
        "steps": [
            {"id": "train", "kind": "train", "params": {"datasetVersionId": version.id, "target": "Species", "task": "multiclass", "recipeId": recipe.id, "model": {"kind": "logistic", "epochs": "${params.epochs}"}}},
            {"id": "register", "kind": "register", "params": {"runId": "${train.runId}", "model": "penguins-pipeline", "alias": "staging"}, "after": ["train"]},
        ],
    }
    pipeline, secret = ouro.pipelines.create(unique("train-register"), spec, project=project.id)
    assert secret
    run = pipeline.run()
    return project, pipeline, run.wait(timeout=300, progress=False)


def test_pipeline_run_trains_and_registers(ouro, pipeline_run):
    project, pipeline, done = pipeline_run
    assert done.status == "succeeded" and done.progress == 1
    assert [s.step_id for s in done.steps] == ["train", "register"]
    register = done.step("register")
    assert register.status == "succeeded" and register.outputs["modelVersionId"]
    assert [r.id for r in ouro.pipelines.runs(pipeline)] == [done.id]
    assert [p.id for p in ouro.pipelines.list(project.id)] == [pipeline.id]


def test_bad_pipeline_specs_are_refused(ouro, project):
    with pytest.raises(sdk.BadUserInputError, match="unknown step kind"):
        ouro.pipelines.create("bad", {"steps": [{"id": "x", "kind": "teleport", "params": {}}]})
    assert ouro.pipelines.list() == []


def test_deploy_predict_label_canary_promote(ouro, fitted, pipeline_run):
    project, version, _ = fitted
    _, _, done = pipeline_run
    v1 = ouro.models.version(done.step("register").outputs["modelVersionId"])
    name = unique("penguins")
    deployment = ouro.deployments.deploy(name, v1, project=project.id)
    assert deployment.status == "active" and deployment.routes[0].model_version_ids == [v1.id]

    labelled = list(version.rows(limit=5))
    rows = [{k: v for k, v in r.items() if k != "Species"} for r in labelled]  # inputs only: the target is refused
    result = deployment.predict(rows)
    assert len(result.predictions) == 5
    assert all(p.label in ("Adelie", "Chinstrap", "Gentoo") and p.model_version_id == v1.id for p in result.predictions)
    assert abs(sum(result.predictions[0].probabilities.values()) - 1) < 1e-6

    rest = ouro.deployments.predict_rest(name, rows[0], project=project.id)
    assert rest["predictions"][0]["label"] == result.predictions[0].label

    stored = deployment.log_labels({p.id: r["Species"] for p, r in zip(result.predictions, labelled)})
    assert stored == 5

    v2 = ouro.models.register(ouro.runs.get(done.step("train").outputs["runId"]), "penguins-pipeline")
    canary = ouro.deployments.canary(deployment, v1, v2, 0.25)
    weights = {r.name: r.weight for r in canary.routes}
    assert weights == {"stable": 0.75, "canary": 0.25} and canary.revision > deployment.revision
    promoted = ouro.deployments.promote(deployment, v2)
    assert [r.model_version_ids for r in promoted.routes] == [[v2.id]]
    # Serving swaps to a new revision once it has compiled it: wait (bounded) for the promoted one.
    for _ in range(100):
        answer = ouro.deployments.predict(deployment, rows[0])
        if answer.revision >= promoted.revision:
            break
        time.sleep(0.1)
    assert answer.revision == promoted.revision and answer.predictions[0].model_version_id == v2.id
    assert [d.name for d in ouro.deployments.list(project.id)].count(name) == 1

    with pytest.raises(sdk.BadUserInputError, match="empty"):
        ouro.deployments.predict(deployment, [])
    with pytest.raises(sdk.BadUserInputError, match="Species"):
        ouro.deployments.predict(deployment, labelled[0])


def test_monitor_measures_drift_fires_an_alert_and_renders_a_drift_chart(ouro, fitted, pipeline_run):
    project, version, _ = fitted
    version.get_profile(timeout=120)  # the drift reference needs a profile
    _, _, done = pipeline_run
    v1 = ouro.models.version(done.step("register").outputs["modelVersionId"])
    deployment = ouro.deployments.deploy(unique("monitored"), v1, project=project.id)
    features = ["Flipper Length (mm)", "Body Mass (g)"]
    # One window per 60 predictions: the scheduler measures it once the prediction log has them.
    monitor = ouro.monitors.create("penguin drift", deployment, kinds=["data_drift"], window_predictions=60, features=features)
    assert monitor.reference_version_id == version.id and monitor.config["features"] == features
    rule = ouro.alerts.create_rule(monitor, "drift", "driftScore", 0.5, severity="critical")
    assert rule.rule.metric == "driftScore" and rule.webhook_secret is None or rule.webhook_secret

    # Heavier, longer-finned penguins than anything in the training data.
    rows = [{k: v for k, v in r.items() if k != "Species"} for r in version.rows(limit=60)]
    drifted = [{**r, "Flipper Length (mm)": (r["Flipper Length (mm)"] or 200) + 80, "Body Mass (g)": (r["Body Mass (g)"] or 4000) * 2} for r in rows]
    with monitor.updates() as updates:
        deployment.predict(drifted)
        result = updates.next(timeout=90)
        assert result.status.value == "detected" and result.predictions == 60 and result.window_key.startswith("count:")
        # A window on demand arrives on the same stream, after the first.
        manual = monitor.run_now().wait(timeout=120)
        on_demand = updates.next(timeout=60)
    assert on_demand.window_key == f"manual:{manual.id}"
    assert {f.name: f.status.value for f in result.features} == {name: "detected" for name in features}

    firing = ouro.alerts.list(project.id, state="firing")
    assert [a.monitor_id for a in firing] == [monitor.id] and firing[0].severity == "critical"
    with ouro.alerts.events(project.id) as events:
        assert events.next(timeout=30).state.value == "firing"
        acknowledged = ouro.alerts.acknowledge(firing[0])
        assert acknowledged.state.value == "acknowledged"
        assert events.next(timeout=30).state.value == "acknowledged"

    again = ouro.monitors.get(monitor.id)
    assert again.latest_result.window_key == on_demand.window_key and [r.id for r in again.alert_rules] == [rule.rule.id]
    bundle = again._repr_mimebundle_()
    spec = bundle["application/vnd.vegalite.v5+json"]
    assert_vegalite(spec)
    line, thresholds = spec["layer"]
    assert {v["feature"] for v in line["data"]["values"]} == set(features)  # scores of the measured window
    assert [t["threshold"] for t in thresholds["data"]["values"]] == [0.5, 0.7]
    assert "detected" in bundle["text/plain"]
