# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the redis role reads from the current configuration files, and which data node is primary.

With Sentinel, replication is runtime state: Sentinel moves the primary and rewrites the data
nodes' and its own files (CONFIG REWRITE). The role therefore reads the files it wrote (what the
running servers use until a restart) and asks the sentinels and the data nodes; `elect_primary`
turns what every host learned into one answer, the same on every host.

The configuration files hold passwords: no message here repeats a file's content.

Private to the collection: used by the redis_config_state and redis_primary filter plugins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    ansible_unique,
    jinja_int,
    strict_int,
)

DEFAULT_SERVER_PORT = 6379
DEFAULT_SENTINEL_PORT = 26379

# A value as redis.conf writes it: printable, no space, optionally in double quotes.
_QUOTED = r'"?([!#-~]+)"?$'


def _first(pattern, text, default=""):
    """The first match of `pattern` at a line of `text` (as Ansible's regex_findall(multiline=True) | first)."""
    found = re.findall(pattern, text, re.MULTILINE)
    return found[0] if found else default


def _text(value, field):
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        # Only the type: the value is a configuration file with passwords in it.
        raise FleetInputError("%s must be the text of the file, got %s" % (field, type(value).__name__))
    return value


def _cli(cli, port, text, ca_args, user=""):
    """redis-cli arguments reaching the server as `text` configures it: the plain port, else the TLS port."""
    argv = [cli, "-h", "127.0.0.1"]
    if port > 0:
        argv += ["-p", str(port)]
    else:
        argv += ["-p", _first(r"^tls-port ([0-9]+)$", text, "0"), *ca_args]
    if user:
        argv += ["--user", user]
    return [*argv, "--askpass"]


def config_state(server_text, sentinel_text, marker, master_name, cli, ca_file):
    """What the current data node and sentinel files say, for the role's queries and its next files.

    Returns the managed-settings digests the files carry (empty when there is no marker), the
    sentinel's identity and epochs, where the data node's file replicates from ("ADDRESS PORT",
    the last replicaof line), how to reach each with redis-cli (argv ending in --askpass) and the
    password to give it on stdin, and the master name the sentinel monitors.
    """
    server_text = _text(server_text, "the data node configuration")
    sentinel_text = _text(sentinel_text, "the sentinel configuration")
    for value, field in ((marker, "marker"), (master_name, "master_name"), (cli, "cli"), (ca_file, "ca_file")):
        if not isinstance(value, str) or not value:
            raise FleetInputError("%s must be non-empty text" % field)
    ca_args = ["--tls", "--cacert", ca_file]
    digest = "^" + re.escape(marker) + "([0-9a-f]{64})$"
    server_port = jinja_int(_first(r"^port ([0-9]+)$", server_text, DEFAULT_SERVER_PORT))
    sentinel_port = jinja_int(_first(r"^port ([0-9]+)$", sentinel_text, DEFAULT_SENTINEL_PORT))
    server_user = _first(r"^masteruser " + _QUOTED, server_text)
    replicaof = re.findall(r"^replicaof ([!-~]+) ([0-9]+)$", server_text, re.MULTILINE)
    return {
        "server_current_digest": _first(digest, server_text),
        "sentinel_current_digest": _first(digest, sentinel_text),
        "sentinel_current_myid": _first(r"^sentinel myid ([0-9a-f]{40})$", sentinel_text),
        "sentinel_current_epoch": _first(r"^sentinel current-epoch ([0-9]+)$", sentinel_text),
        "sentinel_config_epoch": _first(
            r"^sentinel config-epoch " + re.escape(master_name) + r" ([0-9]+)$", sentinel_text
        ),
        "file_replicaof": " ".join(replicaof[-1]) if replicaof else "",
        "server_cli_now": _cli(cli, server_port, server_text, ca_args, server_user),
        "server_password_now": _first(r"^masterauth " + _QUOTED, server_text),
        "sentinel_cli_now": _cli(cli, sentinel_port, sentinel_text, ca_args),
        "sentinel_password_now": _first(r"^requirepass " + _QUOTED, sentinel_text),
        "sentinel_master_now": _first(r"^sentinel monitor ([!-~]+) ", sentinel_text, master_name),
    }


