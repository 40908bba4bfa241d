# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The MinIO cluster layout the minio role checks and writes: node names, drives, MINIO_VOLUMES.

MinIO describes a cluster as one pattern, http://minio{1...4}:9000/data{1...2}, and only that form
can later grow by another pool, so the nodes' names must form one numbered series. The erasure-set
arithmetic is MinIO's own (cmd/endpoint-ellipses.go): set sizes 2..16 that divide the drive count
and fit the number of nodes (or drives, on one node) symmetrically.

Nothing here decides whether a layout is acceptable: the role's asserts do, from what this returns,
so their messages stay the ones the role documents.

Private to the collection: used by the minio_layout filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    ansible_unique,
)

# The settings every node must share, besides the drives' expansion.
UNIFORM_SETTINGS = ("wandb_minio_drives", "wandb_minio_port", "wandb_minio_tls_mode")
NODE_NAME = "wandb_minio_node_name"
SETTINGS = (NODE_NAME, *UNIFORM_SETTINGS)

_SERIES_RE = re.compile(r"^(.*)[{]([0-9]+)[.]{3}([0-9]+)[}](.*)$")
_NUMBER_RE = re.compile(r"[0-9]+")
_ERASURE_SET_SIZES = range(2, 17)


def _width(low, high):
    """Zero-padded numbers (01...16, or 1...016) keep the width of the padded end; others are plain."""
    return len(high) if ((len(low) > 1 and low.startswith("0")) or high.startswith("0")) else 1


def _expand_drives(drives):
    """/mnt/disk{1...4}/minio -> the four paths; a path without a series is itself."""
    series = _SERIES_RE.findall(drives)
    if len(series) != 1:
        return [drives]
    prefix, first, last, suffix = series[0]
    width = _width(first, last)
    return ["%s%0*d%s" % (prefix, width, number, suffix) for number in range(int(first), int(last) + 1)]


def _node_series(names):
    """(pattern, sequence_ok): minio{1...4} for minio1..minio4, and whether the names form such a series."""
    if len(names) == 1:
        return names[0], True
    shapes = ansible_unique([_NUMBER_RE.sub("#", name) for name in names])
    runs = [_NUMBER_RE.findall(name) for name in names]
    columns = []
    if len(shapes) == 1:
        columns = [j for j in range(len(runs[0])) if len(ansible_unique([run[j] for run in runs])) > 1]
    if len(columns) != 1:
        return names[0], False
    column = columns[0]
    numbers = [run[column] for run in runs]
    values = [int(number) for number in numbers]
    low = numbers[values.index(min(values))]
    high = numbers[values.index(max(values))]
    width = _width(low, high)
    sequence_ok = len(set(values)) == len(names) and max(values) - min(values) + 1 == len(names)
    if any(numbers[k] != "%0*d" % (width, values[k]) for k in range(len(names))):
        sequence_ok = False
    pieces = shapes[0].split("#")
    pattern = pieces[0]
    for k, run in enumerate(runs[0]):
        pattern += ("{%s...%s}" % (low, high) if k == column else run) + pieces[k + 1]
    return pattern, sequence_ok


def _erasure_set_sizes(total, symmetry):
    """The set sizes MinIO would accept: they divide the drive count and fit the nodes (or drives) evenly."""
    if symmetry < 1:
        return []
    return [
        size
        for size in _ERASURE_SET_SIZES
        if total % size == 0
        and ((symmetry > size and symmetry % size == 0) or (symmetry <= size and size % symmetry == 0))
    ]


def _check_settings(settings, where):
    if not isinstance(settings, dict):
        raise FleetInputError("the settings of %s must be a mapping, got %s" % (where, type(settings).__name__))
    for name in SETTINGS:
        if name not in settings:
            raise FleetInputError("%s is missing from the settings of %s" % (name, where))
    for name in (NODE_NAME, "wandb_minio_drives", "wandb_minio_tls_mode"):
        if not isinstance(settings[name], str):
            raise FleetInputError("%s of %s must be text, got %s" % (name, where, type(settings[name]).__name__))


def minio_layout(nodes, this_host, settings, peer_settings, scheme):
    """The layout this host works out for the cluster of `nodes`.

    `settings` are this host's wandb_minio_node_name, wandb_minio_drives, wandb_minio_port and
    wandb_minio_tls_mode; `peer_settings` maps each other node to those of the four its inventory
    sets (what the node would use, as far as this host can tell). Returns the names of the nodes
    (in `nodes` order), the drives of each node, the node pattern, whether the names form a
    series, the drive count, the erasure set sizes MinIO accepts, the settings in which other
    nodes differ from this one ("wandb_minio_port of minio2") and MINIO_VOLUMES.
    """
    if not nodes:
        raise FleetInputError("the node list (wandb_minio__nodes) is empty")
    _check_settings(settings, this_host)
    if scheme not in ("http", "https"):
        raise FleetInputError("scheme must be http or https, got %r" % (scheme,))
    names = []
    not_uniform = []
    for host in nodes:
        if host == this_host:
            names.append(settings[NODE_NAME])
            continue
        peer = peer_settings.get(host, {})
        name = peer.get(NODE_NAME) or host
        if not isinstance(name, str):
            raise FleetInputError("%s of %s must be text, got %s" % (NODE_NAME, host, type(name).__name__))
        names.append(name)
        not_uniform.extend(
            "%s of %s" % (setting, host)
            for setting in UNIFORM_SETTINGS
            if setting in peer and peer[setting] != settings[setting]
        )
    drives = _expand_drives(settings["wandb_minio_drives"])
    pattern, sequence_ok = _node_series(names)
    total = len(names) * len(drives)
    symmetry = len(names) if len(names) > 1 else len(drives)
    if len(names) > 1:
        volumes = "%s://%s:%s%s" % (scheme, pattern, settings["wandb_minio_port"], settings["wandb_minio_drives"])
    else:
        volumes = settings["wandb_minio_drives"]
    return {
        "names": names,
        "drives": drives,
        "node_pattern": pattern,
        "sequence_ok": sequence_ok,
        "total_drives": total,
        "set_sizes": _erasure_set_sizes(total, symmetry),
        "not_uniform": not_uniform,
        "volumes": volumes,
    }
