"""Four nodes x two drives form one erasure-coded cluster that keeps serving with a node down."""

import contextlib
import json
import os
import shlex
import time
import uuid

import testinfra

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import parse_url

testinfra_hosts = ["ansible://minio-distributed-1"]

MC = "/usr/local/bin/mc"
CA = "/etc/minio/certs/ca.crt"
ROOT = f"{MC} --config-dir /etc/minio/mc --json --no-color"
STOPPED = "minio-distributed-4"


def other_host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def wandb_bucket(host):
    """The BUCKET URL converge.yml wrote from the role's wandb_minio_env fact."""
    lines = host.file("/etc/wandb/wandb.env").content_string.splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return parse_url(env["BUCKET"])


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
