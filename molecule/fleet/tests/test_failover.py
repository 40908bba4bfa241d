"""Automatic fenced failover of the fleet's server (docs/high-availability.md): the watchdogs' lease in
MySQL decides which host runs the W&B container.

pytest runs this file after test_backup_restore.py (names sort; that file's disaster recovery ends with
the lease on fleet-app2, which took over when fleet-app1 was destroyed) and before test_fleet.py and
test_upgrade.py, which expect fleet-app1 serving and fleet-app2's container stopped. The tests take
the hosts as they find them: the switchover moves the lease to the other host and back, each fault
is injected into whichever host holds the lease, so the lease alternates (fleet-app2, fleet-app1,
fleet-app2, fleet-app1) and no playbook run is spent moving it back; the last test checks the fleet
ends with fleet-app1 serving.

For each fault injected into the active host from this machine (the host stopped, frozen with
`docker pause`, cut off with `docker network disconnect`): the standby serves through the proxy
within the measured window, at no sampled moment do both servers answer /ready (both sampled
directly every 0.1 s), the session key's fingerprint (/version) is unchanged, the rows and objects
written before are there after, and the old active comes back as a standby whose container does not
start. The windows are reported; the only bound is a generous sanity one."""

import json
import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lab_playbook import lab_host, run_playbook
from test_backup_restore import WINDOW, helper, say
from test_secret_scan import assert_no_scenario_secret

testinfra_hosts = ["ansible://fleet-mysql"]

pytestmark = pytest.mark.skipif(bool(os.environ.get("WANDB_IMAGE")), reason="reads the stand-in's session key")

APPS = ("fleet-app1", "fleet-app2")
NETWORK = "wandb-lab"
SANITY = 90  # seconds: far beyond any window here, only to end a test that would wait forever
SWITCHOVER_PLAYBOOK = "../../playbooks/switchover.yml"
OUTPUTS = []  # every playbook run's output, for the secret scan at the end


