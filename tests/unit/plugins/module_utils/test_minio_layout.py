# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_layout import minio_layout
from ansible_collections.wandb_local.fleet.plugins.module_utils._minio_policy import policy_statements


def settings(name="minio1", drives="/var/lib/minio/data", port=9000, tls="off"):
    return {
        "wandb_minio_node_name": name,
        "wandb_minio_drives": drives,
        "wandb_minio_port": port,
        "wandb_minio_tls_mode": tls,
    }


def cluster(names, drives="/data{1...2}", scheme="https", peer_extra=None):
    """A cluster seen from its first node: node i is host hN named names[i] in its inventory."""
    hosts = ["h%d" % i for i in range(len(names))]
    peers = {
        host: {"wandb_minio_node_name": name, **(peer_extra or {})}
        for host, name in zip(hosts[1:], names[1:], strict=True)
    }
    return minio_layout(hosts, hosts[0], settings(names[0], drives), peers, scheme)


def test_single_node_with_one_drive():
    layout = minio_layout(["m"], "m", settings("m"), {}, "http")
    assert layout == {
        "names": ["m"],
        "drives": ["/var/lib/minio/data"],
        "node_pattern": "m",
        "sequence_ok": True,
        "total_drives": 1,
        "set_sizes": [],
        "not_uniform": [],
        "volumes": "/var/lib/minio/data",
    }


def test_four_nodes_two_drives():
    layout = cluster(["minio1", "minio2", "minio3", "minio4"])
    assert layout["names"] == ["minio1", "minio2", "minio3", "minio4"]
    assert layout["drives"] == ["/data1", "/data2"]
    assert layout["node_pattern"] == "minio{1...4}"
    assert layout["sequence_ok"] is True
    assert layout["total_drives"] == 8
    assert layout["set_sizes"] == [2, 4, 8]
    assert layout["volumes"] == "https://minio{1...4}:9000/data{1...2}"


@pytest.mark.parametrize(
    ("drives", "expanded"),
    [
        ("/mnt/disk{1...4}/minio", ["/mnt/disk1/minio", "/mnt/disk2/minio", "/mnt/disk3/minio", "/mnt/disk4/minio"]),
        ("/d{01...03}", ["/d01", "/d02", "/d03"]),
        ("/d{1...03}", ["/d01", "/d02", "/d03"]),
        ("/d{01...3}", ["/d1", "/d2", "/d3"]),  # the padded end decides the width: the last one here
        ("/d{01...10}", ["/d%02d" % i for i in range(1, 11)]),
        ("/d{1...10}", ["/d%d" % i for i in range(1, 11)]),
        ("/d{9...11}", ["/d9", "/d10", "/d11"]),
        ("/d{2...2}", ["/d2"]),
        ("/d{4...1}", []),
        ("/a{1...2}/b{3...4}", ["/a{1...2}/b3", "/a{1...2}/b4"]),  # only the last series is expanded
        ("/plain/path", ["/plain/path"]),
    ],
)
def test_drive_series(drives, expanded):
    assert minio_layout(["m"], "m", settings("m", drives), {}, "http")["drives"] == expanded


