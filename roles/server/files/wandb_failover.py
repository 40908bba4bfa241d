#!/usr/bin/python3
"""wandb-failover: the fenced failover watchdog of a W&B server host (wandb_local.fleet).

Installed by the server role on every host of the server group when it has a standby
(wandb_server_failover). One lease per installation, held in the W&B MySQL database itself: a named
lock (GET_LOCK) on this program's persistent connection. Only the holder runs the server container;
the other hosts poll for the lock about every second and, once they hold it, start their (already
created) container. docs/high-availability.md gives the fencing argument; in short:

- The holder confirms the lease about every second (IS_USED_LOCK = CONNECTION_ID()). A confirmation
  counts from the moment its query was SENT (monotonic clock). When none is newer than fence_after
  seconds, or the connection fails, the container is killed at once (SIGKILL to its process, then
  the Docker API), from a thread of its own, so a hung query or a resumed freeze cannot delay it.
- The session's wait_timeout is fence_after + stop_budget + margin: MySQL drops a silent holder's
  session (and with it the lock) only after that holder has killed its container.
- A new holder waits handover_delay (>= stop_budget) before it starts its container: a watchdog that
  died without killing (SIGKILL, OOM) lost its lock at once, and systemd's ExecStopPost kills its
  container within stop_budget.
- Health gate: a holder whose container is not ready for unready_after seconds (start_grace after a
  start) stops it and releases the lease, and waits release_backoff before it competes again.
- The status endpoint answers 200 only while the lease is confirmed and the container ready; the
  proxy's health check asks it, so a host that resumes after a freeze never gets traffic back.

Commands: run (the service), status [--json] [--wait-settled S], pause --for S, resume,
release [--hold-off S], fence (kill the server containers: the unit's ExecStopPost).
Logs go to stdout (the journal), one line per transition; credentials never appear in any output.
"""

import argparse
import contextlib
import http.client
import http.server
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_CONFIG = "/etc/wandb/failover.json"
DEFAULTS = {
    "lock": "wandb_local.fleet.server",
    "container": "wandb-local",
    "label": "org.wandb-fleet.role=server",
    "ready_url": "http://127.0.0.1:8080/ready",
    "docker_socket": "/var/run/docker.sock",
    "interval": 1.0,
    "fence_after": 3.0,
    "stop_budget": 2.0,
    "margin": 2.0,
    "handover_delay": None,  # None: stop_budget
    "unready_after": 15.0,
    "start_grace": 300.0,
    "release_backoff": 5.0,
    "status_address": "0.0.0.0",  # noqa: S104 (the proxy asks it from another host)
    "status_port": 8079,
    "state_dir": "/run/wandb-failover",
    "metrics_file": "/var/lib/prometheus/node-exporter/wandb_failover.prom",
    # The kernel's dead man's switch: traffic of this bridge passes only until the lease's deadline.
    "fence_interface": "docker0",
}

STANDBY, ACTIVE = "standby", "active"


class ConfigError(Exception):
    pass


def load_config(path):
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError) as error:
        raise ConfigError("cannot read %s: %s" % (path, type(error).__name__)) from None
    return make_config(raw)


def make_config(raw):
    config = dict(DEFAULTS)
    config.update({key: value for key, value in raw.items() if value is not None})
    if config["handover_delay"] is None:
        config["handover_delay"] = config["stop_budget"]
    for key in ("interval", "fence_after", "stop_budget", "margin", "unready_after", "start_grace"):
        if float(config[key]) <= 0:
            raise ConfigError("%s must be positive seconds" % key)
    if float(config["fence_after"]) < 2 * float(config["interval"]):
        raise ConfigError("fence_after must be at least twice the interval (one lost confirmation is no reason)")
    if float(config["handover_delay"]) < float(config["stop_budget"]):
        raise ConfigError("handover_delay must be at least stop_budget")
    if "name" not in config:
        config["name"] = socket.gethostname()
    config["wait_timeout"] = wait_timeout(config)
    return config


