"""A `wfp-host serve` on a free loopback port with the worked examples' store (tests/e2e), for the
third-party tools of tests/openapi. Use as a context manager: `with Served(host, plugin) as url:`."""
import json
import os
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import wfp  # noqa: E402
from route_examples_test import BASE, NOW  # noqa: E402


class Served:
    def __init__(self, host, plugin, fixture=BASE):
        self.host, self.plugin, self.fixture = host, plugin, fixture

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        fixture = os.path.join(self.dir.name, "fixture.json")
        with open(fixture, "w") as f:
            json.dump(self.fixture, f)
        self.proc = subprocess.Popen(
            [self.host, "serve", "--db", os.path.join(self.dir.name, "wfp.db"), "--plugin", self.plugin,
             "--fixture", fixture, "--listen", "127.0.0.1:0", "--now", NOW, "--threads", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = wfp.listening_port(self.proc, self.proc.stderr.read)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.dir.cleanup()
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
