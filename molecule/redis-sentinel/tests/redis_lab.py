"""Helpers for the redis-sentinel scenario's tests: talk to the data nodes and sentinels of the lab
with the credentials of the published endpoint's REDIS URL. converge.yml hands each host's
endpoint to the verifier (a 0600 file on the controller); the tests copy that file to the host
(0600, by the copy module: the password is in no command line), where the host reads the password
itself and hands it to redis-cli on stdin, so it is in no command line and no assertion message."""

import os
import shlex
import time
from functools import cache
from urllib.parse import parse_qs, urlsplit

import testinfra
from endpoint_contract import endpoint_file, published_endpoint

HOSTS = ("redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3")
# The host's copy of its published endpoint (see hand_over_endpoint).
ENDPOINT_ON_HOST = "/root/wandb-endpoint.json"
MASTER = "wandb"
DATA_PORT = 6379
SENTINEL_PORT = 26379
PASSWORD_FROM_URL = (
    "python3 -c 'import json, urllib.parse as u; "
    f'print(u.unquote(u.urlsplit(json.load(open("{ENDPOINT_ON_HOST}"))["env"]["REDIS"]).password))\''
)
_HANDED_OVER = set()


@cache
def lab_host(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def published_url(host):
    """The REDIS URL the host published (env.REDIS of its endpoint, checked against the contract)."""
    return urlsplit(published_endpoint("redis", host.backend.get_hostname())["env"]["REDIS"])


def hand_over_endpoint(host):
    """Copy the host's published endpoint to it (0600), for PASSWORD_FROM_URL; again after a run that
    published a new one."""
    name = host.backend.get_hostname()
    host.ansible("copy", f"src={endpoint_file(name)} dest={ENDPOINT_ON_HOST} mode=0600", check=False)
    _HANDED_OVER.add(name)


def refresh_endpoints(hosts):
    """After a converge run: the endpoints may hold a new password."""
    for host in hosts:
        hand_over_endpoint(host)


def url_query(host):
    return parse_qs(published_url(host).query, strict_parsing=True)


def cli(host, *command, port=DATA_PORT, target=None, user=None, authenticated=True):
    """redis-cli on `host` against `target` (default: the host itself, by its lab name)."""
    argv = ["redis-cli", "-h", target or host.backend.get_hostname(), "-p", str(port)]
    if user:
        argv += ["--user", user]
    if authenticated:
        argv.append("--askpass")
    line = shlex.join(argv + [str(part) for part in command])
    if authenticated and host.backend.get_hostname() not in _HANDED_OVER:
        hand_over_endpoint(host)
    return host.run(f"{PASSWORD_FROM_URL} | {line}" if authenticated else line)


def data(host, *command, **kwargs):
    """A command to a data node as the URL's user."""
    return cli(host, *command, user=published_url(host).username, **kwargs)


def sentinel(host, *command, **kwargs):
    return cli(host, *command, port=SENTINEL_PORT, **kwargs)


def address_of(host):
    """The host's address on the lab network, as the sentinels report it."""
    return host.check_output("ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -n1")


def primary_by_sentinel(host):
    """What the sentinel on `host` names as the primary: 'ADDRESS PORT', or the error it gave."""
    answer = sentinel(host, "SENTINEL", "get-master-addr-by-name", MASTER)
    return " ".join(answer.stdout.split()) or answer.stderr.strip()


def info_replication(host):
    result = data(host, "INFO", "replication")
    return dict(
        line.split(":", 1) for line in result.stdout.replace("\r", "").splitlines() if ":" in line and line[0] != "#"
    )


def sentinel_report(hosts):
    """What each sentinel says, for failure messages."""
    report = []
    for host in hosts:
        name = host.backend.get_hostname()
        masters = sentinel(host, "SENTINEL", "MASTER", MASTER).stdout.split()
        master = dict(zip(masters[::2], masters[1::2], strict=False))
        fields = ("ip", "port", "flags", "num-slaves", "num-other-sentinels", "quorum", "failover-state")
        report.append(
            f"{name}: primary {primary_by_sentinel(host)}; {', '.join(f'{k}={master.get(k)}' for k in fields)}"
        )
        log = host.run("tail -n 15 /var/log/redis/redis-sentinel.log").stdout
        report.append(f"  last sentinel log lines on {name}:\n    " + "\n    ".join(log.splitlines()))
    return "\n".join(report)


def wait_for(condition, timeout, interval=1.0):
    """Poll `condition` until it returns something true or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