@pytest.mark.parametrize(
    ("names", "pattern", "ok"),
    [
        (["minio01", "minio02", "minio03", "minio04"], "minio{01...04}", True),
        (["minio4", "minio2", "minio3", "minio1"], "minio{1...4}", True),
        (["n1.lab", "n2.lab"], "n{1...2}.lab", True),
        (["rack1-node1", "rack1-node2"], "rack1-node{1...2}", True),
        (["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], "10.0.0.{1...4}", True),
        (["minio9", "minio10", "minio11", "minio12"], "minio{9...12}", True),
        (["minio08", "minio09", "minio10", "minio11"], "minio{08...11}", True),
        (["minio8", "minio09", "minio10"], "minio{8...10}", False),  # 8 without its zero
        (["minio1", "minio2", "minio4"], "minio{1...4}", False),  # a gap
        (["minio1", "minio02"], "minio{1...02}", False),  # mixed widths
        (["minio1", "minio1"], "minio1", False),  # no number differs
        (["a1", "b2"], "a1", False),  # different shapes
        (["a1b1", "a2b2"], "a1b1", False),  # two numbers differ
        (["minio", "other"], "minio", False),  # no numbers
        (["MinIO1", "minio2"], "MinIO{1...2}", True),  # names compare without regard to case, as DNS does
    ],
)
def test_node_series(names, pattern, ok):
    layout = cluster(names)
    assert (layout["node_pattern"], layout["sequence_ok"]) == (pattern, ok)


@pytest.mark.parametrize(
    ("nodes", "drives", "sizes"),
    [
        (1, "/d{1...4}", [2, 4]),
        (1, "/d{1...17}", []),
        (1, "/d{1...16}", [2, 4, 8, 16]),
        (4, "/d{1...2}", [2, 4, 8]),
        (3, "/d{1...1}", [3]),
        (3, "/d{1...4}", [3, 6, 12]),
        (2, "/d{1...9}", [2, 6]),
        (32, "/d{1...1}", [2, 4, 8, 16]),
        (17, "/d{1...1}", []),
    ],
)
def test_erasure_set_sizes(nodes, drives, sizes):
    names = ["minio%d" % (i + 1) for i in range(nodes)]
    layout = cluster(names, drives)
    assert layout["set_sizes"] == sizes
    assert layout["total_drives"] == nodes * len(layout["drives"])


def test_a_descending_series_on_one_node_has_no_drives_and_no_sets():
    layout = minio_layout(["m"], "m", settings("m", "/d{4...1}"), {}, "http")
    assert (layout["drives"], layout["total_drives"], layout["set_sizes"]) == ([], 0, [])


def test_other_nodes_default_to_their_inventory_name():
    layout = minio_layout(["minio1", "minio2", "minio3"], "minio1", settings("minio1"), {"minio3": {}}, "http")
    assert layout["names"] == ["minio1", "minio2", "minio3"]
    peers = {"minio2": {"wandb_minio_node_name": ""}, "minio3": {"wandb_minio_node_name": None}}
    assert minio_layout(["minio1", "minio2", "minio3"], "minio1", settings("minio1"), peers, "http")["names"] == [
        "minio1",
        "minio2",
        "minio3",
    ]


def test_this_host_uses_its_own_name_even_when_listed_as_peer():
    peers = {"h0": {"wandb_minio_node_name": "ignored"}, "h1": {"wandb_minio_node_name": "minio2"}}
    assert minio_layout(["h0", "h1"], "h0", settings("minio1"), peers, "http")["names"] == ["minio1", "minio2"]


def test_settings_unlike_this_hosts_are_listed():
    peers = {
        "h1": {
            "wandb_minio_node_name": "minio2",
            "wandb_minio_port": "9000",
            "wandb_minio_drives": "/var/lib/minio/data",
        },
        "h2": {"wandb_minio_node_name": "minio3", "wandb_minio_tls_mode": "lab_ca", "wandb_minio_drives": "/x"},
    }
    layout = minio_layout(["h0", "h1", "h2"], "h0", settings("minio1"), peers, "http")
    # "9000" is not 9000: the inventory value is compared as given, as the role always did.
    assert layout["not_uniform"] == [
        "wandb_minio_port of h1",
        "wandb_minio_drives of h2",
        "wandb_minio_tls_mode of h2",
    ]


def test_volumes_use_the_scheme_port_and_drive_notation():
    layout = minio_layout(
        ["h0", "h1"],
        "h0",
        settings("s1", "/mnt/d{1...4}/minio", "9100"),
        {"h1": {"wandb_minio_node_name": "s2"}},
        "http",
    )
    assert layout["volumes"] == "http://s{1...2}:9100/mnt/d{1...4}/minio"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: minio_layout([], "m", settings(), {}, "http"), "node list"),
        (
            lambda: minio_layout(["m"], "m", {"wandb_minio_drives": "/d"}, {}, "http"),
            "wandb_minio_node_name is missing",
        ),
        (lambda: minio_layout(["m"], "m", settings(drives=["/d"]), {}, "http"), "wandb_minio_drives of m must be text"),
        (lambda: minio_layout(["m"], "m", "settings", {}, "http"), "settings of m must be a mapping"),
        (lambda: minio_layout(["m"], "m", settings(), {}, "ftp"), "scheme must be http or https"),
        (
            lambda: minio_layout(["m", "n"], "m", settings(), {"n": {"wandb_minio_node_name": 7}}, "http"),
            "wandb_minio_node_name of n must be text",
        ),
    ],
)
def test_bad_input_names_the_field(call, message):
    with pytest.raises(FleetInputError, match=message):
        call()


POLICY = (
    '{"status": "success", "policyInfo": {"PolicyName": "wandb-b", "Policy": {"Version": "2012-10-17",'
    ' "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::B"]}]}}}'
)


def test_policy_statements_sort_lists_and_fill_defaults():
    assert policy_statements(POLICY) == [
        {"Effect": "Allow", "Condition": {}, "Action": ["s3:*"], "Resource": ["arn:aws:s3:::B", "arn:aws:s3:::b/*"]}
    ]
    single = {
        "policyInfo": {"Policy": {"Statement": {"Action": "s3:GetObject", "Resource": "arn:x", "Condition": {"a": 1}}}}
    }
    assert policy_statements(single) == [
        {"Effect": "", "Condition": {"a": 1}, "Action": ["s3:GetObject"], "Resource": ["arn:x"]}
    ]
    # Jinja's sort: text without regard to case.
    mixed = {"policyInfo": {"Policy": {"Statement": [{"Action": ["s3:PutObject", "S3:ListBucket", "s3:GetObject"]}]}}}
    assert policy_statements(mixed)[0]["Action"] == ["s3:GetObject", "S3:ListBucket", "s3:PutObject"]


@pytest.mark.parametrize(
    "empty", ['{"policyInfo": {}}', '{"policyInfo": {"Policy": null}}', "{}", '{"policyInfo": {"Policy": {}}}']
)
def test_no_policy_has_no_statements(empty):
    assert policy_statements(empty) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("mc: <ERROR> not json", "not JSON"),
        ("[]", "must be a JSON object"),
        ('{"policyInfo": {"Policy": "text"}}', "policyInfo.Policy must be a JSON object"),
        ('{"policyInfo": {"Policy": {"Statement": ["x"]}}}', "Statement must be a list of JSON objects"),
        ('{"policyInfo": {"Policy": {"Statement": [{"Action": 3}]}}}', "Action of a policy statement"),
    ],
)
def test_policy_statements_refuse_other_output(output, message):
    with pytest.raises(FleetInputError, match=message):
        policy_statements(output)
