# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter.wandb_mysql import mysql_failover_plan
from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_failover import failover_plan

INVENTORY = {
    "db1": {"role": "primary", "primary": None},
    "db2": {"role": "replica", "primary": "db1"},
}


def replica_state(**replica):
    return {
        "answers": True,
        "read_only": True,
        "super_read_only": True,
        "gtid_executed": "u1:1-100",
        "replica": {"sql_running": "Yes", "io_running": "No", "last_sql_error": "", **replica},
        "failover_marker": {},
    }


PRIMARY_UP = {"answers": True, "read_only": False, "super_read_only": False, "gtid_executed": "u1:1-100", "replica": {}}
PRIMARY_DOWN = {"answers": False, "error": "Can't connect to local server through socket"}


def test_a_failed_primary_promotes_its_only_replica_after_what_it_received():
    plan = failover_plan(INVENTORY, {"db1": PRIMARY_DOWN, "db2": replica_state()})
    assert plan == {
        "primary": "db1",
        "target": "db2",
        "done": False,
        "planned": False,
        "primary_answers": False,
        "demote_primary": False,
        "wait_for": "received",
        "others": [],
    }


def test_an_unreachable_primary_counts_as_failed():
    plan = failover_plan(INVENTORY, {"db1": None, "db2": replica_state()})
    assert plan["wait_for"] == "received" and not plan["primary_answers"]


def test_a_writable_primary_is_refused_unless_the_switchover_is_planned():
    states = {"db1": PRIMARY_UP, "db2": replica_state()}
    with pytest.raises(FleetInputError, match="db1 answers and takes writes: promoting db2 now would leave W&B two"):
        failover_plan(INVENTORY, states)
    plan = failover_plan(INVENTORY, states, planned=True)
    assert plan["demote_primary"] and plan["wait_for"] == "primary"


def test_a_read_only_primary_that_answers_is_waited_for_without_planning():
    plan = failover_plan(INVENTORY, {"db1": dict(PRIMARY_UP, read_only=True), "db2": replica_state()})
    assert plan["wait_for"] == "primary" and not plan["demote_primary"]


def test_a_planned_switchover_needs_the_primary_answering():
    with pytest.raises(FleetInputError, match=r"planned switchover .* needs the primary db1 answering.*Can't connect"):
        failover_plan(INVENTORY, {"db1": PRIMARY_DOWN, "db2": replica_state()}, planned="yes")


@pytest.mark.parametrize(
    "state, message",
    [
        (None, "db2 cannot be promoted: the host is unreachable"),
        ({"answers": False, "error": "Access denied"}, "db2 cannot be promoted: Access denied"),
        (dict(replica_state(), replica={}), "db2 replicates from nothing now"),
        (
            replica_state(sql_running="No", last_sql_error="Duplicate entry '7' for key 'PRIMARY'"),
            r"SQL thread is No \(Duplicate entry '7'",
        ),
    ],
)
def test_a_target_that_cannot_take_over_is_refused(state, message):
    with pytest.raises(FleetInputError, match=message):
        failover_plan(INVENTORY, {"db1": PRIMARY_DOWN, "db2": state})


def test_the_target_must_be_a_replica_of_the_primary():
    inventory = dict(INVENTORY, db3={"role": "replica", "primary": "db1"}, db4={"role": "none", "primary": None})
    states = {"db1": PRIMARY_DOWN, "db2": replica_state(), "db3": replica_state(), "db4": PRIMARY_UP}
    with pytest.raises(FleetInputError, match=r"has 2 replicas in the inventory \(db2, db3\): name the one"):
        failover_plan(inventory, states)
    with pytest.raises(FleetInputError, match="wandb_mysql_failover_to: db4 is not a replica of the primary db1"):
        failover_plan(inventory, states, target="db4")
    with pytest.raises(FleetInputError, match=r"must be a host of wandb_mysql \(db1, db2, db3, db4\), got 'db9'"):
        failover_plan(inventory, states, target="db9")
    plan = failover_plan(inventory, states, target="db3")
    assert plan["target"] == "db3" and plan["others"] == ["db2"]


@pytest.mark.parametrize(
    "inventory, message",
    [
        ({}, "has no host"),
        ({"db1": {"role": "none"}, "db2": {"role": "none"}}, r"found 0 \(none\)"),
        ({"db1": {"role": "primary"}, "db2": {"role": "primary"}}, r"found 2 \(db1, db2\)"),
    ],
)
def test_a_topology_without_one_primary_is_refused(inventory, message):
    with pytest.raises(FleetInputError, match=message):
        failover_plan(inventory, {})


def test_the_filter_reads_the_inventory_and_the_states_from_hostvars():
    hostvars = {
        "db1": {"wandb_mysql_replication_role": "primary", "wandb_mysql_replication_state": PRIMARY_DOWN},
        "db2": {
            "wandb_mysql_replication_role": "replica",
            "wandb_mysql_replication_primary": "db1",
            "wandb_mysql_replication_state": replica_state(),
        },
        # Not in the group: never read.
        "app": {"wandb_mysql_replication_role": "primary"},
    }
    assert mysql_failover_plan(["db1", "db2"], hostvars)["target"] == "db2"
    message = r"^wandb_local\.fleet\.mysql_failover_plan: wandb_mysql_failover_planned must be a boolean"
    with pytest.raises(AnsibleFilterError, match=message):
        mysql_failover_plan(["db1", "db2"], hostvars, planned="maybe")


def test_a_rerun_after_the_promotion_only_wires_the_server():
    promoted = dict(replica_state(), read_only=False, replica={}, failover_marker={"role": "primary", "at": "t"})
    plan = failover_plan(INVENTORY, {"db1": PRIMARY_DOWN, "db2": promoted})
    assert plan["done"] and not plan["demote_primary"]
    # Even with the old primary back and writable: the server must be moved off it.
    assert failover_plan(INVENTORY, {"db1": PRIMARY_UP, "db2": promoted})["done"]


def test_a_run_cut_off_before_the_promotion_promotes_on_the_rerun():
    # The marker is written first: still replicating and read-only, the promotion is not done yet.
    half = dict(replica_state(), failover_marker={"role": "primary", "at": "t"})
    plan = failover_plan(INVENTORY, {"db1": PRIMARY_DOWN, "db2": half})
    assert not plan["done"] and plan["wait_for"] == "received"
