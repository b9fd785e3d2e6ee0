"""moto's server, serving one request at a time.

moto's in-memory backends are not safe under concurrent requests: a
DynamoDB TransactWriteItems that fails restores the table from a copy taken
when it started, erasing writes that other requests committed meanwhile, and
conditional writes check and write without a lock. AWS is atomic, and
Strata's concurrency tests (many writers, many servers) rely on it, so the
tests run moto's own WSGI application behind one lock: same behaviour as
`moto_server`, minus the races.

It also honours TransactWriteItems' ClientRequestToken as DynamoDB does and
moto does not: a transaction that succeeded and is sent again with the same
token within ten minutes (a client library retrying an answer that was lost
on the way back) answers as before without being applied twice.

Usage: python3 scripts/moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import io
import json
import socket
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

TOKEN_TTL = 600.0  # seconds, as DynamoDB documents


class Idempotency:
    """Successful TransactWriteItems answers by ClientRequestToken."""

    def __init__(self) -> None:
        self.done: dict[str, tuple[float, bytes, str, list, list]] = {}

    def key(self, environ, body: bytes) -> str | None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.endswith(".TransactWriteItems"):
            return None
        try:
            token = json.loads(body).get("ClientRequestToken")
        except ValueError:
            return None
        return token or None

    def lookup(self, token: str, body: bytes):
        now = time.monotonic()
        for t in [t for t, v in self.done.items() if now - v[0] > TOKEN_TTL]:
            del self.done[t]
        hit = self.done.get(token)
        if hit is None:
            return None
        _, sent, status, headers, chunks = hit
        if sent != body:
            msg = b'{"__type":"com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException","message":"The request uses the same client token as a previous, but non-identical request."}'
            return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], [msg]
        return status, headers, chunks

    def remember(self, token: str, body: bytes, status: str, headers, chunks) -> None:
        if status.startswith("200"):
            self.done[token] = (time.monotonic(), body, status, headers, chunks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()
    idem = Idempotency()

    def serialized(environ, start_response):
        token = None
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
                body = environ["wsgi.input"].read()
            else:
                body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            token = idem.key(environ, body)
        # The request is handled (and the backend's state changed) inside
        # app(); the response body it returns is already materialised.
        with lock:
            if token is None:
                return app(environ, start_response)
            hit = idem.lookup(token, body)
            if hit is not None:
                status, headers, chunks = hit
                start_response(status, headers)
                return chunks
            answer = {}

            def capture(status, headers, exc_info=None):
                answer["status"], answer["headers"] = status, list(headers)
                return start_response(status, headers, exc_info)

            chunks = list(app(environ, capture))
            idem.remember(token, body, answer["status"], answer["headers"], chunks)
            return chunks

    # threaded: connections are still accepted while one is being served,
    # so a slow client never blocks the listener.
    server = make_server(args.host, args.port, serialized, threaded=True)
    close = server.shutdown_request

    def lingering_close(request) -> None:
        # werkzeug answers every request with "Connection: close" and closes
        # at once. A socket closed with anything unread sends a reset, and a
        # reset can erase an answer the client has not read yet (RFC 9112,
        # section 9.6), which makes the SDK send the request again. So: send
        # FIN, then read until the client closes its side (or 5 s pass).
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(5)
            while request.recv(65536):
                pass
        except OSError:
            pass
        close(request)

    server.shutdown_request = lingering_close
    print(f" * Running on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
