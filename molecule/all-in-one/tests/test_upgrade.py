"""Safe upgrades (playbooks/upgrade.yml, docs/upgrade.md) on the converged all-in-one site.

The scenario converges stand-in 0.1.0. In order (pytest runs this file's tests top to bottom, and
this file after the scenario's others, which expect 0.1.0): 0.1.0 -> 0.2.0 with data written before
and checked after and the error window reported; a rerun at 0.2.0 changes nothing; a downgrade (by
site.yml and by upgrade.yml) and a withdrawn release are refused with the site untouched (the proxy
answers 200 throughout); the broken stand-in build (its migration fails after partly applying)
rolls back to 0.2.0 with the data intact and a clear failure; no secret in any run's -vvv output.
The site is left on 0.2.0."""

import json
import os
import re
import time
import urllib.request

import pytest
from lab_playbook import run_playbook
from lab_playbook import standin_release as release
from proxy_watch import ProxyWatch
from test_secret_scan import assert_no_scenario_secret

HOST = "all-in-one"
testinfra_hosts = [f"ansible://{HOST}"]

UPGRADE = "../../playbooks/upgrade.yml"
STANDIN = "wandb-fleet-lab/wandb-standin"
OUTPUTS = []  # every run's output, for the secret scan at the end

pytestmark = pytest.mark.skipif(bool(os.environ.get("WANDB_IMAGE")), reason="needs the stand-in's versions")


def run(playbook, tag=None, extra=None):
    extra_vars = {**(release(tag) if tag else {}), **(extra or {})}
    result = run_playbook(playbook, "-vvv", extra_vars=extra_vars or None)
    OUTPUTS.append(result.output)
    return result


def container(host):
    (inspected,) = json.loads(host.check_output("docker inspect wandb-local"))
    return inspected["Config"]["Image"], inspected["State"]["StartedAt"]


def sql(host, query):
    return host.check_output(f"mysql --batch --skip-column-names wandb_local -e {json.dumps(query)}")


def data_checksum(host):
    return sql(host, "CHECKSUM TABLE upgrade_probe")


def version_through_proxy(watch):
    with urllib.request.urlopen(watch.url.replace("/ready", "/version"), timeout=5, context=watch.context) as a:  # noqa: S310
        return json.loads(a.read())["version"]


def test_upgrade_to_the_next_release_keeps_the_data_and_reports_the_error_window(host):
    assert container(host)[0] == f"{STANDIN}:0.1.0"
    sql(host, "CREATE TABLE IF NOT EXISTS upgrade_probe (id INT PRIMARY KEY, name VARCHAR(64))")
    sql(host, "REPLACE INTO upgrade_probe VALUES " + ",".join(f"({i}, 'run-{i}')" for i in range(500)))  # noqa: S608
    before = data_checksum(host)

    started = time.monotonic()
    upgraded = run(UPGRADE, "0.2.0")
    took = time.monotonic() - started
    assert upgraded.returncode == 0, upgraded.tail()
    line = re.search(
        r"Upgraded W&B from (\S+) to (\S+) \(backup (\d{8}T\d{6}Z) taken before\); error window ([0-9.]+) s",
        upgraded.output,
    )
    assert line, upgraded.tail()
    assert line.group(1) == f"{STANDIN}:0.1.0" and line.group(2) == f"{STANDIN}:0.2.0"
    window = float(line.group(4))
    assert 0 < window < took, f"an upgrade restarts the server: a window above 0 and below the run's {took:.0f} s"
    # Progress was shown while the new release started.
    assert "waiting for /ready" in upgraded.output or "] ready: " in upgraded.output, upgraded.tail()
    print(f"upgrade 0.1.0 -> 0.2.0: error window {window} s, run {took:.0f} s")

    assert container(host)[0] == f"{STANDIN}:0.2.0"
    assert data_checksum(host) == before
    assert sql(host, "SELECT version FROM standin_schema WHERE id = 1").strip() == "0.2.0"
    assert host.run("docker container inspect wandb-local-previous").rc != 0, "the previous container was left"


def test_a_rerun_at_the_same_release_changes_nothing(host):
    before = container(host)
    again = run(UPGRADE, "0.2.0")
    assert again.returncode == 0, again.tail()
    assert HOST in again.changed and not any(again.changed.values()), again.tail()
    assert "ran already: nothing changed" in again.output
    assert container(host) == before


@pytest.mark.parametrize(
    ("playbook", "tag", "expected"),
    [
        ("converge.yml", "0.1.0", "is older than what this site has: the server runs 0.2.0"),
        (UPGRADE, "0.1.0", "is older than what this site has: the server runs 0.2.0"),
        (UPGRADE, "0.78.0", "list of releases not to install"),
        ("converge.yml", "0.78.1", "list of releases not to install"),
    ],
)
def test_a_downgrade_or_a_withdrawn_release_is_refused_and_the_site_untouched(host, playbook, tag, expected):
    before = container(host)
    extra = release(tag) if tag != "0.78.0" and tag != "0.78.1" else {"wandb_server_image_tag": tag}
    with ProxyWatch(HOST) as watch:
        refused = run_playbook(playbook, "-vvv", extra_vars=extra)
        OUTPUTS.append(refused.output)
    assert refused.returncode != 0, refused.tail()
    assert expected in refused.output, refused.tail()
    if playbook == "converge.yml":
        # site.yml refuses it before any tier's play starts (its "Release check" play).
        assert "PLAY [Data tier]" not in refused.output, refused.tail()
    # The training host's play may run on after the server host stopped: no host changed anything.
    assert HOST in refused.changed and not any(refused.changed.values()), refused.tail()
    assert container(host) == before
    assert watch.answers and set(watch.answers) == {200}, (
        f"the proxy did not answer 200 throughout: {set(watch.answers)}"
    )


def test_a_broken_release_rolls_back_with_the_data_intact(host):
    before = data_checksum(host)
    with ProxyWatch(HOST) as watch:
        failed = run(UPGRADE, "0.4.0-broken")
        assert version_through_proxy(watch) == "0.2.0"
    assert failed.returncode != 0, failed.tail()
    out = failed.output
    assert f"The upgrade of {HOST} from {STANDIN}:0.2.0 to {STANDIN}:0.4.0-broken failed" in out, failed.tail()
    assert "did not become ready" in out, failed.tail()
    assert re.search(r"the database was restored from backup \d{8}T\d{6}Z", out), failed.tail()
    assert f"{STANDIN}:0.2.0 was started again and answers /ready" in out, failed.tail()
    assert container(host)[0] == f"{STANDIN}:0.2.0"
    assert data_checksum(host) == before
    # The restore took the half-applied migration away with the dirty flag.
    assert sql(host, "SELECT dirty FROM schema_migrations").strip() == "0"
    assert "standin_half_applied" not in sql(host, "SHOW TABLES")


def test_no_secret_in_the_upgrade_runs_at_vvv():
    assert_no_scenario_secret(OUTPUTS, at_vvv=True)
