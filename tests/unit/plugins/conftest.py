# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by the plugin unit tests."""

from __future__ import annotations

import http.server
import threading

import pytest


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the status its server's `status` attribute holds."""

    def do_GET(self):
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def ready_site():
    """A local HTTP server whose answer the test sets (`ready_site.status = 503`); `.url` is its /ready."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    httpd.status = 200
    httpd.url = "http://127.0.0.1:%d/ready" % httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
