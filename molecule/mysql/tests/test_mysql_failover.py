"""MySQL primary failure (playbooks/mysql-failover.yml, docs/high-availability.md): with a W&B server
(the stand-in) deployed beside the pair by site.yml, the primary's MySQL stopped and the replica
promoted serves W&B with every row written before; the refusals (a primary that still takes writes,
a replica behind beyond the bound) change nothing; site.yml refuses the stale inventory; the old
primary rejoins as a replica with the updated inventory; a planned switchover moves the primary back
and site.yml with the original inventory finds the hosts as it describes them again.

Runs after every other test of the scenario (conftest.py), one step after another: each test needs
the state the one before it left."""

# ruff: noqa: S608 (the queries are built from this file's constants, integers and GTID sets MySQL printed)
import json
import time

import pytest
from conftest import PRIMARY, REPLICA, ephemeral_dir, sql, sql_ok
from lab_playbook import lab_host, run_playbook
from test_secret_scan import assert_no_scenario_secret

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url

APP = "mysql-app"
SITE = "../../playbooks/site.yml"
FAILOVER = "../../playbooks/mysql-failover.yml"
ENV_FILE = "/etc/wandb/wandb.env"
MARKER = "/etc/mysql/mysql.conf.d/zzz-wandb-failover.cnf"
TABLE = "wandb_local.failover_rows"
ROWS = 2000
OUTPUTS = []  # the failover runs' output (-vvv), for the secret scan at the end
STATE = {}  # what one step hands to the next


def run(playbook, *args, extra_vars=None):
    result = run_playbook(playbook, "-vvv", *args, extra_vars=extra_vars)
    OUTPUTS.append(result.output)
    return result


def said(result, text):
    return text in " ".join(result.output.split())


@pytest.fixture(scope="module")
def hosts():
    return {name: lab_host(name) for name in (PRIMARY, REPLICA, APP)}


def server_mysql(app):
    """The W&B account's login from the server's MYSQL (the environment file the settings module wrote)."""
    line = next(line for line in app.file(ENV_FILE).content_string.splitlines() if line.startswith("MYSQL="))
    parts = parse_url(line.split("=", 1)[1].strip().strip('"'))
    return {"user": parts["user"], "password": parts["password"], "server": parts["host"]}


def server_state(app):
    """What changing the server would change: its environment file and its container's start."""
    started = app.check_output("docker inspect -f '{{.State.StartedAt}}' wandb-local")
    return app.file(ENV_FILE).sha256sum, started


def ready(app):
    out = app.check_output("curl -s -m 10 -w '\\n%{http_code}' http://127.0.0.1:8080/ready")
    body, _newline, status = out.rpartition("\n")
    return int(status), json.loads(body or "{}")


def wait_ready(app, limit=90):
    deadline = time.monotonic() + limit
    while True:
        status, body = ready(app)
        if status == 200 or time.monotonic() > deadline:
            return status, body
        time.sleep(1)


def replica_status(host):
    """SHOW REPLICA STATUS as {field: value} ({} when the host replicates from nothing)."""
    rows = host.check_output("mysql --vertical --execute 'SHOW REPLICA STATUS'")
    fields = (line.partition(":") for line in rows.splitlines())
    return dict((key.strip(), value.strip()) for key, _colon, value in fields if value)


def read_only(host):
    return sql_ok(host, "SELECT @@global.read_only, @@global.super_read_only").split()


def delay(replica, seconds):
    change = f"CHANGE REPLICATION SOURCE TO SOURCE_DELAY = {seconds}"
    sql_ok(replica, f"STOP REPLICA SQL_THREAD; {change}; START REPLICA SQL_THREAD")


def received_all(replica, executed):
    received = replica_status(replica).get("Retrieved_Gtid_Set", "")
    return bool(received) and sql_ok(replica, f"SELECT GTID_SUBSET('{executed}', '{received}')").strip() == "1"


def checksum(host, login, server):
    """The rows' checksum on `server`, asked from `host` with the W&B account (TLS verified)."""
    return sql_ok(host, f"CHECKSUM TABLE {TABLE}", **{**login, "server": server}).split()[-1]


def wait_until(what, check, limit=60):
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {limit} s"
        time.sleep(1)


