"""Upgrades of the fleet (playbooks/upgrade.yml, docs/upgrade.md): an active server and its standby
behind HAProxy.

pytest runs this file after the scenario's others (its name sorts last; the disaster-recovery test
rebuilt the active host at 0.1.0 before). In order: 0.1.0 -> 0.2.0 moves the active server first and
the standby after it, the standby having the new image before the active switched, with the error
window reported; a failure before the switch (the new container cannot be created) leaves the
previous release serving throughout, never restarted, with the database untouched; a rerun at
0.2.0 changes nothing; no secret in any run's -vvv output. The site is left on 0.2.0."""

import json
import os
from datetime import datetime

import pytest
from lab_playbook import lab_host, run_playbook, standin_release
from proxy_watch import ProxyWatch
from test_backup_restore import UPGRADE_PLAYBOOK, WINDOW, helper, ready_through_the_proxy, say, servers
from test_secret_scan import assert_no_scenario_secret

testinfra_hosts = ["ansible://fleet-mysql"]

STANDIN = "wandb-fleet-lab/wandb-standin"
OUTPUTS = []  # every run's output, for the secret scan at the end

pytestmark = pytest.mark.skipif(bool(os.environ.get("WANDB_IMAGE")), reason="needs the stand-in's versions")


def upgrade(tag, **extra):
    run = run_playbook(UPGRADE_PLAYBOOK, "-vvv", extra_vars={**standin_release(tag), **extra})
    OUTPUTS.append(run.output)
    return run


def docker_time(text):
    """Docker's RFC 3339 times carry nanoseconds; datetime reads microseconds."""
    head, rest = [*text.rstrip("Z").split(".", 1), ""][:2]
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{fraction or '0'}+00:00")


def test_the_active_moves_first_and_the_standby_after_it(host, capsys):
    assert {state[0] for state in servers().values()} == {f"{STANDIN}:0.1.0"}, "the scenario should run 0.1.0 here"
    with ProxyWatch("fleet-proxy") as watch:
        run = upgrade("0.2.0")
    assert run.returncode == 0, run.tail()
    after = servers()
    assert after["fleet-app1"][:2] == (f"{STANDIN}:0.2.0", True)
    # The standby's container is on the new release too, created and not running (single active).
    assert after["fleet-app2"][:2] == (f"{STANDIN}:0.2.0", False)
    # Standby first: its copy of the image was there before the active server started the new one.
    tagged = lab_host("fleet-app2").check_output(
        f"docker image inspect -f '{{{{.Metadata.LastTagTime}}}}' {STANDIN}:0.2.0"
    )
    assert docker_time(tagged.split(" +")[0].replace(" ", "T")) < docker_time(after["fleet-app1"][2])
    found = list(WINDOW.finditer(run.output))
    assert found, run.tail()
    say(capsys, "upgrade 0.1.0 -> 0.2.0: " + found[-1][0])
    assert 0 < float(found[-1]["longest"]) <= float(found[-1]["window"])
    assert watch.answers[-1] == 200, f"the proxy did not answer at the end: {watch.answers[-5:]}"
    assert ready_through_the_proxy() == "200"


def test_a_failure_before_the_switch_leaves_the_previous_release_serving(host):
    """The new release's container cannot be created (a second mount on /vol): the running server was
    never stopped, so nothing is restored and nothing restarts; users saw no error."""
    before = (servers(), helper(host, "checksums"))
    assert json.loads(before[1]), "no table to compare"
    with ProxyWatch("fleet-proxy") as watch:
        run = upgrade("0.3.0", wandb_server_extra_volumes=["/etc/wandb:/vol"])
    assert run.returncode != 0, run.tail()
    assert "Nothing to roll back: the failure came before the switch" in run.output, run.tail()
    assert "kept serving throughout and the database was not touched" in run.output, run.tail()
    assert (servers(), helper(host, "checksums")) == before
    assert lab_host("fleet-app1").run("docker container inspect wandb-local-previous").rc != 0
    assert watch.answers and set(watch.answers) == {200}, f"users saw errors: {set(watch.answers)}"


def test_a_rerun_at_the_same_release_changes_nothing(host):
    before = servers()
    run = upgrade("0.2.0")
    assert run.returncode == 0, run.tail()
    assert not {name: count for name, count in run.changed.items() if count}, run.tail()
    assert "ran already: nothing changed" in run.output, run.tail()
    assert servers() == before


def test_no_secret_in_the_upgrade_runs_at_vvv():
    assert_no_scenario_secret(OUTPUTS, at_vvv=True)
