"""wandb_mysql_endpoint: the contract's shape on every host, naming the primary; env.MYSQL is the W&B
MYSQL URL in the vendor's format with the generated credentials URL-encoded, and parses back to its
parts; ca_file is the CA the servers' certificates verify against."""

from pathlib import Path

from conftest import CA_ON_HOST, PRIMARY, REPLICA, ephemeral_dir, secret

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url


def test_every_host_publishes_the_primary(endpoints):
    same = endpoints[PRIMARY] == endpoints[REPLICA]
    assert same, "the primary and the replica publish different endpoints"


def test_endpoint_names_the_primary_without_credentials(endpoints):
    endpoint = endpoints[REPLICA]
    assert (endpoint["url"], endpoint["host"], endpoint["port"], endpoint["tls"]) == (
        "mysql://mysql-primary:3306/wandb_local",
        PRIMARY,
        3306,
        True,
    )


def test_ca_file_is_the_lab_ca_the_hosts_verify_with(lab, endpoints):
    ca_file = Path(endpoints[PRIMARY]["ca_file"])
    assert ca_file == ephemeral_dir() / "wandb-secrets" / "ca" / "ca.crt"
    for host in lab.values():
        assert host.file(CA_ON_HOST).content_string == ca_file.read_text()


def test_url_parses_back_to_its_parts(published_urls):
    parts = parse_url(published_urls[PRIMARY])
    expected = {
        "scheme": "mysql",
        "kind": "mysql",
        "user": "wandb_local",
        "password": secret("wandb_local"),
        "host": PRIMARY,
        "port": 3306,
        "database": "wandb_local",
        "tls": "custom",
        "ssl_ca": "/etc/wandb/certs/ca.crt",
    }
    # Compared without printing the password.
    same = parts == expected
    assert same, f"the URL's parts differ in {sorted(k for k in expected if parts.get(k) != expected[k])}"


def test_url_has_the_vendor_shape(published_urls):
    url = published_urls[PRIMARY]
    assert url.startswith("mysql://wandb_local:")
    assert url.endswith("@mysql-primary:3306/wandb_local?tls=custom&ssl-ca=/etc/wandb/certs/ca.crt")