def wait_timeout(config):
    """The session's wait_timeout (whole seconds, MySQL's unit): longer than the holder needs to notice
    a lost lease and kill its container."""
    return math.ceil(float(config["fence_after"]) + float(config["stop_budget"]) + float(config["margin"]))


# --- the lease in MySQL ----------------------------------------------------------------------------
class MySQLLease:
    """GET_LOCK on one persistent connection (PyMySQL). Every failure closes the connection: a new
    session never holds the old one's lock."""

    def __init__(self, config):
        self.config = config
        self.connection = None

    def _connect(self):
        import pymysql

        db = self.config["mysql"]
        tls = {}
        if db.get("ssl_ca"):
            tls = {
                "ssl_ca": db["ssl_ca"],
                "ssl_verify_cert": True,
                "ssl_verify_identity": bool(db.get("verify_identity", True)),
            }
        timeout = max(1, int(float(self.config["fence_after"])))
        self.connection = pymysql.connect(
            host=db["host"],
            port=int(db.get("port", 3306)),
            user=db["user"],
            password=db["password"],
            database=db.get("database") or None,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            autocommit=True,
            **tls,
        )
        self._query("SET SESSION wait_timeout = %d" % int(self.config["wait_timeout"]))

    def _query(self, sql, args=None):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, args)
            row = cursor.fetchone()
        return row[0] if row else None

    def _guarded(self, sql, args=None):
        try:
            if self.connection is None:
                self._connect()
            return self._query(sql, args)
        except Exception as error:
            self.close()
            raise LeaseError(describe_error(error)) from None

    def try_acquire(self):
        return self._guarded("SELECT GET_LOCK(%s, 0)", (self.config["lock"],)) == 1

    def confirm(self):
        return self._guarded("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", (self.config["lock"],)) == 1

    def release(self):
        try:
            if self.connection is not None:
                self._query("SELECT RELEASE_LOCK(%s)", (self.config["lock"],))
        except Exception:  # noqa: S110 (closing the session releases it too)
            pass
        self.close()

    def close(self):
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


class LeaseError(Exception):
    pass


def describe_error(error):
    """The error's class and MySQL code, never its text (a driver may quote the DSN)."""
    code = error.args[0] if getattr(error, "args", None) and isinstance(error.args[0], int) else None
    return "%s%s" % (type(error).__name__, " %d" % code if code is not None else "")


# --- the container, through the Docker API -------------------------------------------------------
class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


def pid_is_container(pid, ident):
    """The process still is that container's (a PID can be reused once the container is gone): its
    cgroup names the container's id."""
    try:
        with open("/proc/%d/cgroup" % int(pid), encoding="utf-8") as handle:
            return str(ident) in handle.read()
    except (OSError, ValueError):
        return False


