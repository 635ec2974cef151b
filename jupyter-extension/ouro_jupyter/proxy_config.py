"""Where the proxy sends requests and with which token.

Every value can come from the environment (OURO_URL, OURO_TOKEN) or from Jupyter config
(`c.OuroProxy.url = ...` in jupyter_server_config.py); config wins over the environment.
"""

import os
from urllib.parse import urlsplit, urlunsplit

from traitlets import Bool, Float, Unicode, default, validate
from traitlets.config import Configurable


def graphql_endpoint(url: str) -> str:
    """The GraphQL endpoint for a server URL: `http://host:4000` and `http://host:4000/graphql`
    both mean `http://host:4000/graphql`. Raises ValueError for anything but http(s)."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Ouro server URL must be http(s)://host[:port][/graphql], not {url!r}")
    path = parts.path.rstrip("/")
    if not path:
        path = "/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class OuroProxy(Configurable):
    url = Unicode(
        help="Ouro server URL (its /graphql endpoint or the server root). Default: $OURO_URL.",
    ).tag(config=True)

    token = Unicode(
        help="API token the proxy sends to Ouro; it never leaves the Jupyter server. Default: $OURO_TOKEN.",
    ).tag(config=True)

    request_timeout = Float(60.0, help="Seconds before a proxied HTTP request to Ouro gives up.").tag(config=True)

    allow_url_change = Bool(
        help=(
            "Let JupyterLab users change the server URL from the extension's settings. The token "
            "goes along to the new URL, so this is off unless you turn it on (or set "
            "OURO_ALLOW_URL_CHANGE=1) for a single-user Jupyter whose user owns the token anyway."
        ),
    ).tag(config=True)

    @default("allow_url_change")
    def _default_allow_url_change(self):
        return os.environ.get("OURO_ALLOW_URL_CHANGE", "").lower() in ("1", "true", "yes")

    @default("url")
    def _default_url(self):
        return os.environ.get("OURO_URL", "")

    @default("token")
    def _default_token(self):
        return os.environ.get("OURO_TOKEN", "")

    @validate("url")
    def _validate_url(self, proposal):
        graphql_endpoint(proposal["value"])  # raises on a bad scheme
        return proposal["value"].strip()

    @property
    def graphql_url(self) -> str:
        return graphql_endpoint(self.url)

    @property
    def websocket_url(self) -> str:
        http = self.graphql_url
        return "ws" + http[4:] if http else ""
