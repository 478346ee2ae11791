"""A process's Prometheus metrics are served on loopback only: the sidecar scrapes them over
the instance's localhost, and no other interface answers on that port."""

from __future__ import annotations

import socket
import urllib.request

from app.cli.common import METRICS_HOST, start_metrics_server
from tests.support.processes import free_port


def other_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_metrics_are_served_on_loopback_only() -> None:
    port = free_port()
    server = start_metrics_server(port)
    try:
        with urllib.request.urlopen(f"http://{METRICS_HOST}:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
            assert b"python_info" in answer.read()
        elsewhere = other_address()
        assert elsewhere is not None, "this test needs a non-loopback address to try"
        with socket.socket() as client:
            client.settimeout(2)
            assert client.connect_ex((elsewhere, port)) != 0, "metrics answered off loopback"
    finally:
        server.shutdown()
        server.server_close()
