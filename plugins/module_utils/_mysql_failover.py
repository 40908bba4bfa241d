# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether playbooks/mysql-failover.yml may promote a replica, decided before anything changes.

The inputs are the inventory's topology of the MySQL group and what each host's server said just
now (the mysql role's `replication-state` entry point). A refusal raises FleetInputError with the
operator's next step; the run then changes nothing. The two refusals that guard the data:

- the primary still answers and takes writes: promoting now would leave W&B two writable primaries
  (a planned switchover, wandb_mysql_failover_planned, makes the primary read-only first);
- the replica cannot apply what it received (its SQL thread stopped): promoted, it would lack rows
  the server had written. How long it may take to apply is bounded in the playbook
  (wandb_mysql_failover_apply_timeout), with MySQL's own WAIT_FOR_EXECUTED_GTID_SET.

Private to the collection: used by the mysql_failover_plan filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError, ansible_bool

RUNBOOK = 'docs/high-availability.md, "MySQL primary failure"'


def _topology(inventory):
    """(primary, {replica: its primary}) from {host: {role, primary}} as the inventory has them."""
    if not isinstance(inventory, dict) or not inventory:
        raise FleetInputError("the MySQL group (wandb_mysql) has no host: there is nothing to fail over")
    primaries = [host for host, inputs in inventory.items() if (inputs or {}).get("role") == "primary"]
    if len(primaries) != 1:
        raise FleetInputError(
            "a failover needs exactly one host of wandb_mysql with wandb_mysql_replication_role=primary in the "
            "inventory, found %d (%s)" % (len(primaries), ", ".join(primaries) or "none")
        )
    replicas = dict(
        (host, (inputs or {}).get("primary"))
        for host, inputs in inventory.items()
        if (inputs or {}).get("role") == "replica"
    )
    return primaries[0], replicas


def _target(primary, replicas, target, hosts):
    candidates = sorted(host for host, source in replicas.items() if source == primary)
    if target:
        if target not in hosts:
            raise FleetInputError(
                "wandb_mysql_failover_to must be a host of wandb_mysql (%s), got %r" % (", ".join(hosts), target)
            )
        if target not in candidates:
            raise FleetInputError(
                "wandb_mysql_failover_to: %s is not a replica of the primary %s in the inventory (its replicas: %s)"
                % (target, primary, ", ".join(candidates) or "none")
            )
        return target
    if len(candidates) != 1:
        raise FleetInputError(
            "the primary %s has %d replicas in the inventory (%s): name the one to promote with "
            "wandb_mysql_failover_to" % (primary, len(candidates), ", ".join(candidates) or "none")
        )
    return candidates[0]


def _answers(state):
    return isinstance(state, dict) and ansible_bool(state.get("answers", False), "answers")


def _why_silent(state):
    if not isinstance(state, dict):
        return "the host is unreachable"
    return state.get("error") or "its MySQL server does not answer"


def _check_target(target, primary, state):
    if not _answers(state):
        raise FleetInputError("%s cannot be promoted: %s. Nothing was changed." % (target, _why_silent(state)))
    marker = state.get("failover_marker") or {}
    replica = state.get("replica") or {}
    if marker.get("role") == "primary" and not replica and not ansible_bool(state.get("read_only", True), "read_only"):
        # A rerun after the promotion (the server's wiring failed, say): nothing to promote, the rest
        # of the playbook still runs.
        return True
    if not replica:
        raise FleetInputError(
            "%s replicates from nothing now (SHOW REPLICA STATUS is empty), though the inventory has it replicate "
            "from %s. Nothing was changed." % (target, primary)
        )
    if replica.get("sql_running") != "Yes":
        raise FleetInputError(
            "%s cannot apply what it received from %s: its replication SQL thread is %s (%s). Promoted, it would "
            "lack transactions the server wrote; fix replication (SHOW REPLICA STATUS) and run again. Nothing was "
            "changed."
            % (
                target,
                primary,
                replica.get("sql_running") or "not running",
                replica.get("last_sql_error") or "no error",
            )
        )
    return False


def failover_plan(inventory, states, target="", planned=False):
    """What mysql-failover.yml does, or FleetInputError saying why it must not.

    `inventory`: {host: {"role": none|primary|replica, "primary": host or None}} of the MySQL group, in
    inventory order. `states`: {host: the host's wandb_mysql_replication_state, or None where the host
    was unreachable}. `target`: wandb_mysql_failover_to ('' to take the primary's only replica).
    `planned`: wandb_mysql_failover_planned.

    Returns {"primary", "target", "done", "planned", "primary_answers", "demote_primary", "wait_for",
    "others"}: `done` says the target was promoted by an earlier run (its marker, writable, no source), so
    only the wiring is left;
    `wait_for` is whose transactions the target must have applied before it is promoted: "primary"
    (its gtid_executed, read after it was made read-only) or "received" (the target's own
    Retrieved_Gtid_Set: the primary is gone, what the replica received is all there is). `others`
    are the primary's other replicas, which keep following the old primary until they are rejoined.
    """
    planned = ansible_bool(planned, "wandb_mysql_failover_planned")
    if target is not None and not isinstance(target, str):
        raise FleetInputError("wandb_mysql_failover_to must be an inventory host name, got %r" % (target,))
    if not isinstance(states, dict):
        raise FleetInputError("the hosts' replication states must be a mapping of host names")
    primary, replicas = _topology(inventory)
    chosen = _target(primary, replicas, target or "", list(inventory))
    done = _check_target(chosen, primary, states.get(chosen))

    primary_state = states.get(primary)
    primary_answers = _answers(primary_state)
    writable = primary_answers and not ansible_bool(primary_state.get("read_only", False), "read_only")
    if not done and planned and not primary_answers:
        raise FleetInputError(
            "a planned switchover (wandb_mysql_failover_planned) needs the primary %s answering, to make it "
            "read-only and wait until %s has all of it: %s. For a failed primary leave "
            "wandb_mysql_failover_planned unset. Nothing was changed." % (primary, chosen, _why_silent(primary_state))
        )
    if not done and writable and not planned:
        raise FleetInputError(
            "the primary %s answers and takes writes: promoting %s now would leave W&B two writable primaries. "
            "If the server cannot reach %s, fix that network, or stop MySQL on %s first; to move the primary "
            "on purpose set wandb_mysql_failover_planned=true (it makes %s read-only first). Nothing was changed."
            % (primary, chosen, primary, primary, primary)
        )
    return {
        "primary": primary,
        "target": chosen,
        "done": done,
        "planned": planned,
        "primary_answers": primary_answers,
        "demote_primary": planned and not done,
        "wait_for": "primary" if primary_answers else "received",
        "others": sorted(host for host, source in replicas.items() if source == primary and host != chosen),
    }