def unchanged(hosts, before):
    """Nothing a failover changes has changed: the replica replicates read-only, no host has a marker,
    the server runs as before."""
    assert replica_status(hosts[REPLICA]).get("Replica_SQL_Running") == "Yes"
    assert read_only(hosts[REPLICA]) == ["1", "1"]
    for name in (PRIMARY, REPLICA):
        assert not hosts[name].file(MARKER).exists, f"{name} has a failover marker"
    assert server_state(hosts[APP]) == before


def test_the_server_serves_from_the_primary(hosts):
    deployed = run_playbook(SITE)
    assert deployed.returncode == 0, deployed.tail()
    status, body = wait_ready(hosts[APP])
    assert status == 200 and body["checks"]["mysql"] == "ok", body
    login = server_mysql(hosts[APP])
    assert login["server"] == PRIMARY
    # Thousands of rows through the W&B account, as the server writes them.
    sql_ok(
        hosts[PRIMARY],
        f"CREATE TABLE {TABLE} (id INT PRIMARY KEY, payload CHAR(64) NOT NULL);"
        " SET SESSION cte_max_recursion_depth = 10000;"
        f" INSERT INTO {TABLE} WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {ROWS})"
        " SELECT n, SHA2(n, 256) FROM seq",
        **login,
    )
    STATE["login"] = login
    wait_until(
        "the rows reaching the replica",
        lambda: sql(hosts[REPLICA], f"SELECT COUNT(*) FROM {TABLE}").stdout.strip() == str(ROWS),
    )


def test_a_primary_that_takes_writes_is_refused(hosts):
    before = server_state(hosts[APP])
    refused = run(FAILOVER)
    assert refused.returncode != 0, refused.tail()
    assert said(refused, f"the primary {PRIMARY} answers and takes writes: promoting {REPLICA} now"), refused.tail()
    unchanged(hosts, before)


def test_a_replica_behind_beyond_the_bound_is_refused(hosts):
    primary, replica, login = hosts[PRIMARY], hosts[REPLICA], STATE["login"]
    before = server_state(hosts[APP])
    # A delayed replica receives at once and applies an hour later: behind, with the primary gone.
    delay(replica, 3600)
    for row in range(ROWS + 1, ROWS + 51):
        sql_ok(primary, f"INSERT INTO {TABLE} VALUES ({row}, SHA2({row}, 256))", **login)
    STATE["checksum"] = checksum(primary, login, PRIMARY)
    executed = sql_ok(primary, "SELECT @@global.gtid_executed").replace("\\n", "").strip()
    wait_until("the replica receiving every transaction", lambda: received_all(replica, executed))
    primary.check_output("systemctl stop mysql")
    refused = run(FAILOVER, extra_vars={"wandb_mysql_failover_apply_timeout": 3})
    assert refused.returncode != 0, refused.tail()
    assert said(refused, f"{REPLICA} has not applied every transaction of {PRIMARY} within 3 s"), refused.tail()
    assert said(refused, "still missing:"), refused.tail()
    unchanged(hosts, before)
    assert sql_ok(replica, f"SELECT COUNT(*) FROM {TABLE}").strip() == str(ROWS)
    # Caught up again (the primary stays down for the failover).
    delay(replica, 0)


def test_the_promoted_replica_serves_wandb_with_every_row_written_before(hosts):
    replica, app = hosts[REPLICA], hosts[APP]
    assert not hosts[PRIMARY].service("mysql").is_running
    started = server_state(app)[1]
    promoted = run(FAILOVER)
    assert promoted.returncode == 0, promoted.tail()
    assert said(promoted, f"{REPLICA} is W&B's MySQL primary"), promoted.tail()
    assert read_only(replica) == ["0", "0"]
    assert replica_status(replica) == {}, "the promoted host still has a replication source"
    assert (
        json.loads(replica.check_output(f"sed -n 's/^# wandb-failover: //p' {MARKER}")).items()
        >= {"role": "primary", "from": PRIMARY}.items()
    )
    login = server_mysql(app)
    assert login["server"] == REPLICA
    assert server_state(app)[1] != started, "the server was not restarted with the new MYSQL"
    # The stand-in's start writes its schema row: ready means the new primary took the write.
    status, body = wait_ready(app)
    assert status == 200 and body["checks"]["mysql"] == "ok" and body["checks"]["migrations"] == "ok", body
    assert checksum(replica, login, REPLICA) == STATE["checksum"], "the rows on the promoted replica differ"
    sql_ok(replica, f"INSERT INTO {TABLE} VALUES (0, SHA2(0, 256))", **login)
    STATE["after"] = server_state(app)

    # A rerun finds the promotion done and changes nothing.
    again = run(FAILOVER)
    assert again.returncode == 0, again.tail()
    assert said(again, "Promoted already"), again.tail()
    assert not any(again.changed.values()), again.changed
    assert server_state(app) == STATE["after"]


