# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The contract between tiers: the shape written in docs/role-conventions.md is the one checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils import _tier_endpoints as contract

DOC = Path(__file__).resolve().parents[4] / "docs" / "role-conventions.md"
PASSWORD = "s3cr3t-P@ss"


def _table(marker):
    text = DOC.read_text(encoding="utf-8")
    lines = text[text.index(marker) :].splitlines()[1:]
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    return rows


def test_the_documented_fields_are_the_checked_fields():
    documented = dict((name, (tiers, meaning)) for name, tiers, meaning in _table("<!-- endpoint-fields"))
    assert documented == contract.FIELDS


def test_the_documented_tiers_are_the_checked_tiers():
    def names(cell):
        return tuple(n.strip() for n in cell.split(",") if n.strip())

    documented = dict((tier, (role, names(must), names(may))) for tier, role, must, may in _table("<!-- endpoint-env"))
    assert documented == contract.TIERS


def mysql_endpoint(**changes):
    endpoint = {
        "env": {"MYSQL": "mysql://wandb:%s@db1:3306/wandb_local?tls=custom&ssl-ca=/etc/wandb/certs/ca.crt" % PASSWORD},
        "url": "mysql://db1:3306/wandb_local",
        "host": "db1",
        "port": 3306,
        "tls": True,
        "ca_file": "/srv/secrets/ca/ca.crt",
    }
    endpoint.update(changes)
    return endpoint


def test_a_published_endpoint_of_the_right_shape_passes():
    assert contract.check_endpoint("mysql", mysql_endpoint()) == mysql_endpoint()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"port": "3306"}, "wandb_mysql_endpoint.port must be an integer"),
        ({"port": 70000}, "port: must be a number from 1 to 65535"),
        ({"tls": "yes"}, "wandb_mysql_endpoint.tls must be true or false"),
        ({"url": "mysql://wandb:x@db1/wandb_local"}, "url must not carry credentials"),
        ({"ca_file": "ca.crt"}, "ca_file must be an absolute path"),
        ({"client_url": "https://x"}, "has client_url, which is not part of the mysql endpoint"),
        ({"env": {}}, "wandb_mysql_endpoint.env must set MYSQL"),
        (
            {"env": {"MYSQL": "mysql://db1/x", "REDIS": "redis://r:6379"}},
            "sets REDIS, which the mysql tier does not provide",
        ),
        ({"env": {"MYSQL": "postgres://wandb:%s@db1/x" % PASSWORD}}, "env.MYSQL is not a URL the server reads"),
        ({"host": "bad host"}, "wandb_mysql_endpoint.host"),
    ],
)
def test_a_wrong_field_is_named_and_no_secret_shown(changes, message):
    with pytest.raises(contract.EndpointError) as error:
        contract.check_endpoint("mysql", mysql_endpoint(**changes))
    assert message in str(error.value)
    assert PASSWORD not in str(error.value)


def test_a_missing_field_is_named():
    endpoint = mysql_endpoint()
    del endpoint["ca_file"], endpoint["tls"]
    with pytest.raises(contract.EndpointError, match="lacks tls, ca_file"):
        contract.check_endpoint("mysql", endpoint)


def test_every_tier_has_a_fact_named_after_its_role():
    assert [contract.fact_name(tier) for tier in sorted(contract.TIERS)] == [
        "wandb_minio_endpoint",
        "wandb_mysql_endpoint",
        "wandb_proxy_endpoint",
        "wandb_redis_endpoint",
        "wandb_server_endpoint",
    ]
    with pytest.raises(contract.EndpointError, match="unknown tier 'postgres'"):
        contract.fact_name("postgres")


