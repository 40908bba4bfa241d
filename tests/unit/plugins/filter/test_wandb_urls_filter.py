# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter.wandb_urls import FilterModule

FILTERS = FilterModule().filters()
FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"


class WrappedText:
    """Stands for values Ansible hands to filters that are not plain str (vaulted strings)."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def test_the_contract_names_exist():
    assert {"mysql_url", "bucket_url", "queue_url", "redis_url", "parse_wandb_url"} <= set(FILTERS)


def test_every_filter_has_documentation_named_after_it():
    for name in FILTERS:
        doc = yaml.safe_load((FILTER_DIR / ("%s.yml" % name)).read_text())
        assert doc["DOCUMENTATION"]["name"] == name
        assert "_value" in doc["RETURN"]


def test_contract_examples_from_the_brief():
    assert (
        FILTERS["mysql_url"](
            {
                "user": "wandb_local",
                "password": "pa:ss@word",
                "host": "db1",
                "port": 3306,
                "database": "wandb_local",
                "tls": "custom",
                "ssl_ca": "/etc/wandb/mysql-ca.pem",
            }
        )
        == "mysql://wandb_local:pa%3Ass%40word@db1:3306/wandb_local?tls=custom&ssl-ca=/etc/wandb/mysql-ca.pem"
    )
    assert (
        FILTERS["bucket_url"](
            {
                "scheme": "s3",
                "bucket": "wandb",
                "access_key": "AK",
                "secret_key": "S+K",
                "endpoint": "minio1:9000",
                "path": "prefix",
                "tls": True,
            }
        )
        == "s3://AK:S%2BK@minio1:9000/wandb/prefix?tls=true"
    )
    assert FILTERS["bucket_url"]({"scheme": "gs", "bucket": "acme-wandb"}) == "gs://acme-wandb"
    assert (
        FILTERS["bucket_url"]({"scheme": "az", "account": "acmewandb", "container": "files"}) == "az://acmewandb/files"
    )
    assert (
        FILTERS["redis_url"](
            {
                "host": "r1",
                "port": 6379,
                "username": "u",
                "password": "p",
                "tls": True,
                "ca_cert_path": "/p",
                "ttl_in_seconds": 604800,
                "sentinel_master": "wandb",
            }
        )
        == "redis://u:p@r1:6379?tls=true&caCertPath=/p&ttlInSeconds=604800&master=wandb"
    )
    assert FILTERS["parse_wandb_url"]("redis://:p@r1:6379") == {
        "scheme": "redis",
        "host": "r1",
        "port": 6379,
        "password": "p",
        "kind": "redis",
    }
    assert FILTERS["parse_wandb_url"]("az://acmewandb/events", "queue")["queue"] == "events"


def test_vaulted_and_other_wrapped_values_are_used_as_their_text():
    url = FILTERS["mysql_url"]({"user": "u", "password": WrappedText("s/cret"), "host": "db"})
    assert url == "mysql://u:s%2Fcret@db/wandb_local"


@pytest.mark.parametrize(
    ("name", "argument", "part"),
    [
        ("mysql_url", {"password": "p", "host": "db"}, "user"),
        ("mysql_url", {"user": "u", "host": "db", "port": "abc"}, "port"),
        ("mysql_url", "not a dict", "mysql_url"),
        ("bucket_url", {"scheme": "s3", "bucket": "wandb", "secret_key": "s"}, "access_key"),
        ("bucket_url", {"scheme": "az", "container": "files"}, "account"),
        ("queue_url", {"scheme": "pubsub", "project": "acme-ml", "subscription": "s1x"}, "topic"),
        ("redis_url", {"host": "r1", "colour": "red"}, "colour"),
        ("parse_wandb_url", "pubsub://p/t/s", "url"),
    ],
)
def test_filter_errors_name_the_part(name, argument, part):
    with pytest.raises(AnsibleFilterError) as error:
        FILTERS[name](argument)
    message = str(error.value)
    assert message.startswith("wandb_local.fleet.%s: %s:" % (name, part))


def test_filter_errors_do_not_repeat_the_password():
    with pytest.raises(AnsibleFilterError) as error:
        FILTERS["mysql_url"]({"user": "u", "password": "Hunter2Secret", "host": "not a host"})
    assert "Hunter2Secret" not in str(error.value)
