"""The failover watchdog's logic (roles/server/files/wandb_failover.py): the lease, the fence on a lost
or unconfirmed lease (hung query, resumed freeze), the handover delay, the health gate, pause/resume
and release, the status endpoint's answer, wait_timeout, and the files it writes. A fake clock, lease
and container drive it: no MySQL, no Docker."""

import importlib.util
import json
import os
import threading
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[2] / "roles" / "server" / "files" / "wandb_failover.py"
_spec = importlib.util.spec_from_file_location("wandb_failover", PROGRAM)
wf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wf)

PASSWORD = "pw-Failover-Unit-8812"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class FakeLease:
    """One lock shared by several watchdogs, as MySQL's named lock is."""

    owner = None

    def __init__(self, name, world):
        self.name = name
        self.world = world
        self.connected = False
        self.fail = False
        self.hang = None  # a callable run inside confirm(), to act while the query "hangs"

    def try_acquire(self):
        if self.fail:
            raise wf.LeaseError("OperationalError 2003")
        self.connected = True
        if self.world["owner"] in (None, self.name):
            self.world["owner"] = self.name
            return True
        return False

    def confirm(self):
        if self.hang:
            self.hang()
        if self.fail:
            self.close()
            raise wf.LeaseError("OperationalError 2013")
        return self.world["owner"] == self.name

    def release(self):
        self.close()

    def close(self):
        if self.world["owner"] == self.name:
            self.world["owner"] = None
        self.connected = False


class FakeContainer:
    def __init__(self):
        self.is_running = False
        self.present = True
        self.is_ready = True
        self.starts = 0
        self.kills = 0

    def running(self):
        return self.is_running

    def exists(self):
        return self.present

    def start(self):
        self.starts += 1
        self.is_running = True

    def stop(self):
        self.is_running = False

    def kill(self):
        self.kills += 1
        self.is_running = False

    def ready(self):
        return self.is_running and self.is_ready


def config(**extra):
    return wf.make_config(
        {"name": "app", "mysql": {"host": "db", "user": "wandb", "password": PASSWORD}, "metrics_file": "", **extra}
    )


@pytest.fixture
def world():
    return {"owner": None}


def watchdog(world, clock, name="app1", logs=None, **extra):
    lease = FakeLease(name, world)
    container = FakeContainer()
    dog = wf.Watchdog(
        config(name=name, **extra),
        lease,
        container,
        clock=clock,
        wall=clock,
        log=(logs if logs is not None else []).append,
    )
    return dog, lease, container


def run(dog, clock, seconds, step=1.0, control=None):
    for _round in range(int(seconds / step)):
        dog.tick(control)
        dog.fence_check()
        clock.advance(step)


def test_wait_timeout_is_longer_than_the_fence_and_the_stop():
    assert wf.wait_timeout(config()) == 7  # 3 + 2 + 2
    assert wf.wait_timeout(config(fence_after=2.5, stop_budget=1, margin=0.2)) == 4
    assert config()["handover_delay"] == 2.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"fence_after": 1.5}, "at least twice the interval"),
        ({"handover_delay": 1.0}, "handover_delay must be at least stop_budget"),
        ({"margin": 0}, "margin must be positive"),
    ],
)
def test_unsafe_timings_are_refused(extra, message):
    with pytest.raises(wf.ConfigError, match=message):
        config(**extra)


def test_the_first_host_takes_the_lease_and_starts_after_the_handover_delay(world):
    clock = Clock()
    logs = []
    dog, _lease, container = watchdog(world, clock, logs=logs)
    dog.tick()
    assert dog.state == wf.ACTIVE and world["owner"] == "app1"
    assert container.starts == 0, "started before the handover delay"
    run(dog, clock, 3)
    assert container.starts == 1 and container.is_running
    assert dog.serving()
    assert any("standby -> active: acquired the lease" in line for line in logs)