class DockerContainer:
    def __init__(self, config):
        self.config = config
        self.pid = None  # of the container this host started (or found running), for the fence

    def _api(self, method, path, timeout=10.0):
        connection = UnixHTTPConnection(self.config["docker_socket"], timeout)
        try:
            connection.request(method, path)
            answer = connection.getresponse()
            body = answer.read()
            return answer.status, (json.loads(body) if body and body[:1] in (b"{", b"[") else None)
        finally:
            connection.close()

    def inspect(self):
        """(running, pid, id) of the server container; (False, None, None) when there is none."""
        status, body = self._api("GET", "/containers/%s/json" % urllib.parse.quote(self.config["container"]))
        if status != 200 or not body:
            return False, None, None
        state = body.get("State") or {}
        running = bool(state.get("Running")) and not bool(state.get("Paused"))
        return running, state.get("Pid") or None, body.get("Id")

    def running(self):
        running, pid, ident = self.inspect()
        self.pid = (pid, ident) if running and pid and ident else None
        return running

    def exists(self):
        return self.inspect()[2] is not None

    def start(self):
        status, _body = self._api("POST", "/containers/%s/start" % urllib.parse.quote(self.config["container"]), 60)
        if status not in (204, 304):
            raise ContainerError("the Docker API answered %d to the start" % status)
        self.running()

    def stop(self):
        timeout = math.ceil(float(self.config["stop_budget"]))
        self._api("POST", "/containers/%s/stop?t=%d" % (urllib.parse.quote(self.config["container"]), timeout), 60)

    def kill(self):
        """SIGKILL to the process first (microseconds, no daemon involved), then every running server
        container (by label) through the API."""
        if self.pid and pid_is_container(*self.pid):
            with contextlib.suppress(OSError):
                os.kill(int(self.pid[0]), signal.SIGKILL)
        self.pid = None
        filters = urllib.parse.quote(json.dumps({"label": [self.config["label"]], "status": ["running", "paused"]}))
        _status, body = self._api("GET", "/containers/json?filters=%s" % filters, float(self.config["stop_budget"]))
        for container in body or []:
            self._api("POST", "/containers/%s/kill" % container["Id"], float(self.config["stop_budget"]))

    def ready(self):
        try:
            with urllib.request.urlopen(  # noqa: S310 (the configured http URL)
                self.config["ready_url"], timeout=min(2.0, float(self.config["interval"]))
            ) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False


class ContainerError(Exception):
    pass


# --- the kernel's dead man's switch -----------------------------------------------------------------
class TrafficFence:
    """Forwarded traffic of the server container's bridge (users in, the container's own connections to
    MySQL, Redis and the bucket out) passes only until a deadline the holder pushes forward at every
    confirmation: an iptables rule with the `time` match, which the kernel checks on every packet.
    A watchdog that is frozen, stopped or hung cannot push it, and whatever still runs of its
    container is cut off by the kernel at the deadline, without any process of this host running."""

    CHAIN = "WANDB-FENCE"
    PAST = "1970-01-02T00:00:00"

    def __init__(self, config, run=None):
        self.interface = config.get("fence_interface") or ""
        self.run = run or self._run
        self.failed = False
        self.ensured_at = None

    @staticmethod
    def _run(args):
        command = ["iptables", "-w", "5", *args]
        return subprocess.run(command, capture_output=True, timeout=10, check=False).returncode  # noqa: S603

    def enabled(self):
        return bool(self.interface)

    def ensure(self, now):
        """The chain (deny) and the jumps from DOCKER-USER; again every 10 s (a flush by someone else)."""
        if not self.enabled() or (self.ensured_at is not None and now - self.ensured_at < 10):
            return
        self.ensured_at = now
        if self.run(["-n", "-L", self.CHAIN]) != 0:
            self.run(["-N", self.CHAIN])
            self.run(["-A", self.CHAIN, "-m", "time", "--datestop", self.PAST, "-j", "RETURN"])
            self.run(["-A", self.CHAIN, "-j", "DROP"])
        if self.run(["-n", "-L", "DOCKER-USER"]) != 0:
            self.run(["-N", "DOCKER-USER"])
        for direction in ("-i", "-o"):
            jump = ["DOCKER-USER", direction, self.interface, "-j", self.CHAIN]
            if self.run(["-C", *jump]) != 0:
                self.failed = self.run(["-I", jump[0], "1", *jump[1:]]) != 0 or self.failed

    def allow_until(self, wall_deadline):
        if not self.enabled():
            return True
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(wall_deadline)))
        return self.run(["-R", self.CHAIN, "1", "-m", "time", "--datestop", stamp, "-j", "RETURN"]) == 0

    def deny(self):
        if not self.enabled():
            return True
        return self.run(["-R", self.CHAIN, "1", "-m", "time", "--datestop", self.PAST, "-j", "RETURN"]) == 0


