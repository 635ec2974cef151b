"""HTTP and WebSocket handlers under <base_url>/ouro/.

Every handler requires a logged-in Jupyter user. POST/PUT are XSRF-checked by tornado, as
everywhere in jupyter_server. The Ouro token is added here, on the way out, and nothing the
browser sends can replace it: the browser never sees it.
"""

import json

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClosedError, WebSocketHandler, websocket_connect

from ._version import __version__
from .proxy_config import OuroProxy, graphql_endpoint

# A GraphQL request is a query and its variables; bigger bodies are not what this proxy is for
# (files go to Ouro's /v1/uploads directly from Python).
MAX_BODY_BYTES = 8 * 1024 * 1024
SUBPROTOCOL = "graphql-transport-ws"


def graphql_error(code: str, message: str) -> bytes:
    """An error in the shape the Ouro SDK reads, so the panels show `message` as is."""
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


class OuroHandler(APIHandler):
    @property
    def proxy(self) -> OuroProxy:
        return self.settings["ouro_proxy"]

    def status_body(self) -> dict:
        return {
            "version": __version__,
            "url": self.proxy.graphql_url,
            "tokenConfigured": bool(self.proxy.token),
            "urlChangeAllowed": self.proxy.allow_url_change,
        }


class VersionHandler(OuroHandler):
    """The handshake: the frontend compares this version with its own before doing anything."""

    @web.authenticated
    def get(self):
        self.finish(json.dumps(self.status_body()))


class ConfigHandler(OuroHandler):
    """The server URL from the extension's settings (the token stays what the server was given)."""

    @web.authenticated
    def get(self):
        self.finish(json.dumps(self.status_body()))

    @web.authenticated
    def put(self):
        if not self.proxy.allow_url_change:
            raise web.HTTPError(403, "This Jupyter server does not let users change the Ouro URL (OuroProxy.allow_url_change)")
        try:
            body = json.loads(self.request.body or b"{}")
            url = body.get("url", "")
            if not isinstance(url, str):
                raise ValueError("url must be a string")
            # Empty means: back to what the server was started with.
            self.proxy.url = url.strip() or self.settings["ouro_default_url"]
        except (ValueError, json.JSONDecodeError) as err:
            raise web.HTTPError(400, str(err)) from err
        self.finish(json.dumps(self.status_body()))


class GraphQLProxyHandler(OuroHandler):
    @web.authenticated
    async def post(self):
        self.set_header("Content-Type", "application/json")
        target = self.proxy.graphql_url
        if not target or not self.proxy.token:
            self.set_status(503)
            missing = "OURO_URL" if not target else "OURO_TOKEN"
            self.finish(graphql_error(
                "OURO_NOT_CONFIGURED",
                f"The Jupyter server has no {missing}: set OURO_URL and OURO_TOKEN (or c.OuroProxy.url / c.OuroProxy.token) and restart JupyterLab.",
            ))
            return
        if len(self.request.body) > MAX_BODY_BYTES:
            self.set_status(413)
            self.finish(graphql_error("PAYLOAD_TOO_LARGE", f"GraphQL requests through Jupyter are limited to {MAX_BODY_BYTES} bytes"))
            return
        request = HTTPRequest(
            target,
            method="POST",
            body=self.request.body,
            headers={
                "Content-Type": "application/json",
                "Accept": self.request.headers.get("Accept", "application/json"),
                "Authorization": f"Bearer {self.proxy.token}",
            },
            request_timeout=self.proxy.request_timeout,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as err:
            response = None
            reason = str(err)
        if response is None or response.code == 599:
            if response is not None:
                reason = str(response.error)
            self.set_status(502)
            self.finish(graphql_error("OURO_UNREACHABLE", f"Cannot reach the Ouro server at {target}: {reason}"))
            return
        self.set_status(response.code)
        for header in ("Content-Type", "X-Request-Id"):
            if header in response.headers:
                self.set_header(header, response.headers[header])
        self.finish(response.body or b"")


class GraphQLWebSocketProxy(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """graphql-ws frames go through as they are, except `connection_init`, whose payload is
    replaced by the server-side token. When Ouro goes away the browser's socket is closed with
    a code the SDK treats as retryable, so its streams reconnect and resume from their cursor."""

    upstream = None

    @property
    def proxy(self) -> OuroProxy:
        return self.settings["ouro_proxy"]

    @ws_authenticated
    async def get(self, *args, **kwargs):
        await super().get(*args, **kwargs)

    def select_subprotocol(self, subprotocols):
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    async def open(self, *args, **kwargs):
        super().open(*args, **kwargs)
        target = self.proxy.websocket_url
        if not target or not self.proxy.token:
            # 4403 ends the SDK's stream at once instead of retrying forever.
            self.close(4403, "Jupyter server has no OURO_URL/OURO_TOKEN")
            return
        try:
            request = HTTPRequest(target, headers={"Authorization": f"Bearer {self.proxy.token}"}, request_timeout=15)
            self.upstream = await websocket_connect(request, subprotocols=[SUBPROTOCOL], on_message_callback=self._from_upstream)
        except Exception as err:  # connection refused, DNS, TLS, HTTP error on upgrade
            self.log.info("Ouro WebSocket proxy: cannot reach %s: %s", target, err)
            self.close(1013, f"Cannot reach Ouro: {err}"[:120])

    def _from_upstream(self, message):
        if message is None:
            upstream = self.upstream
            self.upstream = None
            if self.ws_connection is not None:
                code = upstream.close_code if upstream is not None else None
                reason = (upstream.close_reason if upstream is not None else None) or "The Ouro server closed the connection"
                # 1005/1006 cannot be sent; "going away" makes the client reconnect.
                if code is None or code in (1005, 1006, 1015):
                    code = 1001
                self.close(code, reason[:120])
            return
        try:
            self.write_message(message, binary=isinstance(message, bytes))
        except WebSocketClosedError:
            pass

    def on_message(self, message):
        if self.upstream is None:
            return
        try:
            frame = json.loads(message)
        except (TypeError, ValueError):
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "connection_init":
            frame["payload"] = {"authorization": f"Bearer {self.proxy.token}"}
            message = json.dumps(frame)
        self.upstream.write_message(message)

    def on_close(self):
        if self.upstream is not None:
            upstream, self.upstream = self.upstream, None
            upstream.close()


def setup_handlers(web_app, proxy: OuroProxy) -> None:
    web_app.settings["ouro_proxy"] = proxy
    web_app.settings["ouro_default_url"] = proxy.url
    base = url_path_join(web_app.settings["base_url"], "ouro")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "version"), VersionHandler),
            (url_path_join(base, "config"), ConfigHandler),
            (url_path_join(base, "graphql"), GraphQLProxyHandler),
            (url_path_join(base, "graphql-ws"), GraphQLWebSocketProxy),
        ],
    )


__all__ = ["setup_handlers", "graphql_endpoint"]
