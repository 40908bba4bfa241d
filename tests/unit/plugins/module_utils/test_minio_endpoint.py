# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The endpoint the minio role publishes: its shape, the defaults it falls back on, and bad inputs."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter import wandb_minio
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_endpoint import INPUTS, minio_endpoint
from ansible_collections.wandb_local.fleet.plugins.module_utils._tier_endpoints import check_endpoint
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url

SECRET = "Se/cr3t+key-0123456789abcdefghijklmnopq"
DEFAULTS = {
    "wandb_minio_bucket": "wandb",
    "wandb_minio_access_key": "wandb",
    "wandb_minio_port": 9000,
    "wandb_minio_tls_mode": "off",
    "wandb_minio_tls_ca_src": "",
    "wandb_minio_bucket_endpoint": "",
    "wandb_minio_client_endpoint": "",
}


def endpoint(first_node="minio1", secret=SECRET, secrets_dir="/srv/secrets", **inputs):
    return minio_endpoint(dict(DEFAULTS, **inputs), first_node, secret, secrets_dir)


def test_defaults_name_the_first_node_over_http():
    published = check_endpoint("bucket", endpoint())
    assert published["url"] == published["client_url"] == "http://minio1:9000"
    assert (published["host"], published["port"], published["tls"], published["ca_file"]) == ("minio1", 9000, False, "")
    assert published["env"]["AWS_REGION"] == "us-east-1"
    assert published["env"]["BUCKET_QUEUE"] == "internal://"
    bucket = parse_url(published["env"]["BUCKET"])
    assert (bucket["access_key"], bucket["secret_key"], bucket["endpoint"], bucket["bucket"]) == (
        "wandb",
        SECRET,
        "minio1:9000",
        "wandb",
    )
    assert "?tls=true" not in published["env"]["BUCKET"]


def test_tls_endpoints_and_the_controller_ca():
    published = endpoint(
        wandb_minio_tls_mode="lab_ca",
        wandb_minio_bucket_endpoint="minio-lb.example.net:9443",
        wandb_minio_client_endpoint="files.example.net:443",
        wandb_minio_port="9000",
    )
    check_endpoint("bucket", published)
    assert published["url"] == "https://minio-lb.example.net:9443"
    assert published["client_url"] == "https://files.example.net:443"
    assert (published["host"], published["port"], published["tls"]) == ("minio-lb.example.net", 9443, True)
    assert published["ca_file"] == "/srv/secrets/ca/ca.crt"
    assert published["env"]["BUCKET"].endswith("@minio-lb.example.net:9443/wandb?tls=true")
    given = endpoint(wandb_minio_tls_mode="given", wandb_minio_tls_ca_src="/etc/pki/site-ca.pem")
    assert given["ca_file"] == "/etc/pki/site-ca.pem"
    # A certificate from a CA the hosts already trust: the system roots.
    assert endpoint(wandb_minio_tls_mode="given")["ca_file"] == ""


def test_the_inputs_may_carry_more_than_the_endpoint_reads():
    assert endpoint(wandb_minio_hosts_group="wandb_minio", wandb_secrets_dir="/x") == endpoint()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wandb_minio_bucket_endpoint": "minio1"}, "wandb_minio_bucket_endpoint must be HOST:PORT"),
        ({"wandb_minio_bucket_endpoint": "minio1:http"}, "wandb_minio_bucket_endpoint must be HOST:PORT"),
        ({"wandb_minio_client_endpoint": "bad host:9000"}, "wandb_minio_client_endpoint host"),
        ({"wandb_minio_client_endpoint": "files:70000"}, "wandb_minio_client_endpoint port"),
        ({"wandb_minio_tls_mode": "on"}, "wandb_minio_tls_mode must be one of off, given, lab_ca"),
        ({"wandb_minio_port": "nine"}, "wandb_minio_port must be a whole number"),
        ({"wandb_minio_port": True}, "wandb_minio_port must be a whole number"),
        ({"wandb_minio_bucket": ""}, "wandb_minio_bucket must not be empty"),
        ({"wandb_minio_access_key": 7}, "wandb_minio_access_key must be text"),
    ],
)
def test_bad_inputs_name_the_field_never_the_secret(change, message):
    with pytest.raises(AnsibleFilterError) as error:
        wandb_minio.minio_endpoint(dict(DEFAULTS, **change), "minio1", SECRET, "/srv/secrets")
    assert message in str(error.value)
    assert SECRET not in str(error.value)


@pytest.mark.parametrize(
    ("inputs", "first_node", "secret", "secrets_dir", "message"),
    [
        ([], "minio1", SECRET, "/s", "the inputs must be a mapping"),
        ({"wandb_minio_bucket": "wandb"}, "minio1", SECRET, "/s", "the inputs lack wandb_minio_access_key"),
        (DEFAULTS, "", SECRET, "/s", "the first node's name"),
        (DEFAULTS, "minio1", "", "/s", "the secret of wandb_minio_access_key"),
        (dict(DEFAULTS, wandb_minio_tls_mode="lab_ca"), "minio1", SECRET, "", "wandb_secrets_dir must be set"),
    ],
)
def test_unusable_calls_are_filter_errors(inputs, first_node, secret, secrets_dir, message):
    with pytest.raises(AnsibleFilterError, match=message):
        wandb_minio.minio_endpoint(inputs, first_node, secret, secrets_dir)


def test_the_inputs_list_is_what_the_publish_entry_point_documents():
    import pathlib

    import yaml

    specs = yaml.safe_load(
        (pathlib.Path(__file__).resolve().parents[4] / "roles/minio/meta/argument_specs.yml").read_text()
    )["argument_specs"]["publish"]["options"]
    assert set(INPUTS) <= set(specs)
