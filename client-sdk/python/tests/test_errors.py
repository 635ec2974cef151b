"""Wrong URLs and tokens, and the server's error codes as typed exceptions."""

from __future__ import annotations

import http.server
import socket
import threading
import uuid

import pytest

import ouro as sdk
from conftest import unique
from ouro import Ouro


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


def test_missing_url_or_token_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OURO_URL", raising=False)
    monkeypatch.delenv("OURO_TOKEN", raising=False)
    with pytest.raises(ValueError, match="OURO_URL"):
        Ouro()
    with pytest.raises(ValueError, match="OURO_TOKEN"):
        Ouro("http://127.0.0.1:4000")
    with pytest.raises(ValueError, match="http"):
        Ouro("ftp://example/graphql", "t")


def test_client_reads_url_and_token_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("OURO_URL", server[0])
    monkeypatch.setenv("OURO_TOKEN", server[1])
    with Ouro() as client:
        assert client.viewer().is_admin is True


def test_base_url_without_graphql_path_works(server):
    base = server[0].rsplit("/graphql", 1)[0]
    with Ouro(base, server[1]) as client:
        assert client.url == server[0]
        assert client.viewer().email


def test_wrong_token_is_unauthenticated(server):
    with Ouro(server[0], "ouro_not-a-real-token") as client:
        with pytest.raises(sdk.UnauthenticatedError) as info:
            client.viewer()
    err = info.value
    assert err.code == "UNAUTHENTICATED" and err.request_id and not err.retryable
    assert isinstance(err, sdk.OuroApiError)


def test_wrong_token_on_a_subscription_is_unauthenticated(server, ouro_project_job):
    with Ouro(server[0], "ouro_not-a-real-token") as client:
        stream = client.jobs.watch(ouro_project_job)
        with pytest.raises(sdk.UnauthenticatedError, match="refused the token"):
            stream.next(timeout=20)


def test_unreachable_server_is_a_network_error():
    with Ouro(f"http://127.0.0.1:{closed_port()}", "t", max_retries=1) as client:
        with pytest.raises(sdk.OuroNetworkError, match="could not reach Ouro"):
            client.viewer()


def test_url_that_is_not_ouro_says_so(server):
    # A web server that is not Ouro: it answers every request with an HTML page.
    class Html(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Welcome to nginx!</body></html>")

        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        with Ouro(f"http://127.0.0.1:{web.server_address[1]}", server[1], max_retries=0) as client:
            with pytest.raises(sdk.OuroNetworkError, match="not a GraphQL response; is it Ouro's /graphql endpoint") as info:
                client.viewer()
        assert info.value.status == 200
    finally:
        web.shutdown()
    # Ouro itself at a wrong path names the route it does not have.
    base = server[0].rsplit("/graphql", 1)[0]
    with Ouro(f"{base}/api", server[1], max_retries=0) as client:
        with pytest.raises(sdk.NotFoundError, match="no route POST /api/graphql"):
            client.viewer()


def test_unknown_ids_are_not_found(ouro):
    missing = str(uuid.uuid4())
    with pytest.raises(sdk.NotFoundError) as info:
        ouro.jobs.get(missing)
    assert info.value.code == "NOT_FOUND" and info.value.request_id
    with pytest.raises(sdk.NotFoundError):
        ouro.datasets.version(missing)
    with pytest.raises(sdk.NotFoundError):
        ouro.projects.get(name=unique("never-created"))


def test_bad_input_is_bad_user_input(ouro):
    with pytest.raises(sdk.BadUserInputError, match="(?i)name"):
        ouro.projects.create("Not A Valid Name!")
    with pytest.raises(ValueError, match="exactly one"):
        ouro.datasets.ingest("x", path="/a", url="http://b", project=str(uuid.uuid4()))


def test_other_projects_objects_are_not_found_and_viewers_cannot_write(ouro, server, project):
    # A second user, member of nothing: the admin's project is invisible to them.
    email = f"{unique('viewer')}@example.com"
    user_id = ouro.request("mutation($e: String!) { createUser(input: { email: $e, name: \"Viewer\" }) { id } }", {"e": email}, retry=False)["createUser"]["id"]
    token = ouro.tokens.create("pytest viewer", user=user_id).token
    with Ouro(server[0], token) as other:
        with pytest.raises(sdk.NotFoundError):
            other.projects.get(project.id)
        # As a viewer of the project they can read but not write.
        ouro.projects.set_membership(email, "viewer", project=project.id)
        assert other.projects.get(project.id).my_role.value == "viewer"
        with pytest.raises(sdk.ForbiddenError) as info:
            other.recipes.create("r", [{"op": "drop", "columns": ["a"]}], project=project.id)
        assert info.value.code == "FORBIDDEN"
    # Nothing was written by the refused call.
    assert ouro.recipes.list(project.id) == []


@pytest.fixture()
def ouro_project_job(ouro, project):
    """A real job id (a run export) for subscription tests."""
    with ouro.start_run("errors") as run:
        run.log_metric("x", 1.0)
    return ouro.runs.export(run.id).id


def test_subscription_to_an_unreachable_server_gives_up_with_a_network_error():
    with Ouro(f"http://127.0.0.1:{closed_port()}", "t") as client:
        stream = client.jobs.watch(str(uuid.uuid4()))
        with pytest.raises(sdk.OuroNetworkError, match="could not reach Ouro"):
            stream.next(timeout=60)
        assert stream.reconnects == 2  # three tries in all before the first connection


def test_a_revoked_token_stops_working_and_the_audit_trail_records_it(ouro, server, project):
    created = ouro.tokens.create("short-lived", expires_in_days=1)
    assert created.token.startswith("ouro_") and created.api_token.name == "short-lived"
    with Ouro(server[0], created.token) as other:
        assert other.viewer().id == ouro.viewer().id
        ouro.tokens.revoke(created.api_token)
        with pytest.raises(sdk.UnauthenticatedError):
            other.viewer()
    assert any(t.id == created.api_token.id and t.revoked_at for t in ouro.tokens.list())
    trail = ouro.audit.trail(project.id)
    assert trail and trail[0].action == "project.create"
    with ouro.audit.follow(project.id) as events:
        first = events.next(timeout=30)
    assert first.action == "project.create" and first.cursor == trail[0].cursor