class NoTrafficFence:
    def ensure(self, now):
        pass

    def allow_until(self, wall_deadline):
        return True

    def deny(self):
        return True


# --- the watchdog ----------------------------------------------------------------------------------
class Watchdog:
    """The state machine; tick() is one round, fence_check() the fencing thread's look. Clock, lease,
    container and the control file's content are injected, so tests drive it without MySQL or Docker.

    The fencing thread never waits for the main loop (which may hang in a query): it kills the
    container itself and leaves a note (fence_reason) the main loop acts on when it returns."""

    def __init__(self, config, lease, container, clock=time.monotonic, wall=time.time, log=print, traffic=None):
        self.config = config
        self.lease = lease
        self.container = container
        self.traffic = traffic or NoTrafficFence()
        self.clock = clock
        self.wall = wall
        self.log = log
        self.lock = threading.Lock()  # for the snapshot only; never held across I/O
        self.state = STANDBY
        self.reason = "starting"
        self.settled = False
        self.last_confirm = None  # when the newest confirming query was SENT
        self.acquired_at = None
        self.started_at = None
        self.last_ready = None
        self.ever_ready = False
        self.ready_now = False
        self.backoff_until = 0.0
        self.paused = False
        self.control_seq = 0
        self.transitions = 0
        self.last_transition = self.wall()
        self.last_error = ""
        self.fence_reason = None

    def _seconds(self, key):
        return float(self.config[key])

    # transitions ----------------------------------------------------------------------------------
    def _transition(self, state, reason):
        with self.lock:
            old = self.state
            self.state = state
            self.reason = reason
            self.transitions += 1
            self.last_transition = self.wall()
        self.log("%s: %s -> %s: %s" % (self.config["name"], old, state, reason))

    def _kill(self):
        try:
            self.container.kill()
        except Exception as error:
            self.log("%s: killing the server container failed: %s" % (self.config["name"], type(error).__name__))

    def _become_standby(self, reason, backoff):
        self.traffic.deny()
        with self.lock:
            self.last_confirm = None
            self.acquired_at = None
            self.started_at = None
            self.ever_ready = False
            self.ready_now = False
            self.backoff_until = self.clock() + backoff
            self.fence_reason = None
        self._transition(STANDBY, reason)

    def _fence(self, reason):
        """Lost or unconfirmed lease: the container is killed first, then the session closed."""
        self._kill()
        self.lease.close()
        self._become_standby("fenced: " + reason, backoff=self._seconds("release_backoff"))

    def _release(self, reason, backoff):
        with contextlib.suppress(Exception):  # the kill below makes sure
            self.container.stop()
        self._kill()
        self.lease.release()
        self._become_standby(reason, backoff=backoff)

    def _fresh(self):
        last = self.last_confirm
        return last is not None and self.clock() - last <= self._seconds("fence_after")

    # the fencing thread --------------------------------------------------------------------------
    def fence_check(self):
        """Called every 0.1 s from its own thread: the holder's last confirmation is too old (a hung
        query, a network partition, a resumed freeze). It reads the clock itself, so a freeze that
        ends is seen the first instant this thread runs again, and kills at once."""
        if self.state != ACTIVE or self.last_confirm is None or self._fresh():
            return False
        age = self.clock() - self.last_confirm
        first = self.fence_reason is None
        if first:
            self.traffic.deny()
            self.fence_reason = "the lease was not confirmed for %.1f s (fence_after %s s)" % (
                age,
                self.config["fence_after"],
            )
        self._kill()
        if first:
            self.log("%s: killed the server container: %s" % (self.config["name"], self.fence_reason))
        return True

    def serving(self):
        """What the status endpoint answers 200 for: lease confirmed recently and the container ready."""
        now = self.clock()
        last_ready = self.last_ready
        ready_fresh = last_ready is not None and now - last_ready <= 2 * self._seconds("interval") + 2
        return self.state == ACTIVE and self.fence_reason is None and self._fresh() and self.ready_now and ready_fresh

    # one round -----------------------------------------------------------------------------------
    def apply_control(self, control):
        """control: {seq, pause_until (wall clock), release_seq, hold_off}, written by the commands."""
        seq = int(control.get("seq", 0))
        paused = float(control.get("pause_until") or 0) > self.wall()
        if paused != self.paused:
            self.paused = paused
            self.log(
                "%s: %s"
                % (
                    self.config["name"],
                    "paused: the container is left as it is and no lease is taken (a playbook works)"
                    if paused
                    else "resumed: the watchdog manages the container again",
                )
            )
            if not paused and self.state == ACTIVE:
                # The health gate counts again from now, not from before the pause.
                self.started_at = self.clock()
                self.ever_ready = False
        if seq > self.control_seq:
            if int(control.get("release_seq", 0)) == seq:
                hold_off = float(control.get("hold_off") or 0)
                if self.state == ACTIVE:
                    self._release("released on request (switchover)", backoff=hold_off)
                else:
                    self.backoff_until = self.clock() + hold_off
            self.control_seq = seq

    def tick(self, control=None):
        self.traffic.ensure(self.clock())
        if not self.settled:
            self.traffic.deny()
        self.apply_control(control or {})
        if self.state == ACTIVE:
            self._tick_active()
        else:
            self._tick_standby()
        self.settled = True

    def _tick_active(self):
        if self.fence_reason is not None:
            self._fence(self.fence_reason)
            return
        sent, sent_wall = self.clock(), self.wall()
        try:
            confirmed = self.lease.confirm()
        except LeaseError as error:
            self.last_error = str(error)
            self._fence("the database did not confirm the lease (%s)" % error)
            return
        if self.fence_reason is not None:  # the fencing thread acted while the query hung
            self._fence(self.fence_reason)
            return
        if not confirmed:
            self._fence("the lock is no longer this session's")
            return
        self.last_confirm = sent
        # The kernel lets the container's traffic through until the fence would kill it anyway.
        self.traffic.allow_until(sent_wall + self._seconds("fence_after"))
        if self.clock() < self.acquired_at + self._seconds("handover_delay"):
            return
        try:
            # Asked while paused too: the fence's process id follows the container a playbook switched to.
            running = self.container.running()
            if not self.paused and not running:
                if not self.container.exists():
                    self.ready_now = False
                    return  # being recreated by a playbook: nothing to start yet
                if not self._fresh():
                    return  # the fencing thread decides
                self.container.start()
                self.started_at = self.clock()
                self.ever_ready = False
                self.log("%s: started the server container" % self.config["name"])
                if self.fence_reason is not None:
                    self._fence(self.fence_reason)
                    return
        except Exception as error:
            self.last_error = type(error).__name__
            self.ready_now = False
            return
        self.ready_now = self.container.ready()
        now = self.clock()
        if self.ready_now:
            if not self.ever_ready:
                self.log("%s: the server container is ready" % self.config["name"])
            self.last_ready = now
            self.ever_ready = True
            return
        if self.paused:
            return
        since = self.last_ready if self.ever_ready else self.started_at
        limit = self._seconds("unready_after" if self.ever_ready else "start_grace")
        if since is not None and now - since > limit:
            self._release(
                "the server container was not ready for %.0f s (%s %s s): the lease goes to a standby"
                % (now - since, "unready_after" if self.ever_ready else "start_grace", limit),
                backoff=self._seconds("release_backoff"),
            )

    def _tick_standby(self):
        # A host without the lease never runs the server (a host back from a failure included).
        try:
            if self.container.running():
                self._kill()
                self.log("%s: killed a server container that ran without the lease" % self.config["name"])
        except Exception as error:
            self.last_error = type(error).__name__
        if self.paused or self.clock() < self.backoff_until:
            return
        sent = self.clock()
        try:
            acquired = self.lease.try_acquire()
        except LeaseError as error:
            if self.last_error != str(error):
                self.log("%s: the database cannot be asked for the lease (%s)" % (self.config["name"], error))
            self.last_error = str(error)
            return
        self.last_error = ""
        if acquired:
            self.last_confirm = sent
            self.acquired_at = self.clock()
            self.started_at = None
            self.ever_ready = False
            self.fence_reason = None
            self._transition(
                ACTIVE,
                "acquired the lease; the container starts after %s s (handover_delay)" % self.config["handover_delay"],
            )
        elif self.reason == "starting":
            self.reason = "the lease is held by another host"

    def stop(self):
        """The service stops (systemd, a shutdown): the container goes first, then the lease."""
        if self.state == ACTIVE:
            self._release("the watchdog stops", backoff=0)
        else:
            self.lease.close()

    def snapshot(self):
        with self.lock:
            confirmed = self.last_confirm
            return {
                "name": self.config["name"],
                "state": self.state,
                "reason": self.reason,
                "settled": self.settled,
                "paused": self.paused,
                "serving": self.serving(),
                "ready": self.ready_now,
                "confirmed_ago": None if confirmed is None else round(self.clock() - confirmed, 3),
                "transitions": self.transitions,
                "last_transition": self.last_transition,
                "control_seq": self.control_seq,
                "wait_timeout": self.config["wait_timeout"],
            }


