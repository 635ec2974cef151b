"""Subscriptions: metric streams that survive a dropped connection, and job streams that end with the job."""

from __future__ import annotations

import pytest

import ouro as sdk
from ouro import Ouro


def test_metric_stream_resumes_after_a_forced_reconnect_without_gaps_or_repeats(server, ouro, project, proxy):
    run = ouro.start_run("live", flush_interval=3600)
    for step in range(50):
        run.log_metric("loss", 1 / (step + 1), step)
    run.flush()

    # The stream's WebSocket goes through a proxy whose connections the test can cut.
    via_proxy = Ouro(server[0], server[1], ws_url=proxy.url())
    reconnects = []
    stream = via_proxy.runs.metrics(run.id, on_reconnect=lambda err, attempt, delay: reconnects.append(err))
    first = [stream.next(timeout=30) for _ in range(50)]
    assert [p.step for p in first] == list(range(50))
    cursor_before = stream.cursor
    assert cursor_before is not None

    assert proxy.kill_all() == 1  # the network drops: no close handshake
    for step in range(50, 120):
        run.log_metric("loss", 1 / (step + 1), step)
    run.flush()

    rest = [stream.next(timeout=30) for _ in range(70)]
    assert [p.step for p in rest] == list(range(50, 120))  # each point once, in order
    assert stream.reconnects >= 1 and len(reconnects) >= 1
    assert isinstance(reconnects[0], sdk.OuroNetworkError) and reconnects[0].retryable
    assert proxy.accepted >= 2  # it really connected again
    with pytest.raises(TimeoutError):
        stream.next(timeout=1)  # nothing more: no repeats after the reconnect
    stream.close()
    run.finish()

    # A new stream from a stored cursor continues exactly where the first one stopped.
    with ouro.runs.metric_batches(run.id, after=cursor_before) as batches:
        steps = []
        while len(steps) < 70:
            steps += [p.step for p in batches.next(timeout=30).points]
    assert steps == list(range(50, 120))
    via_proxy.close()


def test_job_watch_ends_with_the_job_and_wait_returns_it(ouro, project):
    with ouro.start_run("export") as run:
        run.log_metrics({"loss": 0.5, "acc": 0.9})
    job = ouro.runs.export(run.id)
    states = [j.status.value for j in job.watch()]
    assert states[-1] == "succeeded" and set(states) <= {"queued", "running", "succeeded"}
    done = job.wait(timeout=60)
    assert done.status.value == "succeeded" and done.result["points"] == 2 and done.progress == 1
    assert ouro.jobs.get(job.id).status.value == "succeeded"
    finished = ouro.jobs.cancel(job.id)  # already finished: returned as it is
    assert finished.status.value == "succeeded"


def test_stream_for_a_missing_run_raises_not_found(ouro, project):
    import uuid

    with ouro.runs.metrics(str(uuid.uuid4())) as stream:
        with pytest.raises(sdk.NotFoundError):
            stream.next(timeout=20)


def test_wait_falls_back_to_polling_when_websockets_cannot_connect(server, ouro, project):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    with ouro.start_run("poll") as run:
        run.log_metric("loss", 0.1)
    no_ws = Ouro(server[0], server[1], ws_url=f"ws://127.0.0.1:{dead}/graphql")
    job = no_ws.runs.export(run.id)
    with pytest.warns(UserWarning, match="polling job"):
        done = job.wait(timeout=120)
    assert done.status.value == "succeeded" and done.result["points"] == 1
    no_ws.close()


def test_an_open_stream_does_not_keep_the_interpreter_from_exiting(server, ouro, project):
    import os
    import subprocess
    import sys
    import textwrap

    with ouro.start_run("exit") as run:
        run.log_metric("loss", 0.5)
    # The child leaves its stream open (a global) and ends: it must exit, not wait on the socket.
    script = textwrap.dedent(
        f"""
        from ouro import Ouro
        ouro = Ouro()
        stream = ouro.runs.metrics({run.id!r})
        print(next(stream).value)
        """
    )
    env = {**os.environ, "OURO_URL": server[0], "OURO_TOKEN": server[1]}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0.5"