def test_site_yml_refuses_the_inventory_that_does_not_know_the_failover(hosts):
    refused = run(SITE)
    assert refused.returncode != 0, refused.tail()
    assert said(refused, f"{REPLICA} was made the primary by playbooks/mysql-failover.yml"), refused.tail()
    assert not any(refused.changed.values()), refused.changed
    assert not hosts[PRIMARY].service("mysql").is_running, "site.yml started the old primary"
    assert hosts[REPLICA].file(MARKER).exists
    assert server_state(hosts[APP]) == STATE["after"]


def updated_inventory(primary, replica):
    """The inventory as the runbook has the operator change it: a second source after Molecule's.
    Molecule keeps host variables in host_vars/ files, which outrank an inventory file's own host
    variables: the update is host_vars/ files too, and as the later source it wins."""
    path = ephemeral_dir() / f"inventory-primary-{primary}"
    (path / "host_vars").mkdir(parents=True, exist_ok=True)
    hosts = {
        primary: {"wandb_mysql_replication_role": "primary", "wandb_mysql_replication_primary": ""},
        replica: {"wandb_mysql_replication_role": "replica", "wandb_mysql_replication_primary": primary},
    }
    (path / "hosts.yml").write_text(json.dumps({"all": {"hosts": {name: None for name in hosts}}}))
    for name, variables in hosts.items():
        (path / "host_vars" / f"{name}.yml").write_text(json.dumps(variables))
    return ["-i", str(path)]


def test_the_old_primary_rejoins_as_a_replica(hosts):
    primary, replica, app = hosts[PRIMARY], hosts[REPLICA], hosts[APP]
    rejoined = run_playbook(SITE, *updated_inventory(REPLICA, PRIMARY))
    assert rejoined.returncode == 0, rejoined.tail()
    status = replica_status(primary)
    assert (status["Source_Host"], status["Replica_IO_Running"], status["Replica_SQL_Running"]) == (
        REPLICA,
        "Yes",
        "Yes",
    )
    assert read_only(primary) == ["1", "1"]
    assert not replica.file(MARKER).exists, "the marker outlived the inventory's update"
    assert server_state(app) == STATE["after"], "the server was restarted though its MYSQL did not change"
    wait_until(
        "the row written after the failover reaching the old primary",
        lambda: sql(primary, f"SELECT COUNT(*) FROM {TABLE} WHERE id = 0").stdout.strip() == "1",
    )


def test_a_planned_switchover_moves_the_primary_back(hosts):
    primary, replica, app = hosts[PRIMARY], hosts[REPLICA], hosts[APP]
    moved = run(FAILOVER, *updated_inventory(REPLICA, PRIMARY), extra_vars={"wandb_mysql_failover_planned": True})
    assert moved.returncode == 0, moved.tail()
    assert said(moved, f"Promoting {PRIMARY} (replica of {REPLICA}, which is made read-only first"), moved.tail()
    assert read_only(primary) == ["0", "0"] and read_only(replica) == ["1", "1"]
    login = server_mysql(app)
    assert login["server"] == PRIMARY
    status, body = wait_ready(app)
    assert status == 200 and body["checks"]["migrations"] == "ok", body
    assert checksum(primary, login, PRIMARY) == checksum(replica, login, REPLICA)

    # The original inventory describes the hosts again: site.yml takes the markers away and the
    # replica follows the primary.
    converged = run_playbook(SITE)
    assert converged.returncode == 0, converged.tail()
    for name in (PRIMARY, REPLICA):
        assert not hosts[name].file(MARKER).exists, f"{name} kept its marker"
    status = replica_status(replica)
    assert (status["Source_Host"], status["Replica_SQL_Running"]) == (PRIMARY, "Yes")
    assert server_mysql(app)["server"] == PRIMARY


def test_no_secret_in_the_failover_runs():
    assert_no_scenario_secret(OUTPUTS, at_vvv=True)
