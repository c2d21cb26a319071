"""Real servers on 127.0.0.1 for delivery tests: an HTTP endpoint that records what it
receives (in a thread, ``http.server``) and an SMTP server (``aiosmtpd``)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Endpoint:
    """What the server answers (``status``, ``body``) and what it received."""

    url: str
    status: int = 200
    body: Any = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    requests: list[Received] = field(default_factory=list)

    def answer(self, status: int, body: Any) -> None:
        self.status, self.body = status, body


@contextmanager
def http_endpoint(path: str = "/hook", port: int = 0) -> Iterator[Endpoint]:
    """A local HTTP server; ``endpoint.url`` is ``http://127.0.0.1:<port><path>``
    (any free port unless ``port`` is given)."""
    state: dict[str, Endpoint] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            endpoint = state["endpoint"]
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            endpoint.requests.append(Received(
                parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                dict(self.headers.items()), self.rfile.read(length)))
            payload = json.dumps(endpoint.body).encode()
            self.send_response(endpoint.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state["endpoint"] = Endpoint(f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["endpoint"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url(path: str = "/hook") -> str:
    """The URL of a port nothing listens on (a robot that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, _Mailbox]]:
    """A local SMTP server; yields its port and the mailbox of what it accepted."""
    mailbox = _Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()
