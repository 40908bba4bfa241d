"""Redis with authentication and TLS from the controller CA, checked against the running server.

The password never appears in a command line or an assertion message here: converge.yml hands the
published endpoint to the verifier (a 0600 file on the controller), the tests copy it to the host
(0600, by the copy module), and the host reads the password from its REDIS URL and hands it to
redis-cli on stdin."""

import json
import os
import re
import shlex
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from endpoint_contract import endpoint_file, published_endpoint
from lab_playbook import run_playbook

testinfra_hosts = ["ansible://wandb_redis"]

ENDPOINT_ON_HOST = "/root/wandb-endpoint.json"
CONFIG = "/etc/redis/redis.conf"
CA = "/etc/redis/tls/ca.crt"
# Prints the password from the published URL on the host, for redis-cli --askpass.
PASSWORD_FROM_URL = (
    "python3 -c 'import json, urllib.parse as u; "
    f'print(u.unquote(u.urlsplit(json.load(open("{ENDPOINT_ON_HOST}"))["env"]["REDIS"]).password))\''
)


@pytest.fixture(scope="module", autouse=True)
def endpoint_on_host(host):
    """The host's published endpoint, copied to it for PASSWORD_FROM_URL."""
    name = host.backend.get_hostname()
    host.ansible("copy", f"src={endpoint_file(name)} dest={ENDPOINT_ON_HOST} mode=0600", check=False)


def published_url(host):
    """The REDIS URL the host published (env.REDIS of its endpoint, checked against the contract)."""
    return urlsplit(published_endpoint("redis", host.backend.get_hostname())["env"]["REDIS"])


def redis_cli(host, *command, port=6379, tls=False, cacert=CA, authenticated=True, target=None):
    """Run redis-cli on the host against `target` (this host's lab name by default, so the
    connection crosses the lab network rather than loopback)."""
    argv = ["redis-cli", "-h", target or host.backend.get_hostname(), "-p", str(port)]
    if tls:
        argv += ["--tls"] + (["--cacert", cacert] if cacert else [])
    if authenticated:
        argv.append("--askpass")
    line = shlex.join(argv + list(command))
    return host.run(f"{PASSWORD_FROM_URL} | {line}" if authenticated else line)


def service_state(host):
    return host.check_output("systemctl show -p MainPID -p ExecMainStartTimestampMonotonic redis-server")


def test_unauthenticated_commands_are_refused(host):
    plain = redis_cli(host, "SET", "probe", "1", authenticated=False)
    assert plain.stdout.strip().startswith("NOAUTH"), plain.stdout + plain.stderr
    over_tls = redis_cli(host, "GET", "probe", port=6380, tls=True, authenticated=False)
    assert over_tls.stdout.strip().startswith("NOAUTH"), over_tls.stdout + over_tls.stderr


def test_authenticated_commands_work(host):
    assert redis_cli(host, "SET", "wandb-probe", "written").stdout.strip() == "OK"
    assert redis_cli(host, "GET", "wandb-probe").stdout.strip() == "written"


def test_published_url_has_the_wandb_form(host):
    url = published_url(host)
    assert (url.scheme, url.username, url.hostname, url.port) == ("redis", "", host.backend.get_hostname(), 6380)
    assert parse_qs(url.query, strict_parsing=True) == {"tls": ["true"], "caCertPath": [CA]}
    # The password is the one generated once on the controller under wandb_secrets_dir (the lab
    # sets it in the scenario's ephemeral directory; the role's default is next to the inventory).
    # Compared without printing it.
    candidates = [
        Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "wandb-secrets",
        Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "wandb-secrets",
    ]
    secret_file = next(
        (d / "redis" / "password.txt" for d in candidates if (d / "redis" / "password.txt").is_file()), None
    )
    assert secret_file, f"no redis/password.txt in {candidates}"
    generated = secret_file.read_text().split()[0]
    same = unquote(url.password) == generated
    assert same, f"the URL's password is not the one in {secret_file}"
    well_formed = re.fullmatch(r"[A-Za-z0-9]{32}", generated) is not None
    assert well_formed, "the generated password is not 32 letters and digits"