# --- files: control, state, metrics ---------------------------------------------------------------
def write_atomic(path, text, mode=0o644):
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def render_metrics(snapshot):
    """node_exporter textfile format (as the backup program writes its own)."""
    lines = []
    for name, kind, text, value in (
        (
            "wandb_failover_lease_held",
            "gauge",
            "1 while this host holds the lease (runs the server).",
            1 if snapshot["state"] == ACTIVE else 0,
        ),
        (
            "wandb_failover_serving",
            "gauge",
            "1 while the lease is confirmed and the container ready.",
            1 if snapshot["serving"] else 0,
        ),
        (
            "wandb_failover_paused",
            "gauge",
            "1 while a playbook has paused the watchdog.",
            1 if snapshot["paused"] else 0,
        ),
        (
            "wandb_failover_transitions_total",
            "counter",
            "Lease transitions since the watchdog started.",
            snapshot["transitions"],
        ),
        (
            "wandb_failover_last_transition_timestamp_seconds",
            "gauge",
            "When the state last changed (Unix time).",
            int(snapshot["last_transition"]),
        ),
    ):
        lines += ["# HELP %s %s" % (name, text), "# TYPE %s %s" % (name, kind), "%s %s" % (name, value)]
    return "\n".join(lines) + "\n"


def notify_status(text):
    """`systemctl status` shows it (sd_notify STATUS=, NotifyAccess=main)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(("STATUS=%s" % text).encode(), address)
    except OSError:
        pass


def status_line(snapshot):
    return "%s%s%s: %s" % (
        snapshot["state"],
        ", serving" if snapshot["serving"] else "",
        ", paused" if snapshot["paused"] else "",
        snapshot["reason"],
    )


class StatusHandler(http.server.BaseHTTPRequestHandler):
    watchdog = None

    def do_GET(self):
        snapshot = self.watchdog.snapshot()
        body = json.dumps(snapshot).encode()
        self.send_response(200 if snapshot["serving"] else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # the proxy asks every second: not worth a journal line
        pass


class StatusServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that went away (the proxy's check timed out while this host was frozen) is no
        event worth a traceback in the journal."""


