"""moto's server, serving one request at a time.

moto's in-memory backends are not safe under concurrent requests: a
DynamoDB TransactWriteItems that fails restores the table from a copy taken
when it started, erasing writes that other requests committed meanwhile, and
conditional writes check and write without a lock. AWS is atomic, and
Strata's concurrency tests (many writers, many servers) rely on it, so the
tests run moto's own WSGI application behind one lock: same behaviour as
`moto_server`, minus the races.

Usage: python3 scripts/moto_server.py -H 127.0.0.1 -p PORT
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        # The request is handled (and the backend's state changed) inside
        # app(); the response body it returns is already materialised.
        with lock:
            return app(environ, start_response)

    # threaded: connections are still accepted while one is being served,
    # so a slow client never blocks the listener.
    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()
