"""wandb_mysql_url: the W&B MYSQL URL in the vendor's format, naming the primary on every host,
with the generated credentials URL-encoded; it parses back to its parts."""

import stat

from conftest import PRIMARY, REPLICA, ephemeral_dir, secret

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url


def test_url_file_is_private():
    for name in (PRIMARY, REPLICA):
        mode = stat.S_IMODE((ephemeral_dir() / f"mysql-url-{name}").stat().st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"


def test_every_host_publishes_the_primary(published_urls):
    assert published_urls[PRIMARY] == published_urls[REPLICA]


def test_url_parses_back_to_its_parts(published_urls):
    parts = parse_url(published_urls[PRIMARY])
    assert parts == {
        "scheme": "mysql",
        "kind": "mysql",
        "user": "wandb_local",
        "password": secret("wandb_local"),
        "host": PRIMARY,
        "port": 3306,
        "database": "wandb_local",
        "tls": "custom",
        "ssl_ca": "/etc/wandb/tls/mysql-ca.crt",
    }


def test_url_has_the_vendor_shape(published_urls):
    url = published_urls[PRIMARY]
    assert url.startswith("mysql://wandb_local:")
    assert url.endswith("@mysql-primary:3306/wandb_local?tls=custom&ssl-ca=/etc/wandb/tls/mysql-ca.crt")
