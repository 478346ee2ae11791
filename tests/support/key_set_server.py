"""A signer's published key set (JWKS) served on loopback, as Google serves its own (IAP, OIDC,
App Check): fakes of those signers publish their public key here and sign with the private."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class KeySetServer:
    """Serves `{"keys": keys}` on every GET at `url` until `stop()`."""

    def __init__(self, keys: list[dict[str, Any]], path: str) -> None:
        body = json.dumps({"keys": keys}).encode()

        class KeySet(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), KeySet)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
