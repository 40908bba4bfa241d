"""Start and stop the emulators the integration tests need, on free loopback ports.

A fresh machine has none of them running; what is not installed yet is installed into
$WANDB_LAB_CACHE (default ~/.cache/wandb-fleet-lab) and reused by later runs.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

LAB_CACHE = Path(os.environ.get("WANDB_LAB_CACHE") or Path.home() / ".cache" / "wandb-fleet-lab")
# Azurite 3.36+ declares node >= 22; this machine kind ships node 20, which 3.35.0 supports.
AZURITE_VERSION = "3.35.0"
PUBSUB_EMULATOR = Path("/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator")


class EmulatorError(RuntimeError):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_tool(name):
    """A console script of the Python running the tests (the project venv), else from PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise EmulatorError("%s is not installed: run `make deps` (it comes from tests/requirements.txt)" % name)
    return found


class Process:
    """A child process with its log in a file; stopped (and waited for) by stop()."""

    def __init__(self, name, argv, log_dir, env=None, cwd=None):
        self.name = name
        self.log_path = Path(log_dir) / ("%s.log" % name)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, **(env or {})),
            cwd=cwd,
            start_new_session=True,
        )

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_http(self, url, timeout=60, ok=lambda r: r.status_code < 500):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmulatorError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log_tail()))
            try:
                if ok(requests.get(url, timeout=2)):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise EmulatorError("%s did not answer %s within %ss:\n%s" % (self.name, url, timeout, self.log_tail()))

    def wait_port(self, port, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmulatorError("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.log_tail()))
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        raise EmulatorError("%s did not open port %s within %ss:\n%s" % (self.name, port, timeout, self.log_tail()))

    def stop(self):
        if self.proc.poll() is None:
            # The process group: the pubsub emulator's shell wrapper starts java as a child.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=5)
        self._log.close()


def start_moto(log_dir):
    port = free_port()
    proc = Process("moto", [venv_tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)], log_dir)
    proc.wait_http("http://127.0.0.1:%d/moto-api/" % port)
    return proc, "http://127.0.0.1:%d" % port


def minio_binaries():
    bin_dir = LAB_CACHE / "bin"
    missing = [n for n in ("minio", "mc") if not os.access(bin_dir / n, os.X_OK)]
    if missing:
        raise EmulatorError(
            "MinIO binaries missing from %s (%s): run `tests/lab/setup minio` to build them from source "
            "(set WANDB_LAB_CACHE if the lab cache lives elsewhere)" % (bin_dir, ", ".join(missing))
        )
    return str(bin_dir / "minio"), str(bin_dir / "mc")


def start_minio(log_dir, data_dir, root_user, root_password):
    minio = minio_binaries()[0]
    port, console = free_port(), free_port()
    env = {"MINIO_ROOT_USER": root_user, "MINIO_ROOT_PASSWORD": root_password, "MINIO_BROWSER": "off"}
    proc = Process(
        "minio",
        [
            minio,
            "server",
            "--quiet",
            "--address",
            "127.0.0.1:%d" % port,
            "--console-address",
            "127.0.0.1:%d" % console,
            str(data_dir),
        ],
        log_dir,
        env=env,
    )
    proc.wait_http("http://127.0.0.1:%d/minio/health/ready" % port, ok=lambda r: r.status_code == 200)
    return proc, "http://127.0.0.1:%d" % port


def azurite_bin():
    """Azurite from npm, installed once into the lab cache."""
    prefix = LAB_CACHE / "npm" / ("azurite-%s" % AZURITE_VERSION)
    entry = prefix / "node_modules" / "azurite" / "dist" / "src" / "azurite.js"
    if entry.exists():
        return entry
    npm = shutil.which("npm")
    if not npm:
        raise EmulatorError("npm is not installed: Azurite comes from the npm registry (apt-get install npm)")
    tmp = prefix.with_name(prefix.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(tmp),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "azurite@%s" % AZURITE_VERSION,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise EmulatorError("npm install azurite@%s failed:\n%s" % (AZURITE_VERSION, result.stderr[-3000:]))
    shutil.rmtree(prefix, ignore_errors=True)
    tmp.rename(prefix)
    return entry


def start_azurite(log_dir, data_dir, accounts):
    """accounts: {name: base64 key}. Returns (process, blob URL base, queue URL base)."""
    entry = azurite_bin()
    node = shutil.which("node")
    if not node:
        raise EmulatorError("node is not installed: Azurite needs Node.js")
    blob, queue, table = free_port(), free_port(), free_port()
    env = {"AZURITE_ACCOUNTS": ";".join("%s:%s" % (n, k) for n, k in accounts.items())}
    proc = Process(
        "azurite",
        [
            node,
            str(entry),
            "--silent",
            "--location",
            str(data_dir),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(blob),
            "--queueHost",
            "127.0.0.1",
            "--queuePort",
            str(queue),
            "--tableHost",
            "127.0.0.1",
            "--tablePort",
            str(table),
            "--skipApiVersionCheck",
            "--disableProductStyleUrl",
        ],
        log_dir,
        env=env,
    )
    proc.wait_port(blob)
    proc.wait_port(queue)
    return proc, "http://127.0.0.1:%d" % blob, "http://127.0.0.1:%d" % queue


def start_gcs_emulator(log_dir):
    port = free_port()
    proc = Process(
        "gcp-storage-emulator",
        [venv_tool("gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "-q"],
        log_dir,
    )
    proc.wait_http("http://127.0.0.1:%d/" % port, ok=lambda r: r.status_code == 200)
    return proc, "http://127.0.0.1:%d" % port


def start_pubsub_emulator(log_dir):
    """The Cloud SDK's Pub/Sub emulator (Java; serves gRPC and the REST API on one port)."""
    if not PUBSUB_EMULATOR.exists():
        raise EmulatorError(
            "the Pub/Sub emulator is missing (%s): install Debian package google-cloud-cli-pubsub-emulator "
            "(machines of this kind ship it) and a Java runtime" % PUBSUB_EMULATOR
        )
    port = free_port()
    proc = Process(
        "pubsub-emulator",
        [str(PUBSUB_EMULATOR), "--host=127.0.0.1", "--port=%d" % port],
        log_dir,
    )
    proc.wait_http(
        "http://127.0.0.1:%d/v1/projects/probe-project/topics" % port, timeout=90, ok=lambda r: r.status_code == 200
    )
    return proc, "http://127.0.0.1:%d" % port
