"""Ouro's JupyterLab extension: the prebuilt frontend plus a server extension that proxies
GraphQL (HTTP and graphql-ws) to the Ouro server, so the Ouro token never reaches the browser."""

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@ouro/jupyter-extension"}]


def _jupyter_server_extension_points():
    return [{"module": "ouro_jupyter"}]


def _load_jupyter_server_extension(server_app):
    from .handlers import setup_handlers
    from .proxy_config import OuroProxy

    proxy = OuroProxy(parent=server_app)
    setup_handlers(server_app.web_app, proxy)
    where = proxy.graphql_url or "nowhere (set OURO_URL)"
    token = "a token" if proxy.token else "no token (set OURO_TOKEN)"
    server_app.log.info("Ouro extension %s: proxying to %s with %s", __version__, where, token)
