"""Helpers for the redis-sentinel scenario's tests: talk to the data nodes and sentinels of the lab
with the credentials of the published URL, which the host reads itself (from the 0600 file
converge.yml wrote) and hands to redis-cli on stdin, so the password is in no command line and no
assertion message."""

import os
import shlex
import time
from functools import cache
from urllib.parse import parse_qs, urlsplit

import testinfra

HOSTS = ("redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3")
URL_FILE = "/root/wandb_redis_url"
MASTER = "wandb"
DATA_PORT = 6379
SENTINEL_PORT = 26379
PASSWORD_FROM_URL = (
    f"python3 -c 'import urllib.parse as u; print(u.unquote(u.urlsplit(open(\"{URL_FILE}\").read().strip()).password))'"
)


@cache
def lab_host(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={os.environ['MOLECULE_INVENTORY_FILE']}")


def published_url(host):
    return urlsplit(host.file(URL_FILE).content_string.strip())


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