def test_a_second_host_stays_standby_and_never_runs_its_container(world):
    clock = Clock()
    first, _l1, _c1 = watchdog(world, clock, "app1")
    second, _l2, container = watchdog(world, clock, "app2")
    first.tick()
    container.is_running = True  # as if started by hand or by a reboot's restart policy
    run(second, clock, 3)
    assert second.state == wf.STANDBY and not container.is_running and container.starts == 0
    assert second.reason == "the lease is held by another host"
    assert not second.serving()


def test_a_lost_connection_kills_the_container_at_once(world):
    clock = Clock()
    logs = []
    dog, lease, container = watchdog(world, clock, logs=logs)
    run(dog, clock, 4)
    assert container.is_running
    lease.fail = True
    dog.tick()
    assert not container.is_running and dog.state == wf.STANDBY
    assert any("active -> standby: fenced: the database did not confirm the lease" in line for line in logs)
    assert not any(PASSWORD in line for line in logs)


def test_a_hung_query_is_fenced_by_the_thread_within_fence_after(world):
    """The main loop is stuck in confirm(); the fencing thread kills once the last confirmation is older
    than fence_after, without waiting for the query."""
    clock = Clock()
    dog, lease, container = watchdog(world, clock)
    run(dog, clock, 4)
    killed_at = []

    def hang():
        for _round in range(60):
            clock.advance(0.1)
            if dog.fence_check() and not killed_at:
                killed_at.append(clock.now)

    lease.hang = hang
    confirmed_at = dog.last_confirm
    dog.tick()
    assert killed_at and killed_at[0] - confirmed_at <= dog.config["fence_after"] + 0.15
    assert container.kills >= 1 and dog.state == wf.STANDBY
    assert dog.reason.startswith("fenced: the lease was not confirmed for")


def test_a_resumed_freeze_is_fenced_before_anything_else(world):
    """A frozen host (docker pause) resumes: the monotonic clock went on, so the first look of the
    fencing thread kills, and the status endpoint says 503 from the first instant."""
    clock = Clock()
    dog, _lease, container = watchdog(world, clock)
    run(dog, clock, 4)
    assert dog.serving()
    world["owner"] = "app2"  # MySQL dropped the silent session; app2 took the lease
    clock.advance(30)
    assert not dog.serving()
    assert dog.fence_check() and not container.is_running
    dog.tick()
    assert dog.state == wf.STANDBY


def test_the_standby_takes_over_when_the_lock_is_free(world):
    clock = Clock()
    first, lease1, c1 = watchdog(world, clock, "app1")
    second, _lease2, c2 = watchdog(world, clock, "app2")
    for _round in range(4):
        first.tick()
        second.tick()
        clock.advance(1)
    assert c1.is_running and not c2.is_running
    lease1.close()  # the session dropped (wait_timeout) while app1 was cut off
    lease1.fail = True
    for _round in range(4):
        first.tick()
        second.tick()
        clock.advance(1)
    assert second.state == wf.ACTIVE and c2.is_running and not c1.is_running


def test_the_health_gate_releases_the_lease_of_an_unready_container(world):
    clock = Clock()
    logs = []
    dog, _lease, container = watchdog(world, clock, logs=logs, unready_after=5, release_backoff=4)
    run(dog, clock, 4)
    assert dog.ever_ready
    container.is_ready = False
    run(dog, clock, 7)
    assert dog.state == wf.STANDBY and world["owner"] is None and not container.is_running
    assert any("was not ready for" in line and "unready_after" in line for line in logs)
    # Backoff: it does not take the lease back at once.
    dog.tick()
    assert world["owner"] is None
    run(dog, clock, 5)
    assert world["owner"] == "app1"


def test_a_slow_start_has_the_start_grace(world):
    clock = Clock()
    dog, _lease, container = watchdog(world, clock, unready_after=5, start_grace=30)
    container.is_ready = False
    run(dog, clock, 20)
    assert dog.state == wf.ACTIVE
    run(dog, clock, 15)
    assert dog.state == wf.STANDBY


