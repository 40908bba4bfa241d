# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The statements of a MinIO policy in a form that compares as sets.

MinIO returns a policy with its lists reordered and single values unwrapped, so the minio role
compares statements with each list sorted (as Jinja's `sort` does: text without regard to case).

Private to the collection: used by the minio_policy_statements filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError


def _sorted(values):
    return sorted(values, key=lambda value: value.lower() if isinstance(value, str) else value)


def _as_list(value, field):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return _sorted(value)
    raise FleetInputError("%s of a policy statement must be text or a list, got %s" % (field, type(value).__name__))


def policy_statements(mc_output):
    """[{Effect, Condition, Action (sorted), Resource (sorted)}] of `mc admin policy info --json` output.

    A missing or empty policy has no statements; a missing Effect is '', a missing Condition {}.
    """
    if isinstance(mc_output, (bytes, str)):
        try:
            mc_output = json.loads(mc_output)
        except ValueError:
            raise FleetInputError("the output of mc admin policy info is not JSON") from None
    if not isinstance(mc_output, dict):
        raise FleetInputError("the output of mc admin policy info must be a JSON object")
    info = mc_output.get("policyInfo") or {}
    policy = (info.get("Policy") if isinstance(info, dict) else None) or {}
    if not isinstance(policy, dict):
        raise FleetInputError("policyInfo.Policy must be a JSON object, got %s" % type(policy).__name__)
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(item, dict) for item in statements):
        raise FleetInputError("policyInfo.Policy.Statement must be a list of JSON objects")
    return [
        {
            "Effect": statement.get("Effect", ""),
            "Condition": statement.get("Condition", {}),
            "Action": _as_list(statement.get("Action"), "Action"),
            "Resource": _as_list(statement.get("Resource"), "Resource"),
        }
        for statement in statements
    ]