def test_endpoint_has_the_contracts_shape_without_credentials(host):
    endpoint = published_endpoint("redis", host.backend.get_hostname())
    name = host.backend.get_hostname()
    assert (endpoint["url"], endpoint["host"], endpoint["port"], endpoint["tls"]) == (
        f"redis://{name}:6380",
        name,
        6380,
        True,
    )
    # ca_file is the controller CA that verifies the server: the one installed on the host.
    ca_file = Path(endpoint["ca_file"])
    assert ca_file == Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "wandb-secrets" / "ca" / "ca.crt"
    assert host.file(CA).content_string == ca_file.read_text()


def test_tls_ping_with_the_published_ca(host):
    url = published_url(host)
    ca = parse_qs(url.query)["caCertPath"][0]
    ping = redis_cli(host, "PING", port=url.port, tls=True, cacert=ca, target=url.hostname)
    assert ping.stdout.strip() == "PONG", ping.stdout + ping.stderr


def test_tls_refuses_a_client_that_does_not_trust_the_ca(host):
    # Without the lab CA the system trust store applies: the handshake must fail.
    ping = redis_cli(host, "PING", port=6380, tls=True, cacert=None)
    assert "PONG" not in ping.stdout
    assert "certificate verify failed" in ping.stdout + ping.stderr


def test_config_and_key_are_readable_by_redis_only(host):
    config = host.file(CONFIG)
    assert (config.user, config.group, config.mode) == ("redis", "redis", 0o640)
    key = host.file("/etc/redis/tls/server.key")
    assert (key.user, key.mode) == ("redis", 0o600)


def test_empty_password_stops_the_run_and_changes_nothing(host):
    checksum = host.file(CONFIG).sha256sum
    started = service_state(host)
    run = run_playbook("converge.yml", extra_vars={"wandb_redis_password": ""})
    assert run.returncode != 0, f"a run with an empty password succeeded:\n{run.tail()}"
    assert "wandb_redis_password must not be empty" in run.output, run.tail()
    assert run.changed, f"no PLAY RECAP in the output:\n{run.tail()}"
    assert not any(run.changed.values()), f"the failed run changed something: {run.changed}\n{run.tail()}"
    assert host.file(CONFIG).sha256sum == checksum
    assert service_state(host) == started


def test_a_configuration_the_server_rejects_is_not_installed(host):
    checksum = host.file(CONFIG).sha256sum
    started = service_state(host)
    # Valid for the role's checks, rejected by the server itself: the role's pre-restart check
    # (a throwaway server reading the candidate file) must catch it.
    run = run_playbook("converge.yml", extra_vars={"wandb_redis_extra_config": {"latency-monitor-threshold": "soon"}})
    assert run.returncode != 0, f"a configuration the server rejects was accepted:\n{run.tail()}"
    assert "was not installed" in run.output and "parsed into an integer" in run.output, run.tail()
    assert host.file(CONFIG).sha256sum == checksum
    assert service_state(host) == started


def test_verbose_run_does_not_show_the_password(host):
    password = unquote(published_url(host).password)
    run = run_playbook("converge.yml", "-vvv")
    assert run.returncode == 0, f"the -vvv run failed:\n{run.tail().replace(password, '********')}"
    assert run.changed, "no PLAY RECAP in the output of the -vvv run"
    assert not any(run.changed.values()), f"a second run changed something: {run.changed}"
    leaked = password in run.output
    assert not leaked, "the password appears in the output of a run at -vvv"


def test_the_publish_entry_point_sets_the_same_endpoint_and_changes_nothing(host):
    name = host.backend.get_hostname()
    ephemeral = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    handed_over = ephemeral / f"delegated-endpoint-{name}.json"
    handed_over.unlink(missing_ok=True)
    run = run_playbook("publish.yml")
    assert run.returncode == 0, f"the publish entry point failed:\n{run.tail()}"
    assert run.changed, f"no PLAY RECAP in the output:\n{run.tail()}"
    assert not any(run.changed.values()), f"the publish entry point changed something: {run.changed}"
    # Compared without printing them: the endpoints hold the password.
    same = json.loads(handed_over.read_text()) == published_endpoint("redis", name)
    assert same, "the endpoint the publish entry point set differs from the one converge published"