def test_pause_leaves_the_container_and_takes_no_lease(world):
    clock = Clock()
    first, _l1, c1 = watchdog(world, clock, "app1", unready_after=3)
    second, _l2, _c2 = watchdog(world, clock, "app2")
    run(first, clock, 4)
    paused = {"seq": 1, "pause_until": clock.now + 100}
    c1.stop()  # a playbook stops the server (a restore)
    for _round in range(10):
        first.tick(paused)
        second.tick(paused)
        clock.advance(1)
    assert first.state == wf.ACTIVE and not c1.is_running and c1.starts == 1
    assert second.state == wf.STANDBY and world["owner"] == "app1"
    resumed = {"seq": 2, "pause_until": 0}
    first.tick(resumed)
    assert c1.is_running and c1.starts == 2
    assert first.control_seq == 2


def test_a_paused_holder_is_still_fenced(world):
    clock = Clock()
    dog, lease, container = watchdog(world, clock)
    run(dog, clock, 4)
    lease.fail = True
    dog.tick({"seq": 1, "pause_until": clock.now + 100})
    assert not container.is_running and dog.state == wf.STANDBY


def test_release_hands_the_lease_over_and_holds_off(world):
    clock = Clock()
    first, _l1, c1 = watchdog(world, clock, "app1")
    second, _l2, c2 = watchdog(world, clock, "app2")
    run(first, clock, 4)
    release = {"seq": 1, "release_seq": 1, "hold_off": 10}
    first.tick(release)
    assert first.state == wf.STANDBY and not c1.is_running and world["owner"] is None
    for _round in range(5):
        first.tick(release)
        second.tick()
        clock.advance(1)
    assert second.state == wf.ACTIVE and c2.is_running and first.state == wf.STANDBY


def test_stopping_the_service_stops_the_container_before_the_lease(world):
    clock = Clock()
    order = []
    dog, lease, container = watchdog(world, clock)
    run(dog, clock, 4)
    container.kill = lambda: order.append("kill")
    lease.release = lambda: order.append("release")
    dog.stop()
    assert order == ["kill", "release"]


def test_a_container_being_recreated_is_not_started_nor_released(world):
    clock = Clock()
    dog, _lease, container = watchdog(world, clock, unready_after=3)
    run(dog, clock, 4)
    container.is_running = False
    container.present = False
    run(dog, clock, 2)
    assert dog.state == wf.ACTIVE and container.starts == 1
    container.present = True
    run(dog, clock, 1)
    assert container.is_running and container.starts == 2


def test_the_status_endpoint_answers_200_only_when_serving(world):
    clock = Clock()
    dog, _lease, _container = watchdog(world, clock)

    def status():
        import urllib.error
        import urllib.request

        try:
            url = "http://127.0.0.1:%d/" % server.server_address[1]
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    handler = type("Handler", (wf.StatusHandler,), {"watchdog": dog})
    server = wf.http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code, body = status()
        assert code == 503 and body["state"] == "standby"
        run(dog, clock, 4)
        code, body = status()
        assert code == 200 and body["serving"] and body["state"] == "active"
        clock.advance(10)
        assert status()[0] == 503
        assert PASSWORD not in json.dumps(body)
    finally:
        server.shutdown()


def test_metrics_and_state_files(tmp_path, world):
    clock = Clock()
    dog, _lease, _container = watchdog(world, clock)
    run(dog, clock, 4)
    text = wf.render_metrics(dog.snapshot())
    values = dict(line.split() for line in text.splitlines() if not line.startswith("#"))
    assert values["wandb_failover_lease_held"] == "1"
    assert values["wandb_failover_serving"] == "1"
    assert values["wandb_failover_transitions_total"] == "1"
    assert "# TYPE wandb_failover_lease_held gauge" in text
    path = tmp_path / "sub" / "wandb_failover.prom"
    wf.write_atomic(str(path), text)
    assert path.read_text() == text and oct(path.stat().st_mode & 0o777) == "0o644"


def test_commands_write_the_control_file_and_wait_for_the_watchdog(tmp_path, world):
    cfg = config(state_dir=str(tmp_path))
    clock = Clock()
    dog, _lease, _container = watchdog(world, clock)

    def daemon():
        for _round in range(50):
            dog.tick(wf.read_json(str(tmp_path / "control.json")))
            wf.write_atomic(str(tmp_path / "state.json"), json.dumps(dog.snapshot()))
            if dog.control_seq >= 1:
                return
            threading.Event().wait(0.05)

    thread = threading.Thread(target=daemon)
    thread.start()
    state = wf.control_command(cfg, pause_until=wf.time.time() + 60, wait=5)
    thread.join()
    assert state["control_seq"] == 1
    assert (tmp_path / "control.json").stat().st_mode & 0o777 == 0o600


