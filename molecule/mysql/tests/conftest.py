"""Shared by the mysql scenario's tests: the lab hosts, SQL run with the mysql client on a host,
the endpoint each host published (wandb_mysql_endpoint, handed over by converge.yml) and the
secrets the role generated on the controller."""

import os
import shlex
from pathlib import Path

import pytest
import testinfra
from endpoint_contract import published_endpoint

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url

PRIMARY = "mysql-primary"
REPLICA = "mysql-replica"
# Where the role installs the lab CA's certificate on every MySQL host.
CA_ON_HOST = "/etc/mysql/tls/ca.crt"
CONFIG_FILE = "/etc/mysql/mysql.conf.d/zz-wandb.cnf"


def ephemeral_dir() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def secret(name: str) -> str:
    """A password the role generated under wandb_secrets_dir (molecule.yml puts it in the
    scenario's ephemeral directory)."""
    return (ephemeral_dir() / "wandb-secrets" / "mysql" / name).read_text().split()[0]


def sql(host, query, *, user=None, password=None, server=None, ssl_mode="VERIFY_IDENTITY", extra=()):
    """Run `query` with the mysql client on `host`: through the socket (as root by default), or over
    TCP to `server` with TLS that verifies it against the lab CA. Returns testinfra's CommandResult
    (rows are tab-separated)."""
    argv = ["mysql", "--batch", "--skip-column-names", *extra]
    if user is not None:
        argv.append(f"--user={user}")
    if server is not None:
        argv += [f"--host={server}", "--protocol=TCP", f"--ssl-mode={ssl_mode}"]
        if ssl_mode != "DISABLED":
            argv.append(f"--ssl-ca={CA_ON_HOST}")
    command = shlex.join([*argv, "--execute", query])
    # The password travels in the environment, not on the command line.
    if password is not None:
        command = f"MYSQL_PWD={shlex.quote(password)} {command}"
    return host.run(command)


def sql_ok(host, query, **login):
    result = sql(host, query, **login)
    assert result.rc == 0, f"{query!r} failed on {host.backend.host}: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def lab():
    """Both scenario hosts, for tests that work across them."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return {name: testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory) for name in (PRIMARY, REPLICA)}


@pytest.fixture(scope="session")
def endpoints():
    """The wandb_mysql_endpoint each host published, checked against the contract."""
    return {name: published_endpoint("mysql", name) for name in (PRIMARY, REPLICA)}


@pytest.fixture(scope="session")
def published_urls(endpoints):
    """The W&B MYSQL URL each host published (env.MYSQL of its endpoint)."""
    return {name: endpoint["env"]["MYSQL"] for name, endpoint in endpoints.items()}


@pytest.fixture(scope="session")
def wandb_login(published_urls):
    """Log-in options for the W&B account, taken from the published URL (parsed the way the W&B
    server's Go driver reads it)."""
    parts = parse_url(published_urls[PRIMARY])
    return {"user": parts["user"], "password": parts["password"], "server": parts["host"]}


# test_mysql_failover.py promotes the replica and switches back: it runs after every other test,
# which expects the hosts as converge left them.
LAST_MODULES = ("test_mysql_failover.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name in LAST_MODULES)
