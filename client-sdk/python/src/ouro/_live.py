"""Subscriptions as plain iterators over graphql-ws (the graphql-transport-ws protocol).

Each stream owns one WebSocket (websockets' synchronous client, so it works the same in a
script and in a Jupyter kernel, whose event loop is already running). Items are read only
when the consumer asks for the next one, so a slow consumer never makes the client buffer
without bound. When the connection drops, the stream reconnects with backoff and subscribes
again with the cursor after the last event it received: the consumer sees every item exactly
once, in order.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from ._transport import backoff_delay
from .errors import OuroApiError, OuroError, OuroNetworkError, UnauthenticatedError, error_from_graphql

T = TypeVar("T")

# Close codes after which reconnecting cannot help (protocol errors, a frame too big, refused subscriptions).
FATAL_CLOSE_CODES = frozenset({1002, 1003, 1007, 1009, 1010, 4004, 4400, 4406, 4409, 4429})
AUTH_CLOSE_CODES = frozenset({4401, 4403})

Extract = Callable[[dict[str, Any]], tuple[list[T], str, bool]]


class LiveStream(Generic[T], Iterator[T]):
    """An iterator over a subscription that takes `after: Cursor`.

    `cursor` is the position after the last complete event handed to you: store it and pass
    it as `after` later to continue. Streams end by themselves only when the server completes
    them (jobs.watch after the job ends); otherwise `break`, call `close()` or use `with`.
    Server refusals (a bad token, an unknown id) raise an OuroApiError from the loop.
    """

    def __init__(
        self,
        ws_url: str,
        token: str,
        query: str,
        variables: Callable[[str | None], dict[str, Any]],
        extract: Extract[T],
        *,
        after: str | None = None,
        max_reconnects: int | None = None,
        max_initial_attempts: int = 3,
        on_reconnect: Callable[[OuroError, int, float], None] | None = None,
        open_timeout: float = 10.0,
        ping_interval: float | None = 15.0,
    ) -> None:
        self._ws_url = ws_url
        self._token = token
        self._query = query
        self._variables = variables
        self._extract = extract
        self._resume: str | None = after
        self._delivered: str | None = after
        self._buffer: deque[tuple[T, str | None]] = deque()
        self._socket: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._op_id = ""
        self._ended = False
        self._closed = False
        self._connected_once = False
        self._attempt = 0
        self._max_reconnects = max_reconnects
        self._max_initial = max(1, max_initial_attempts)
        self._on_reconnect = on_reconnect
        self._open_timeout = open_timeout
        self._ping_interval = ping_interval
        self.reconnects = 0
        """How many times the stream has reconnected."""
        self.last_error: OuroError | None = None
        """The last error that made the stream reconnect."""

    @property
    def never_connected(self) -> bool:
        """True until the first connection was acknowledged."""
        return not self._connected_once

    @property
    def cursor(self) -> str | None:
        """Position after the last complete event handed out; pass as `after` to continue later."""
        return self._delivered

    def __iter__(self) -> LiveStream[T]:
        return self

    def __next__(self) -> T:
        return self.next(timeout=None)

    def next(self, timeout: float | None = None) -> T:
        """The next item; raises TimeoutError when none came within `timeout` seconds, StopIteration at the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._buffer:
                item, cursor = self._buffer.popleft()
                if cursor is not None:
                    self._delivered = cursor
                return item
            if self._ended or self._closed:
                self._disconnect()
                raise StopIteration
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError("no event within the timeout")
            self._receive(remaining)

    def close(self) -> None:
        """Ends the stream and closes its socket."""
        if self._closed:
            return
        self._closed = True
        self._buffer.clear()
        self._disconnect(complete=True)

    def __enter__(self) -> LiveStream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # No closing handshake here: at interpreter exit the thread that would read the
        # server's answer may be gone, and waiting for it would hang the exit.
        self.kill_connection()

    def kill_connection(self) -> None:
        """Drops the socket without a goodbye, as a network failure would (for tests and demos)."""
        if self._socket is not None:
            try:
                self._socket.socket.close()
            except OSError:
                pass

    # -- internals ---------------------------------------------------------------------------

    def _receive(self, timeout: float | None) -> None:
        """Reads one message (connecting first when needed) and handles it."""
        try:
            if self._socket is None:
                self._connect()
            assert self._socket is not None
            raw = self._socket.recv(timeout=timeout)
        except TimeoutError:
            return
        except ConnectionClosed as err:
            self._socket = None
            code = err.rcvd.code if err.rcvd else None
            reason = err.rcvd.reason if err.rcvd else ""
            if self._closed:
                return
            self._failed(close_error(code, reason))
            return
        except OuroApiError:
            self._disconnect()
            raise
        except OuroNetworkError as err:
            self._disconnect()
            self._failed(err)
            return
        except (OSError, InvalidHandshake) as err:
            self._disconnect()
            self._failed(OuroNetworkError(f"WebSocket error at {self._ws_url}: {err}"))
            return
        self._handle(json.loads(raw))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping":
            self._send({"type": "pong"})
            return
        if kind == "pong" or message.get("id") != self._op_id:
            return
        if kind == "next":
            payload = message.get("payload") or {}
            errors = payload.get("errors")
            if errors or not isinstance(payload.get("data"), dict):
                self._disconnect(complete=True)
                self._ended = True
                raise error_from_graphql(errors) if errors else OuroNetworkError("subscription event without data", retryable=False)
            items, cursor, done = self._extract(payload["data"])
            self._attempt = 0
            self._resume = cursor
            if not items:
                if not self._buffer:
                    self._delivered = cursor
                else:
                    last_item, _ = self._buffer[-1]
                    self._buffer[-1] = (last_item, cursor)
            for i, item in enumerate(items):
                self._buffer.append((item, cursor if i == len(items) - 1 else None))
            if done:
                self._ended = True
                self._disconnect(complete=True)
        elif kind == "error":
            self._disconnect()
            self._ended = True
            raise error_from_graphql(message.get("payload") or [])
        elif kind == "complete":
            self._ended = True
            self._disconnect()

    def _failed(self, error: OuroError) -> None:
        """Reconnect after `error` (with backoff), or raise it when reconnecting cannot help."""
        attempt = self._attempt
        self._attempt += 1
        limit = self._max_reconnects if self._connected_once else self._max_initial - 1
        if not error.retryable or (limit is not None and attempt >= limit):
            self._ended = True
            raise error
        self.last_error = error
        delay = backoff_delay(attempt, 0.25, 30.0)
        if self._on_reconnect:
            self._on_reconnect(error, attempt + 1, delay)
        time.sleep(delay)
        self.reconnects += 1

    def _connect(self) -> None:
        try:
            # websockets ≥ 17 connects on __enter__ (and warns when used otherwise); older versions
            # connect in connect() and return a connection whose __enter__ returns itself.
            socket: ClientConnection = connect(
                self._ws_url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                open_timeout=self._open_timeout,
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_interval,
                close_timeout=2,
                max_size=64 * 1024 * 1024,
            ).__enter__()  # type: ignore[assignment]
        except InvalidStatus as err:
            status = err.response.status_code
            raise OuroNetworkError(
                f"{self._ws_url} answered HTTP {status} instead of a WebSocket; is it Ouro's /graphql endpoint?",
                status=status,
                retryable=status in (502, 503, 504),
            ) from err
        except InvalidURI as err:
            raise OuroNetworkError(f"bad WebSocket URL {self._ws_url}: {err}", retryable=False) from err
        except TimeoutError as err:
            raise OuroNetworkError(f"could not reach Ouro at {self._ws_url}: timed out") from err
        except OSError as err:
            raise OuroNetworkError(f"could not reach Ouro at {self._ws_url}: {err}") from err
        self._socket = socket
        try:
            socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self._token}"}}))
            while True:
                ack = json.loads(socket.recv(timeout=self._open_timeout))
                if ack.get("type") == "ping":
                    socket.send(json.dumps({"type": "pong"}))
                    continue
                if ack.get("type") != "connection_ack":
                    raise OuroNetworkError(f"unexpected first message {ack.get('type')!r} from {self._ws_url}", retryable=False)
                break
        except ConnectionClosed as err:
            self._socket = None
            code = err.rcvd.code if err.rcvd else None
            raise close_error(code, err.rcvd.reason if err.rcvd else "") from err
        except TimeoutError as err:
            self._disconnect()
            raise OuroNetworkError(f"{self._ws_url} did not acknowledge the connection in time") from err
        self._connected_once = True
        self._op_id = str(next(self._ids))
        self._send({"id": self._op_id, "type": "subscribe", "payload": {"query": self._query, "variables": self._variables(self._resume)}})

    def _send(self, message: dict[str, Any]) -> None:
        if self._socket is not None:
            self._socket.send(json.dumps(message))

    def _disconnect(self, complete: bool = False) -> None:
        socket, self._socket = self._socket, None
        if socket is None:
            return
        try:
            if complete and self._op_id:
                socket.send(json.dumps({"id": self._op_id, "type": "complete"}))
            socket.close()
        except (ConnectionClosed, OSError):
            pass


def close_error(code: int | None, reason: str) -> OuroError:
    """What a WebSocket close means for the client."""
    suffix = f" {reason}" if reason else ""
    if code in AUTH_CLOSE_CODES:
        return UnauthenticatedError(f"the server refused the token (WebSocket closed: {code}{suffix})")
    return OuroNetworkError(f"WebSocket closed: {code}{suffix}", close_code=code, retryable=code not in FATAL_CLOSE_CODES)

