# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Restore mode as the configuration code meets it: is it on, and what a run that writes the
environment does about it.

Restore mode (LOCAL_RESTORE=true, playbooks/restore_mode.yml) is a temporary state an operator puts
a server in to repair access. A run that owns the whole environment file (the server role, purge)
would otherwise remove the variable as drift and recreate the container, ending the operator's
temporary login and turning the SSO they are repairing back on. The settings module decides here,
from the file and from what the running container was started with, whether the variable stays.

No Docker, no I/O: the caller reads the file and the container.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import GO_TRUE

RESTORE_VARIABLE = "LOCAL_RESTORE"
POLICIES = ("ignore", "keep", "leave")
ENV_FILE = "the environment file"
RUNNING_CONTAINER = "the running container"


def is_restore_value(value):
    """Whether a LOCAL_RESTORE value turns restore mode on (the server parses Go booleans)."""
    return value is not None and str(value) in GO_TRUE


def container_in_restore_mode(env_list):
    """Whether a container's Config.Env (["KEY=value", ...]) has restore mode on. Only the
    LOCAL_RESTORE entry is looked at; a later entry wins, as in Docker."""
    found = False
    for item in env_list or []:
        key, sep, value = str(item).partition("=")
        if key == RESTORE_VARIABLE:
            found = bool(sep) and is_restore_value(value)
    return found


class RestoreDecision(object):
    """What a settings run does about restore mode.

    requested: the settings to plan with (LOCAL_RESTORE added or removed as the policy says).
    found_in: where restore mode is on before the run (ENV_FILE, RUNNING_CONTAINER).
    kept: restore mode is on and stays on because of the policy `keep`.
    leaving: restore mode is on and this run turns it off (policy `leave`).
    running_matches: the variable's value in the file is (or is made) what the container runs
      with, so writing it alone needs no recreate."""

    def __init__(self, requested, found_in, kept, leaving, running_matches):
        self.requested = requested
        self.found_in = found_in
        self.kept = kept
        self.leaving = leaving
        self.running_matches = running_matches

    @property
    def was_on(self):
        return bool(self.found_in)


def decide_restore_mode(file_values, requested, policy="ignore", running=False):
    """The settings to plan with, given the file's current values, the requested settings, the
    policy and whether the running container is in restore mode.

    - ignore: LOCAL_RESTORE is a variable like any other (purge removes it).
    - keep: while restore mode is on (in the file or in the running container), LOCAL_RESTORE stays
      as it is in the file, or is written as `true` when only the container has it, so the file
      describes what runs and nothing is recreated because of it.
    - leave: LOCAL_RESTORE is removed (the run ends restore mode).
    A LOCAL_RESTORE named in `requested` is the caller's explicit choice and always wins."""
    if policy not in POLICIES:
        raise ValueError("restore_mode must be one of %s, not %r" % (", ".join(POLICIES), policy))
    requested = dict(requested or {})
    file_value = file_values.get(RESTORE_VARIABLE)
    found_in = [where for where, on in ((ENV_FILE, is_restore_value(file_value)), (RUNNING_CONTAINER, running)) if on]
    explicit = RESTORE_VARIABLE in requested
    kept = leaving = False
    if not explicit and found_in and policy == "keep":
        requested[RESTORE_VARIABLE] = file_value if is_restore_value(file_value) else "true"
        kept = True
    elif not explicit and policy == "leave":
        requested[RESTORE_VARIABLE] = None
        leaving = bool(found_in)
    # Kept for a container that runs in restore mode: the file only catches up with it.
    running_matches = kept and running
    return RestoreDecision(requested, found_in, kept, leaving, running_matches)


def restart_needed(changed_keys, decision, running_restore_after):
    """Whether the container must be recreated for the file to take effect.

    The variables that changed in the file, except LOCAL_RESTORE when it was only brought in line
    with the running container; plus the case where the file never had it but the running container
    does and the run turns it off (nothing in the file changes, yet the container must)."""
    keys = [key for key in changed_keys if not (key == RESTORE_VARIABLE and decision.running_matches)]
    if keys:
        return True
    return RUNNING_CONTAINER in decision.found_in and not running_restore_after
