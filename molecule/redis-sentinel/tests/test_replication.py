"""A primary, two replicas and three sentinels that agree, with a named ACL user."""

from endpoint_contract import published_endpoint
from redis_lab import (
    DATA_PORT,
    HOSTS,
    MASTER,
    SENTINEL_PORT,
    address_of,
    cli,
    data,
    info_replication,
    lab_host,
    primary_by_sentinel,
    published_url,
    sentinel,
    sentinel_report,
    url_query,
    wait_for,
)

testinfra_hosts = ["ansible://redis-sentinel-1"]


def hosts():
    return [lab_host(name) for name in HOSTS]


def current_primary():
    addresses = {address_of(host): host for host in hosts()}
    answers = {primary_by_sentinel(host) for host in hosts()}
    assert len(answers) == 1, f"the sentinels disagree:\n{sentinel_report(hosts())}"
    address, port = answers.pop().split()
    assert port == str(DATA_PORT)
    assert address in addresses, f"the sentinels name {address}, which is no lab host:\n{sentinel_report(hosts())}"
    return addresses[address]


def test_sentinels_agree_on_the_first_primary():
    primary = current_primary()
    assert primary.backend.get_hostname() == "redis-sentinel-1"
    assert info_replication(primary)["role"] == "master"


def test_each_sentinel_knows_the_replicas_and_the_other_sentinels():
    for host in hosts():
        masters = sentinel(host, "SENTINEL", "MASTER", MASTER).stdout.split()
        master = dict(zip(masters[::2], masters[1::2], strict=False))
        counts = (master.get("num-slaves"), master.get("num-other-sentinels"), master.get("quorum"))
        assert counts == ("2", "2", "2"), f"{host.backend.get_hostname()}:\n{sentinel_report(hosts())}"


def test_replicas_follow_the_primary():
    primary = current_primary()
    for host in hosts():
        if host is primary:
            continue
        replication = info_replication(host)
        assert replication["role"] == "slave"
        assert replication["master_link_status"] == "up"


def test_a_write_on_the_primary_reaches_the_replicas():
    primary = current_primary()
    assert data(primary, "SET", "wandb-replicated", "yes").stdout.strip() == "OK"
    for host in hosts():
        if host is not primary:
            value = wait_for(lambda h=host: data(h, "GET", "wandb-replicated").stdout.strip() == "yes", timeout=10)
            assert value, f"the write did not reach {host.backend.get_hostname()}"


def test_replicas_refuse_writes():
    primary = current_primary()
    replica = next(host for host in hosts() if host is not primary)
    assert data(replica, "SET", "x", "1").stdout.startswith("READONLY")


def test_default_user_is_off_and_unauthenticated_commands_are_refused():
    host = lab_host(HOSTS[0])
    assert cli(host, "GET", "x", authenticated=False).stdout.startswith("NOAUTH")
    # The password alone logs in as the default user, which is off.
    as_default = cli(host, "PING")
    assert "WRONGPASS" in as_default.stdout + as_default.stderr


def test_sentinels_require_authentication():
    host = lab_host(HOSTS[1])
    refused = cli(host, "SENTINEL", "masters", port=SENTINEL_PORT, authenticated=False)
    assert refused.stdout.startswith("NOAUTH")


def test_published_url_is_the_sentinel_form():
    for host in hosts():
        url = published_url(host)
        assert (url.scheme, url.username, url.hostname, url.port) == (
            "redis",
            "wandb",
            "redis-sentinel-1",
            SENTINEL_PORT,
        )
        assert url_query(host) == {"master": [MASTER]}
    # The URL's credentials work against the sentinel it names, and name the primary.
    host = lab_host(HOSTS[2])
    url = published_url(host)
    answer = cli(
        host, "SENTINEL", "get-master-addr-by-name", MASTER, port=url.port, target=url.hostname, user=url.username
    )
    assert answer.stdout.split() == [address_of(current_primary()), str(DATA_PORT)]


def test_every_host_publishes_the_same_endpoint_naming_the_first_sentinel():
    endpoints = [published_endpoint("redis", name) for name in HOSTS]
    same = all(endpoint == endpoints[0] for endpoint in endpoints)
    assert same, "the hosts publish different endpoints"
    endpoint = endpoints[0]
    assert (endpoint["url"], endpoint["host"], endpoint["port"], endpoint["tls"], endpoint["ca_file"]) == (
        "redis://redis-sentinel-1:26379",
        "redis-sentinel-1",
        SENTINEL_PORT,
        False,
        "",
    )