def test_the_config_file_errors_name_no_secret(tmp_path):
    path = tmp_path / "failover.json"
    path.write_text('{"mysql": {"password": "%s"' % PASSWORD)
    with pytest.raises(wf.ConfigError) as error:
        wf.load_config(str(path))
    assert PASSWORD not in str(error.value)


def test_driver_errors_are_told_by_class_and_code_only():
    error = RuntimeError(1045, "Access denied for user 'wandb'@'x' (using password: %s)" % PASSWORD)
    assert wf.describe_error(error) == "RuntimeError 1045"


class FakeTraffic:
    def __init__(self):
        self.calls = []

    def ensure(self, now):
        self.calls.append(("ensure", now))

    def allow_until(self, deadline):
        self.calls.append(("allow", deadline))
        return True

    def deny(self):
        self.calls.append(("deny",))
        return True


def test_the_kernel_deadline_follows_each_confirmation_and_is_withdrawn_on_loss(world):
    clock = Clock()
    traffic = FakeTraffic()
    dog = wf.Watchdog(
        config(), FakeLease("app1", world), FakeContainer(), clock=clock, wall=clock, log=[].append, traffic=traffic
    )
    dog.tick()
    assert traffic.calls[1] == ("deny",), "a starting watchdog lets no traffic through"
    run(dog, clock, 4)
    allows = [call for call in traffic.calls if call[0] == "allow"]
    # The deadline is the confirmation's send time plus fence_after: the kernel cuts the container
    # off when the fencing thread would kill it, whether or not this process still runs.
    assert allows and allows[-1][1] == clock.now - 1 + 3
    frozen = len(traffic.calls)
    clock.advance(30)  # frozen: nothing pushes the deadline
    assert not [call for call in traffic.calls[frozen:] if call[0] == "allow"]
    dog.fence_check()
    assert ("deny",) in traffic.calls[frozen:]


def test_the_iptables_rules():
    commands = []

    def fake(args):
        commands.append(args)
        return 1 if args[0] in ("-L", "-n", "-C") else 0

    fence = wf.TrafficFence({"fence_interface": "docker0"}, run=fake)
    fence.ensure(0)
    assert ["-N", "WANDB-FENCE"] in commands
    assert ["-A", "WANDB-FENCE", "-j", "DROP"] in commands
    assert ["-I", "DOCKER-USER", "1", "-i", "docker0", "-j", "WANDB-FENCE"] in commands
    assert ["-I", "DOCKER-USER", "1", "-o", "docker0", "-j", "WANDB-FENCE"] in commands
    commands.clear()
    fence.ensure(5)
    assert commands == [], "checked again only every 10 s"
    fence.allow_until(86400 * 365 + 3.7)
    assert commands[-1] == ["-R", "WANDB-FENCE", "1", "-m", "time", "--datestop", "1971-01-01T00:00:03", "-j", "RETURN"]
    fence.deny()
    assert commands[-1][6] == wf.TrafficFence.PAST
    assert wf.TrafficFence({"fence_interface": ""}).allow_until(0)


def test_the_fence_kills_a_process_only_while_it_is_the_containers(tmp_path, monkeypatch):
    killed = []
    monkeypatch.setattr(wf.os, "kill", lambda pid, sig: killed.append(pid))
    container = wf.DockerContainer(config(docker_socket=str(tmp_path / "no.sock")))
    container._api = lambda *args, **kwargs: (200, [])
    container.pid = (os.getpid(), "0123abcd")  # this process: not that container's
    container.kill()
    assert killed == [] and container.pid is None
    monkeypatch.setattr(wf, "pid_is_container", lambda pid, ident: True)
    container.pid = (4242, "0123abcd")
    container.kill()
    assert killed == [4242]