def _address_port(answer, where):
    parts = answer.split(" ")
    if len(parts) != 2:
        raise FleetInputError("%s must be 'ADDRESS PORT', got %r" % (where, answer))
    return parts[0]


def _node_address(host, facts):
    address = facts.get(host, {}).get("__wandb_redis_node_address")
    if address is None:
        raise FleetInputError(
            "__wandb_redis_node_address of %s is not known: %s must be in the play (the redis role sets it)"
            % (host, host)
        )
    return address


def _host_of(address, servers, facts):
    """The data node that `address` names: one of its IP addresses or the address the role gives it."""
    for host in servers:
        host_facts = facts.get(host, {})
        ansible_facts = host_facts.get("ansible_facts") or {}
        known = list(ansible_facts.get("all_ipv4_addresses") or []) + list(
            ansible_facts.get("all_ipv6_addresses") or []
        )
        known.append(host_facts.get("__wandb_redis_node_address", host))
        if address in known:
            return host
    return ""


def _result(source, host, address, port, answers):
    return {
        "source": source,
        "host": host,
        "address": address,
        "port": port,
        "unsettled": source == "none",
        "answers": answers,
    }


def elect_primary(servers, sentinels, facts, quorum, port, inventory_primary=""):
    """Which data node is the primary now.

    In this order: what a quorum of sentinels says; else the one data node (among those the role
    configured) that runs as primary; else where the replicas' files point (Sentinel rewrites them
    at a failover); else, on the first run, `inventory_primary` or the first server. When the
    sentinels answer but no quorum agrees (a failover in progress, a split), the answer is
    unsettled: the role does not guess.

    `facts` maps hosts to what the role learned about them: __wandb_redis_said_primary (a sentinel's
    "ADDRESS PORT"), __wandb_redis_live_role, __wandb_redis_file_replicaof,
    __wandb_redis_node_address, and ansible_facts with the hosts' addresses. `port` is always the
    one returned: all data nodes listen on it, and it may be changing in this very run.
    """
    servers = ansible_unique(servers)
    if not servers:
        raise FleetInputError("the data nodes (wandb_redis_servers) must name at least one host")
    quorum = strict_int(quorum, "quorum (wandb_redis_sentinel_quorum)")
    if quorum < 1:
        raise FleetInputError("quorum (wandb_redis_sentinel_quorum) must be at least 1, got %d" % quorum)
    port = jinja_int(port)
    answers = [facts.get(host, {}).get("__wandb_redis_said_primary", "") for host in ansible_unique(sentinels)]
    answers = [answer for answer in answers if answer]
    best, best_count = "", 0
    for answer in ansible_unique(answers):
        count = answers.count(answer)
        if count > best_count:
            best, best_count = answer, count
    live_primaries = [host for host in servers if facts.get(host, {}).get("__wandb_redis_live_role") == "master"]
    file_targets = ansible_unique(
        [
            target
            for target in (facts.get(host, {}).get("__wandb_redis_file_replicaof", "") for host in servers)
            if target
        ]
    )
    if best_count >= quorum:
        address = _address_port(best, "the sentinels' answer")
        return _result("sentinels", _host_of(address, servers, facts), address, port, answers)
    if answers:
        return _result("none", "", "", 0, answers)
    if len(live_primaries) == 1:
        host = live_primaries[0]
        return _result("data nodes", host, _node_address(host, facts), port, answers)
    if len(file_targets) == 1:
        address = _address_port(file_targets[0], "__wandb_redis_file_replicaof")
        return _result("files", _host_of(address, servers, facts), address, port, answers)
    host = inventory_primary or servers[0]
    return _result("inventory", host, _node_address(host, facts), port, answers)
