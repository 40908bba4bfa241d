# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The settings module's run, and the module glue restore_mode shares with it.

The file itself is handled in _wandb_env_file (lines, plan, reading and writing), the variables
and their rules in _wandb_settings_catalogue and _wandb_settings_rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import (
    FileProblem,
    plan_settings,
    read_env_file,
    write_env_file,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_restore_state import (
    RESTORE_VARIABLE,
    decide_restore_mode,
    is_restore_value,
    restart_needed,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    SettingError,
    SettingsInvalid,
    is_secret_key,
    mask_value,
    secret_fragments,
    value_text,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import MASK


def narrow_no_log_values(module, requested):
    """Keep only real secrets in module.no_log_values.

    `settings` is no_log so Ansible never logs the raw dict (journal, -vvv invocation). That also
    registers every value of it, and Ansible then masks any output that merely contains 'true' or a
    host name, which makes the (already masked) diff and messages unreadable. The secrets, judged by
    variable name and by URL userinfo, stay registered as a backstop."""
    if not isinstance(requested, dict):
        return
    keep = set()
    everything = set()
    for key, value in requested.items():
        if value is None or isinstance(value, (dict, list)):
            continue
        try:
            text = value_text(value)
        except SettingError:
            continue
        everything.add(text)
        everything.add(str(value))
        keep |= secret_fragments(str(key), text)
    module.no_log_values.difference_update(everything - keep)
    module.no_log_values.update(keep)


def masked_settings(requested):
    """The settings option as the result's invocation may show it: masked like the diff."""
    if not isinstance(requested, dict):
        return MASK
    shown = {}
    for key, value in requested.items():
        if value is None:
            shown[key] = None
        elif isinstance(value, bool) and not is_secret_key(str(key)):
            shown[key] = value
        else:
            try:
                shown[key] = mask_value(str(key), value_text(value))
            except SettingError:
                shown[key] = MASK
    return shown


def result_invocation(module, option="settings"):
    """Ansible would return module.params as they are; the settings dict is shown masked instead."""
    module_args = dict(module.params)
    if option in module_args:
        module_args[option] = masked_settings(module_args[option])
    return {"module_args": module_args}


def register_file_secrets(module, *envs):
    for env in envs:
        for key, value in env.items():
            module.no_log_values.update(secret_fragments(key, value))


def file_attributes(path, owner=None, group=None, mode=None):
    return {
        "path": path,
        "owner": owner,
        "group": group,
        "mode": mode,
        "attributes": None,
        "secontext": [None, None, None],
    }


def apply_plan(module, path, plan, file_args, result):
    """Write the planned content (unless check mode) and fix owner/group/mode.

    Returns whether anything changed (content or attributes)."""
    changed = plan.content_changed
    if changed and not module.check_mode:
        try:
            write_env_file(module, path, plan.after_text)
        except (IOError, OSError) as exc:
            module.fail_json(msg="Could not write %s: %s" % (path, exc), **result)
    if os.path.exists(path):
        diff = {"before": {}, "after": {}}
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff, expand=False) or changed
    return changed


def verify_oidc_issuer(issuer, open_url, timeout=15):
    """Fetch the issuer's discovery document; return None when it is fine, else the problem."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = open_url(url, method="GET", timeout=timeout, validate_certs=True, follow_redirects="safe")
        body = response.read()
    except Exception as exc:  # urllib, socket and ssl errors all mean the same here
        return "OIDC_ISSUER: the discovery document %s is unreachable: %s" % (url, exc)
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "OIDC_ISSUER: %s did not answer with JSON" % url
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        named = document.get("issuer") if isinstance(document, dict) else None
        return "OIDC_ISSUER: %s names issuer %r, not %r (they must match exactly)" % (url, named, issuer)
    return None


def run_settings(module, open_url):
    """The settings module's whole run (see plugins/modules/settings.py for the options)."""
    params = module.params
    path = params["path"]
    requested = params["settings"] or {}
    narrow_no_log_values(module, requested)
    result = {"changed": False, "changed_keys": [], "restart_required": False}
    result["invocation"] = result_invocation(module)
    try:
        text, exists = read_env_file(path, missing_directory_ok=module.check_mode)
    except (FileProblem, IOError, OSError) as exc:
        module.fail_json(msg="settings: %s" % exc, **result)
    try:
        current = plan_settings(text, {}, exists=exists).before_values
        decision = decide_restore_mode(current, requested, params["restore_mode"], params["restore_mode_running"])
        plan = plan_settings(text, decision.requested, purge=params["purge"], exists=exists)
    except SettingsInvalid as exc:
        module.fail_json(msg="Invalid settings, %s left unchanged: %s" % (path, exc), errors=exc.errors, **result)
    register_file_secrets(module, plan.before_values, plan.after_values)
    restore_on = is_restore_value(plan.after_values.get(RESTORE_VARIABLE))
    result["restore_mode"] = {
        "enabled": restore_on,
        "found_in": decision.found_in,
        "kept": decision.kept,
        "left": decision.leaving,
    }
    for warning in plan.warnings:
        if not (decision.kept and warning.startswith(RESTORE_VARIABLE + ":")):
            module.warn(warning)
    if decision.kept:
        module.warn(
            "Restore mode is on (LOCAL_RESTORE, in %s) and is kept: SSO stays off and the temporary login "
            "stays valid until restore mode is left on purpose (restore_mode: leave, or the restore_mode "
            "module with state=disabled)" % " and ".join(decision.found_in)
        )
    if params["verify_oidc"]:
        issuer = plan.after_values.get("OIDC_ISSUER")
        if not issuer:
            module.warn("verify_oidc: OIDC_ISSUER is not set, nothing to verify")
        else:
            problem = verify_oidc_issuer(issuer, open_url)
            if problem:
                module.fail_json(msg="%s; %s left unchanged" % (problem, path), **result)
    file_args = file_attributes(path, params["owner"], params["group"], params["mode"])
    result["changed"] = apply_plan(module, path, plan, file_args, result)
    result["changed_keys"] = plan.changed_keys
    result["restart_required"] = restart_needed(plan.changed_keys, decision, restore_on)
    if module._diff:
        result["diff"] = plan.diff(path)
    module.exit_json(**result)
