"""Stopping the primary promotes a replica, and the role does not undo it: neither a plain re-run
nor a run that changes the managed settings (new password, memory limit) moves the primary back.

Runs last (files are collected in name order, after the shared --check test): it moves the primary.
The two tests run in this order; the second continues from the first's failover.
WANDB_REDIS_FAILOVER_TIMEOUT (seconds, default 60) bounds each wait."""

import os
import secrets
import string

from lab_playbook import run_playbook
from redis_lab import (
    HOSTS,
    address_of,
    data,
    info_replication,
    lab_host,
    primary_by_sentinel,
    refresh_endpoints,
    sentinel_report,
    wait_for,
)

testinfra_hosts = ["ansible://redis-sentinel-1"]
TIMEOUT = float(os.environ.get("WANDB_REDIS_FAILOVER_TIMEOUT", "60"))


def hosts():
    return [lab_host(name) for name in HOSTS]


def by_address():
    return {address_of(host): host for host in hosts()}


def test_stopping_the_primary_promotes_a_replica_and_a_rerun_keeps_it():
    addresses = by_address()
    (answer,) = {primary_by_sentinel(host) for host in hosts()}
    old_primary = addresses[answer.split()[0]]
    survivors = [host for host in hosts() if host is not old_primary]
    assert data(old_primary, "SET", "before-failover", "kept").stdout.strip() == "OK"

    old_primary.check_output("systemctl stop redis-server")

    def promoted():
        answers = {primary_by_sentinel(host) for host in hosts()}
        if len(answers) != 1:
            return None
        address = answers.pop().split()[0]
        new = addresses.get(address)
        if new is None or new is old_primary or info_replication(new).get("role") != "master":
            return None
        return new

    new_primary = wait_for(promoted, TIMEOUT)
    assert new_primary, f"no replica was promoted within {TIMEOUT:.0f} s:\n{sentinel_report(hosts())}"
    assert data(new_primary, "GET", "before-failover").stdout.strip() == "kept"
    assert data(new_primary, "SET", "after-failover", "yes").stdout.strip() == "OK"

    # The old primary comes back as a replica of the new one (Sentinel reconfigures it).
    old_primary.check_output("systemctl start redis-server")

    def rejoined():
        replication = info_replication(old_primary)
        return replication.get("role") == "slave" and replication.get("master_link_status") == "up"

    assert wait_for(rejoined, TIMEOUT), (
        f"{old_primary.backend.get_hostname()} did not rejoin as a replica within {TIMEOUT:.0f} s: "
        f"{info_replication(old_primary)}\n{sentinel_report(survivors)}"
    )
    assert wait_for(lambda: data(old_primary, "GET", "after-failover").stdout.strip() == "yes", TIMEOUT)

    # A new run of the role follows the failover: nothing to change, nobody moved back.
    run = run_playbook("converge.yml")
    assert run.returncode == 0, f"the run after the failover failed:\n{run.tail()}"
    assert run.changed, f"no PLAY RECAP in the output:\n{run.tail()}"
    assert not any(run.changed.values()), f"the run after the failover changed {run.changed}:\n{run.tail()}"
    assert {primary_by_sentinel(host) for host in hosts()} == {f"{address_of(new_primary)} 6379"}
    assert info_replication(new_primary)["role"] == "master"
    assert info_replication(old_primary)["role"] == "slave"


def test_changing_managed_settings_after_the_failover_keeps_the_new_primary():
    addresses = by_address()
    (answer,) = {primary_by_sentinel(host) for host in hosts()}
    primary = addresses[answer.split()[0]]
    assert primary.backend.get_hostname() != HOSTS[0], "needs the failover of the previous test"
    replicas = [host for host in hosts() if host is not primary]

    # Passwords and limits change, so every file is written again and every server restarted. The
    # role must take the primary from the running installation, not from the inventory (HOSTS[0]).
    password = "".join(secrets.choice(string.ascii_letters + string.digits) for _position in range(32))
    run = run_playbook("converge.yml", extra_vars={"wandb_redis_password": password, "wandb_redis_maxmemory": "80mb"})
    assert run.returncode == 0, f"the run with new settings failed:\n{run.tail().replace(password, '********')}"
    assert run.changed and all(run.changed.values()), f"the new settings were not applied everywhere: {run.changed}"
    # The run published endpoints with the new password: the hosts read it from there.
    refresh_endpoints(hosts())

    def settled():
        if {primary_by_sentinel(host) for host in hosts()} != {f"{address_of(primary)} 6379"}:
            return False
        return all(
            info_replication(host).get("role") == "slave" and info_replication(host).get("master_link_status") == "up"
            for host in replicas
        )

    assert wait_for(settled, TIMEOUT), f"the primary moved or a replica did not follow:\n{sentinel_report(hosts())}"
    assert info_replication(primary)["role"] == "master"
    # The hosts read the new password from the endpoint converge.yml handed over again.
    assert data(primary, "CONFIG", "GET", "maxmemory").stdout.split() == ["maxmemory", str(80 * 1024 * 1024)]
    assert data(replicas[0], "GET", "after-failover").stdout.strip() == "yes"
