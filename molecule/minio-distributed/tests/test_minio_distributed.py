"""Four nodes x two drives form one erasure-coded cluster that keeps serving with a node down."""

import contextlib
import json
import os
import shlex
import time
import uuid

import pytest
import testinfra
from endpoint_contract import endpoint_file, published_endpoint
from lab_playbook import run_playbook

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url

testinfra_hosts = ["ansible://minio-distributed-1"]

MC = "/usr/local/bin/mc"
CA = "/etc/minio/certs/ca.crt"
ROOT = f"{MC} --config-dir /etc/minio/mc --json --no-color"
STOPPED = "minio-distributed-4"
NODES = [f"minio-distributed-{n}" for n in range(1, 5)]


def other_host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def wandb_bucket(host=None):
    """The BUCKET URL the role published for the server (wandb_minio_endpoint.env)."""
    return parse_url(published_endpoint("bucket", NODES[0])["env"]["BUCKET"])


def test_every_node_publishes_the_same_endpoint():
    endpoints = [published_endpoint("bucket", node) for node in NODES]
    assert all(endpoint == endpoints[0] for endpoint in endpoints)
    first = endpoints[0]
    assert first["url"] == first["client_url"] == "https://minio-distributed-1:9000"
    assert (first["host"], first["port"], first["tls"]) == ("minio-distributed-1", 9000, True)
    assert first["ca_file"].endswith("/wandb-secrets/ca/ca.crt")
    assert (first["env"]["AWS_REGION"], first["env"]["BUCKET_QUEUE"]) == ("us-east-1", "internal://")
    bucket = wandb_bucket()
    assert (bucket["bucket"], bucket["access_key"], bucket["tls"]) == ("wandb", "wandb", True)


def test_the_key_has_the_bucket_policy_only(host):
    info = json.loads(host.check_output(f"{ROOT} admin user info root wandb"))
    assert (info["policyName"], info["userStatus"]) == ("wandb-wandb", "enabled")


def as_wandb(host, command, stdin=None, endpoint=None):
    """mc with the published key, against the published endpoint or another node of the cluster."""
    bucket = wandb_bucket(host)
    alias = f"https://{bucket['access_key']}:{bucket['secret_key']}@{endpoint or bucket['endpoint']}"
    pipe = f"printf %s {shlex.quote(stdin)} | " if stdin is not None else ""
    env = f"SSL_CERT_FILE={CA} MC_HOST_w={shlex.quote(alias)}"
    return host.run(f"{pipe}env {env} {MC} --config-dir /tmp/mc-wandb --json --no-color {command}")


def put_and_get(host, key, endpoint=None):
    body = f"{key} {uuid.uuid4()}"
    put = as_wandb(host, f"pipe w/wandb/{key}", stdin=body, endpoint=endpoint)
    assert put.rc == 0, put.stdout + put.stderr
    get = as_wandb(host, f"cat w/wandb/{key}", endpoint=endpoint)
    assert get.rc == 0, get.stdout + get.stderr
    assert get.stdout == body
    return body


def test_cluster_is_one_erasure_set_over_all_nodes(host):
    info = json.loads(host.check_output(f"{ROOT} admin info root"))["info"]
    assert info["backend"]["backendType"] == "Erasure"
    assert (info["backend"]["onlineDisks"], info["backend"]["offlineDisks"]) == (8, 0)
    assert len(info["servers"]) == 4


def test_put_on_one_node_get_from_another(host):
    body = put_and_get(host, "probe/spread.txt")
    got = as_wandb(host, "cat w/wandb/probe/spread.txt", endpoint="minio-distributed-3:9000")
    assert got.rc == 0, got.stdout + got.stderr
    assert got.stdout == body


def wait_for(check, timeout=120):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(2)


@contextlib.contextmanager
def node_stopped(host, name):
    """Stop MinIO on one node until the block ends, then start it and wait until the cluster is whole."""
    node = other_host(name)
    node.check_output("systemctl stop minio")
    try:
        wait_for(lambda: backend(host)["offlineDisks"] == 2)
        yield node
    finally:
        node.check_output("systemctl start minio")
        wait_for(lambda: node.run("systemctl is-active minio").stdout.strip() == "active")
        wait_for(lambda: backend(host)["onlineDisks"] == 8)


def backend(host):
    return json.loads(host.check_output(f"{ROOT} admin info root"))["info"]["backend"]


def test_objects_can_be_written_and_read_with_a_node_down(host):
    before = put_and_get(host, "probe/before-outage.txt")
    with node_stopped(host, STOPPED) as node:
        assert not node.service("minio").is_running
        put_and_get(host, "probe/during-outage.txt")
        put_and_get(host, "probe/during-outage-via-node-2.txt", endpoint="minio-distributed-2:9000")
        still_there = as_wandb(host, "cat w/wandb/probe/before-outage.txt")
        assert still_there.rc == 0, still_there.stdout + still_there.stderr
        assert still_there.stdout == before


@pytest.fixture
def minio_start_times():
    def times():
        return [
            other_host(node).check_output("systemctl show -p ExecMainStartTimestampMonotonic --value minio")
            for node in NODES
        ]

    return times


def test_publish_for_one_node_from_another_changes_nothing(tmp_path, minio_start_times):
    """The publish entry point, run on node 2 for node 3 (delegate_facts), publishes what converge did."""
    dump = tmp_path / "published.json"
    before = minio_start_times()
    run = run_playbook(
        "publish.yml",
        extra_vars={
            "__wandb_lab_publish_from": NODES[1],
            "__wandb_lab_publish_for": NODES[2],
            "__wandb_lab_publish_dump": str(dump),
        },
    )
    assert run.returncode == 0, run.tail()
    assert not any(run.changed.values()), run.tail()
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert json.loads(dump.read_text()) == json.loads(endpoint_file(NODES[2]).read_text())
    assert published_endpoint("bucket", NODES[0])["env"]["BUCKET"] not in run.output
    assert minio_start_times() == before