def serve(config, watchdog):
    stop = threading.Event()

    def on_term(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    def fencer():
        while not stop.is_set():
            watchdog.fence_check()
            time.sleep(0.1)

    threading.Thread(target=fencer, daemon=True).start()
    if int(config["status_port"]) > 0:
        handler = type("Handler", (StatusHandler,), {"watchdog": watchdog})
        httpd = StatusServer((config["status_address"], int(config["status_port"])), handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state_file = os.path.join(config["state_dir"], "state.json")
    control_file = os.path.join(config["state_dir"], "control.json")
    metrics = ""
    shown = ""
    watchdog.log(
        "%s: watchdog started (lock %s, fence_after %s s, wait_timeout %d s, handover_delay %s s)"
        % (config["name"], config["lock"], config["fence_after"], config["wait_timeout"], config["handover_delay"])
    )
    try:
        while not stop.is_set():
            started = time.monotonic()
            watchdog.tick(read_json(control_file))
            snapshot = watchdog.snapshot()
            write_atomic(state_file, json.dumps(snapshot))
            line = status_line(snapshot)
            if line != shown:
                notify_status(line)
                shown = line
            rendered = render_metrics(snapshot)
            if rendered != metrics and config.get("metrics_file"):
                try:
                    write_atomic(config["metrics_file"], rendered)
                    metrics = rendered
                except OSError:
                    pass
            stop.wait(max(0.0, float(config["interval"]) - (time.monotonic() - started)))
    finally:
        watchdog.stop()
        write_atomic(state_file, json.dumps(watchdog.snapshot()))
    return 0


# --- the command line ------------------------------------------------------------------------------
def control_command(config, pause_until=None, release=False, hold_off=0.0, wait=10.0):
    control_file = os.path.join(config["state_dir"], "control.json")
    control = read_json(control_file)
    seq = (
        max(
            int(control.get("seq", 0)),
            int(read_json(os.path.join(config["state_dir"], "state.json")).get("control_seq", 0)),
        )
        + 1
    )
    control["seq"] = seq
    if pause_until is not None:
        control["pause_until"] = pause_until
    if release:
        control["release_seq"] = seq
        control["hold_off"] = hold_off
    write_atomic(control_file, json.dumps(control), mode=0o600)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        state = read_json(os.path.join(config["state_dir"], "state.json"))
        if int(state.get("control_seq", 0)) >= seq:
            return state
        time.sleep(0.1)
    raise SystemExit("wandb-failover: the watchdog did not take the command within %.0f s (is it running?)" % wait)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="wandb-failover", description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run")
    status = sub.add_parser("status")
    status.add_argument("--json", action="store_true")
    status.add_argument("--wait-settled", type=float, default=0.0)
    status.add_argument("--wait-serving", type=float, default=0.0)
    pause = sub.add_parser("pause")
    pause.add_argument("--for", dest="seconds", type=float, required=True)
    sub.add_parser("resume")
    release = sub.add_parser("release")
    release.add_argument("--hold-off", type=float, default=30.0)
    sub.add_parser("fence")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print("wandb-failover: %s" % error, file=sys.stderr)
        return 2
    if args.command == "run":
        return serve(
            config,
            Watchdog(
                config,
                MySQLLease(config),
                DockerContainer(config),
                log=lambda line: print(line, flush=True),
                traffic=TrafficFence(config),
            ),
        )
    if args.command == "fence":
        TrafficFence(config).deny()
        DockerContainer(config).kill()
        return 0
    if args.command == "status":
        state_file = os.path.join(config["state_dir"], "state.json")
        deadline = time.monotonic() + max(args.wait_settled, args.wait_serving)
        while True:
            state = read_json(state_file)
            done = (not args.wait_settled or state.get("settled")) and (not args.wait_serving or state.get("serving"))
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if args.json:
            print(json.dumps(state))
        else:
            print("%s: %s" % (state.get("name", "?"), status_line(state) if state else "no state yet"))
        if args.wait_serving and not state.get("serving"):
            return 1
        return 0 if state else 1
    if args.command == "pause":
        state = control_command(config, pause_until=time.time() + args.seconds)
    elif args.command == "resume":
        state = control_command(config, pause_until=0)
    else:
        state = control_command(config, release=True, hold_off=args.hold_off)
    print(json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