def address(name):
    return subprocess.run(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


ADDRESSES = {}


def app_address(name):
    """The lab's fixed address (molecule.yml), also while the host is cut off."""
    if name not in ADDRESSES:
        ADDRESSES[name] = address(name)
    return ADDRESSES[name]


def get(url, timeout=0.5, context=None):
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except (OSError, ValueError) as error:
        return str(error), b""


def watchdog(name, timeout=10):
    out = subprocess.run(
        ["docker", "exec", name, "wandb-failover", "status", "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else {}


def container_running(name):
    out = subprocess.run(
        ["docker", "exec", name, "docker", "inspect", "-f", "{{.State.Running}}", "wandb-local"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return out.stdout.strip() == "true"


class Proxy:
    def __init__(self):
        ca = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "wandb-secrets" / "ca" / "ca.crt"
        self.context = ssl.create_default_context(cafile=str(ca))
        self.context.check_hostname = False
        self.base = f"https://{address('fleet-proxy')}"

    def ready(self, timeout=1.0):
        return get(self.base + "/ready", timeout, self.context)[0]

    def version(self):
        status, body = get(self.base + "/version", 2.0, self.context)
        assert status == 200, f"/version through the proxy: {status}"
        return json.loads(body)


class Sampler:
    """Every 0.1 s, each in its own thread (a host that does not answer delays no other sample): /ready
    of both servers directly, /ready through the proxy, and each watchdog's status endpoint. Every
    sample is (what, sent, received, status) on this machine's monotonic clock."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.urls = {app: f"http://{app_address(app)}:8080/ready" for app in APPS}
        self.urls.update({f"dog {app}": f"http://{app_address(app)}:8079/" for app in APPS})
        self.samples = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=48)
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _one(self, what, sent):
        status = self.proxy.ready(0.5) if what == "proxy" else get(self.urls[what], 0.5)[0]
        self.samples.append((what, sent, time.monotonic(), status))

    def _loop(self):
        while not self._stop.is_set():
            began = time.monotonic()
            for what in [*self.urls, "proxy"]:
                self._pool.submit(self._one, what, began)
            self._stop.wait(max(0.0, 0.1 - (time.monotonic() - began)))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True)

    def of(self, what, since=0.0):
        return sorted((s for s in self.samples if s[0] == what and s[1] >= since), key=lambda s: s[1])

    def first_served(self, standby_host, since):
        """When the standby first answered /ready directly and the proxy answered 200 (sent after `since`)."""
        standby = [s[1] for s in self.of(standby_host, since) if s[3] == 200]
        proxy = [s[1] for s in self.of("proxy", since) if s[3] == 200]
        if not standby:
            return None
        return next((t for t in proxy if t >= standby[0]), None)

    def wait_for_standby(self, standby_host, since, limit=SANITY):
        while time.monotonic() - since < limit:
            served = self.first_served(standby_host, since)
            if served is not None:
                return served
            time.sleep(0.1)
        raise AssertionError(f"the standby did not serve within {limit} s; last samples: {self.samples[-10:]}")

    def _slots(self, what):
        return {int(s[2] * 10) for s in self.samples if s[0] == what and s[3] == 200}

    def both_ready(self):
        """0.1 s slots (by the answer's arrival) in which both servers answered /ready 200."""
        return sorted(self._slots("fleet-app1") & self._slots("fleet-app2"))

    def both_serving(self):
        return sorted(self._slots("dog fleet-app1") & self._slots("dog fleet-app2"))

    def proxy_window(self, since):
        """From the first failed answer through the proxy after `since` to the first 200 after it."""
        after = self.of("proxy", since)
        first_bad = next((s[1] for s in after if s[3] != 200), None)
        if first_bad is None:
            return 0.0, 0, len(after)
        recovered = next((s[1] for s in after if s[1] > first_bad and s[3] == 200), None)
        failed = sum(1 for s in after if s[3] != 200 and (recovered is None or s[1] < recovered))
        return (recovered - first_bad) if recovered else float("inf"), failed, len(after)


def other(app):
    return next(name for name in APPS if name != app)


def holder():
    states = {app: watchdog(app).get("state") for app in APPS}
    active = [app for app, state in states.items() if state == "active"]
    return active[0] if len(active) == 1 else None, states


def wait_serving(name, limit=SANITY):
    started = time.monotonic()
    while time.monotonic() - started < limit:
        state = watchdog(name)
        if state.get("state") == "active" and state.get("serving"):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{name} does not serve after {limit} s: {watchdog(name)}")


def wait_standby(name, limit=SANITY):
    started = time.monotonic()
    while time.monotonic() - started < limit:
        state = watchdog(name)
        if state.get("state") == "standby" and state.get("settled"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"{name}'s watchdog is not a settled standby after {limit} s: {watchdog(name)}")


def move_lease_to(target):
    """playbooks/switchover.yml: the holder releases, the others hold off, the target takes the lease.
    Returns the run's error window line (None when the target served already)."""
    current, states = holder()
    assert current, f"no single holder: {states}"
    run = run_playbook(SWITCHOVER_PLAYBOOK, "-vvv", extra_vars={"wandb_switchover_to": target})
    OUTPUTS.append(run.output)
    assert run.returncode == 0, run.tail()
    assert holder()[0] == target
    if current == target:
        assert "nothing changed" in run.output, run.tail()
        assert not any(run.changed.values()), run.tail()
        return None
    wait_standby(current)
    assert not container_running(current)
    found = list(WINDOW.finditer(run.output))
    assert found, run.tail()
    return found[-1]


def marks():
    return helper(lab_host("fleet-mysql"), "sql", stdin="SELECT name FROM failover_marks ORDER BY id;").split()


@pytest.fixture(scope="module")
def proxy():
    return Proxy()


@pytest.fixture(scope="module")
def site(proxy):
    """The table of marks and the session key's fingerprint, with one host holding the lease (fleet-app2
    after the disaster recovery)."""
    helper(
        lab_host("fleet-mysql"),
        "sql",
        stdin="CREATE TABLE IF NOT EXISTS failover_marks (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64));",
    )
    active, states = holder()
    assert active, f"no single holder: {states}"
    return {"fingerprint": proxy.version()["session_key"]}


def test_every_server_host_runs_the_watchdog_and_the_active_holds_the_lease(site):
    for app in APPS:
        host = lab_host(app)
        assert host.service("wandb-failover").is_running and host.service("wandb-failover").is_enabled
        assert host.file("/etc/wandb/failover.json").mode == 0o600
        assert host.file("/usr/local/sbin/wandb-failover").mode == 0o700
        status = host.check_output("systemctl status wandb-failover --no-pager | head -n 12")
        assert "Status:" in status and ("active" in status or "standby" in status), status
    active = holder()[0]
    standby = other(active)
    assert container_running(active) and not container_running(standby)
    # The lease is one named lock, held by one session of the W&B account.
    held = helper(
        lab_host("fleet-mysql"), "sql", stdin="SELECT IS_USED_LOCK('wandb_local.fleet.wandb_server') IS NOT NULL;"
    )
    assert held.strip() == "1"
    # wait_timeout of the watchdog's session: fence_after 3 + stop_budget 2 + margin 2.
    assert watchdog(active)["wait_timeout"] == 7
    metrics = lab_host(active).file("/var/lib/prometheus/node-exporter/wandb_failover.prom").content_string
    assert "wandb_failover_lease_held 1" in metrics and "# TYPE wandb_failover_lease_held gauge" in metrics
    assert (
        "wandb_failover_lease_held 0"
        in lab_host(standby).file("/var/lib/prometheus/node-exporter/wandb_failover.prom").content_string
    )


def test_both_hosts_hold_the_same_session_key(site):
    keys = {app: lab_host(app).file("/var/lib/wandb/env/session.key") for app in APPS}
    assert keys["fleet-app1"].sha256sum == keys["fleet-app2"].sha256sum
    for key in keys.values():
        assert (key.uid, key.gid, key.mode) == (999, 0, 0o660)
    assert len(site["fingerprint"]) == 16


def fault_test(proxy, site, capsys, name, inject, heal):
    """Mark, inject into the host holding the lease, watch the other take over, heal, check. The lease
    stays where it went: the next fault test starts from there. Returns the faulted host."""
    helper(lab_host("fleet-mysql"), "sql", stdin=f"INSERT INTO failover_marks (name) VALUES ('{name}');")  # noqa: S608 (a test's constant)
    before = {"marks": marks(), "objects": helper(lab_host("fleet-mysql"), "objects")}
    faulted = holder()[0]
    assert faulted and proxy.ready() == 200
    standby = other(faulted)
    with Sampler(proxy) as sampler:
        time.sleep(1)
        injected = time.monotonic()
        # In a thread: `docker stop` of a host waits for its shutdown.
        injector = threading.Thread(target=inject, args=(faulted,))
        injector.start()
        served = sampler.wait_for_standby(standby, injected)
        injector.join()
        time.sleep(3)
        healed = time.monotonic()
        heal(faulted)
        wait_standby(faulted)
        back = time.monotonic() - healed
        # Back, and a standby: its container stays stopped while it watches.
        for _attempt in range(10):
            assert not container_running(faulted), "the old active started its container"
            time.sleep(0.5)
        time.sleep(1)
    window, failed, samples = sampler.proxy_window(injected)
    takeover = served - injected
    both = sampler.both_ready()
    say(
        capsys,
        f"failover ({name} of {faulted}): the standby served through the proxy {takeover:.1f} s after the fault; "
        f"error window through the proxy {window:.1f} s ({failed} of {samples} samples failed); "
        f"0.1 s slots with both /ready 200: {len(both)}; the old active a standby again {back:.0f} s after the heal",
    )
    assert not both, f"both servers answered /ready at once: {both[:3]}"
    assert not sampler.both_serving(), "both watchdogs said serving at once"
    assert takeover < SANITY
    assert holder()[0] == standby
    assert proxy.ready() == 200
    assert proxy.version()["session_key"] == site["fingerprint"], "the session key changed: users were logged out"
    assert marks() == before["marks"] and name in marks()
    assert helper(lab_host("fleet-mysql"), "objects") == before["objects"]
    # The journal tells the transitions.
    journal = lab_host(standby).check_output("journalctl -u wandb-failover -o cat --no-pager | tail -n 30")
    assert "standby -> active: acquired the lease" in journal
    return faulted


def test_switchover_both_ways(proxy, site, capsys):
    """playbooks/switchover.yml to the standby and back: each time the target serves, the other host's
    container is stopped, no round sees both /ready, the keys stay; a run to the host that serves
    already changes nothing."""
    first = holder()[0]
    for target in (other(first), first):
        with Sampler(proxy) as sampler:
            moved = move_lease_to(target)
        say(capsys, f"switchover to {target}: {moved[0]}")
        assert 0 < float(moved["window"]) < SANITY
        assert not sampler.both_ready(), sampler.both_ready()[:3]
        assert not container_running(other(target))
        assert proxy.version()["session_key"] == site["fingerprint"]
    assert move_lease_to(first) is None


def docker(*args):
    subprocess.run(["docker", *args], check=True, capture_output=True, timeout=120)


def test_the_active_host_stopped(proxy, site, capsys):
    fault_test(proxy, site, capsys, "stop", lambda app: docker("stop", app), lambda app: docker("start", app))


def test_the_active_host_frozen(proxy, site, capsys):
    """docker pause: the holder's session goes silent, MySQL drops it after wait_timeout and the standby
    takes over; on resume the old active's fencing thread kills its container at once."""
    faulted = fault_test(
        proxy, site, capsys, "pause", lambda app: docker("pause", app), lambda app: docker("unpause", app)
    )
    journal = lab_host(faulted).check_output("journalctl -u wandb-failover -o cat --no-pager | tail -n 40")
    assert "killed the server container: the lease was not confirmed" in journal or "fenced:" in journal, journal


def test_the_active_host_cut_off(proxy, site, capsys):
    for app in APPS:
        app_address(app)  # read now: a host cut off has no address to read
    faulted = fault_test(
        proxy,
        site,
        capsys,
        "partition",
        lambda app: docker("network", "disconnect", NETWORK, app),
        lambda app: docker("network", "connect", "--ip", app_address(app), NETWORK, app),
    )
    journal = lab_host(faulted).check_output("journalctl -u wandb-failover -o cat --no-pager | tail -n 40")
    assert "active -> standby: fenced" in journal, journal


def test_the_fleet_is_left_as_the_later_tests_expect(proxy):
    """fleet-app1 serving: where the alternating lease ends after the disaster recovery (else moved there)."""
    if holder()[0] != "fleet-app1":
        move_lease_to("fleet-app1")
    assert holder()[0] == "fleet-app1"
    assert container_running("fleet-app1") and not container_running("fleet-app2")
    proxy_host = lab_host("fleet-proxy")
    started = time.monotonic()
    status = {}
    while time.monotonic() - started < SANITY:
        stats = proxy_host.check_output(
            'python3 -c \'import socket; s = socket.socket(socket.AF_UNIX); s.connect("/var/lib/haproxy/admin.sock"); '
            's.sendall(b"show stat\\n"); print(s.makefile().read())\''
        )
        header, *rows = [line.split(",") for line in stats.lstrip("# ").splitlines() if line]
        status = {row[header.index("svname")]: row[header.index("status")] for row in rows if row[0] == "wandb_server"}
        if status.get("wandb1") == "UP" and status.get("wandb2", "").startswith("DOWN"):
            break
        time.sleep(1)
    else:
        raise AssertionError(f"HAProxy does not show wandb1 UP and wandb2 DOWN: {status}")
    assert proxy.ready() == 200


def test_no_secret_in_the_failover_runs():
    assert_no_scenario_secret(
        [*OUTPUTS, *(lab_host(app).check_output("journalctl -u wandb-failover -o cat --no-pager") for app in APPS)]
    )