@pytest.mark.parametrize(
    "tier, env, expected",
    [
        (
            "mysql",
            {"MYSQL": "mysql://wandb:%s@db.example.net/wandb?tls=true" % PASSWORD},
            ("db.example.net", 3306, True, "mysql://db.example.net:3306/wandb"),
        ),
        ("redis", {"REDIS": "redis://:%s@cache:6380?tls=true" % PASSWORD}, ("cache", 6380, True, "redis://cache:6380")),
        (
            "bucket",
            {"BUCKET": "s3://key:%s@minio.lan:9000/wandb?tls=true" % PASSWORD, "AWS_REGION": "us-east-1"},
            ("minio.lan", 9000, True, "https://minio.lan:9000"),
        ),
        (
            "bucket",
            {"BUCKET": "s3://key:%s@minio.lan:9000/wandb" % PASSWORD},
            ("minio.lan", 9000, False, "http://minio.lan:9000"),
        ),
        (
            "bucket",
            {"BUCKET": "s3://key:%s@wandb-files" % PASSWORD},
            ("s3.amazonaws.com", 443, True, "https://s3.amazonaws.com"),
        ),
        (
            "bucket",
            {"BUCKET": "gs://wandb-files"},
            ("storage.googleapis.com", 443, True, "https://storage.googleapis.com"),
        ),
        (
            "bucket",
            {"BUCKET": "az://acct/files"},
            ("acct.blob.core.windows.net", 443, True, "https://acct.blob.core.windows.net"),
        ),
    ],
)
def test_an_external_service_is_completed_from_its_url(tier, env, expected):
    endpoint = contract.external_endpoint(tier, {"env": env}, "wandb_server_%s" % tier)
    assert (endpoint["host"], endpoint["port"], endpoint["tls"], endpoint["url"]) == expected
    assert endpoint["env"] == env
    assert endpoint["ca_file"] == ""
    assert PASSWORD not in endpoint["url"]
    if tier == "bucket":
        assert endpoint["client_url"] == endpoint["url"]


def test_given_fields_of_an_external_service_win():
    endpoint = contract.external_endpoint(
        "bucket",
        {"env": {"BUCKET": "s3://k:%s@10.0.0.5:9000/wandb" % PASSWORD}, "client_url": "https://files.example.net"},
        "wandb_server_bucket",
    )
    assert endpoint["client_url"] == "https://files.example.net"
    assert endpoint["host"] == "10.0.0.5"


@pytest.mark.parametrize(
    "value, message",
    [
        ("mysql://x", "wandb_server_mysql must be a mapping with at least env"),
        ({"url": "mysql://db/x"}, "wandb_server_mysql must set env (the W&B variables: MYSQL)"),
        ({"env": {"MYSQL": "mysql://u:%s@db/x" % PASSWORD}, "password": PASSWORD}, "has password, which is not part"),
        ({"env": {"MYSQL": "mysql://u:%s@db/x" % PASSWORD}, "port": "x"}, "wandb_server_mysql.port must be an integer"),
        (
            {"env": {"MYSQL": "mysql://u:%s@db" % PASSWORD}},
            "env.MYSQL is not a URL the server reads: must name exactly one database",
        ),
    ],
)
def test_a_wrong_external_service_is_named(value, message):
    with pytest.raises(contract.EndpointError) as error:
        contract.external_endpoint("mysql", value, "wandb_server_mysql")
    assert message in str(error.value)
    assert PASSWORD not in str(error.value)


def test_the_deprecated_inputs_make_the_same_endpoint():
    legacy = {
        "wandb_server_bucket_url": "s3://k:%s@minio:9000/wandb" % PASSWORD,
        "wandb_server_bucket_queue": "internal://",
        "wandb_server_aws_region": "us-east-1",
        "wandb_server_mysql_url": "",
    }
    endpoint, used = contract.legacy_endpoint("bucket", legacy)
    assert used == ["wandb_server_aws_region", "wandb_server_bucket_queue", "wandb_server_bucket_url"]
    expected = {"BUCKET": legacy["wandb_server_bucket_url"], "BUCKET_QUEUE": "internal://", "AWS_REGION": "us-east-1"}
    assert endpoint["env"] == expected
    assert contract.legacy_endpoint("mysql", legacy) == (None, [])
    named = re.escape("wandb_server_redis (from wandb_server_redis_url).env.REDIS")
    with pytest.raises(contract.EndpointError, match=named):
        contract.legacy_endpoint("redis", {"wandb_server_redis_url": "rediss://x:6379"})
