"""A real HTTP server on loopback standing in for a webhook receiver: it answers each request
as scripted (a status, after a pause) and remembers what it got."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    # Each request takes the next (status, seconds to wait first); the last one repeats.
    script: list[tuple[int, float]] = field(default_factory=lambda: [(200, 0.0)])
    extra_headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def answers(self, *script: tuple[int, float] | int) -> None:
        self.script = [(step, 0.0) if isinstance(step, int) else step for step in script]

    def next_answer(self, request: Received) -> tuple[int, float]:
        with self.lock:
            self.received.append(request)
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def handler_for(receiver_holder: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver = receiver_holder[0]
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            status, pause = receiver.next_answer(request)
            time.sleep(pause)
            try:
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):  # the sender gave up waiting
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def start_receiver() -> Receiver:
    holder: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(holder))
    server.daemon_threads = True
    holder.append(Receiver(server))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return holder[0]


def stop_receiver(receiver: Receiver) -> None:
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, with private addresses allowed and a short timeout."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1.0
    started = start_receiver()
    yield started
    stop_receiver(started)
