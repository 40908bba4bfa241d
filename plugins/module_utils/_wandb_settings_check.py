# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The settings module's rules, asked by a role before anything changes.

A role checks its inputs in tasks/validate.yml; for W&B variables it asks the same catalogue,
validators and cross-field rules the settings module applies when it writes the file (through the
`wandb_setting` test and the `wandb_settings_problems` filter), so a role never accepts a value
the module refuses later. Nothing here is a rule of its own: it only calls the catalogue's and
the rules' functions and words the answers for a role variable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    CATALOGUE_BY_NAME,
    SettingError,
    check_key,
    normalize_value,
    secret_fragments,
    value_text,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_rules import cross_field_findings
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import MASK


class SettingsCheckError(ValueError):
    """The check was asked wrongly (a role's mistake, not the user's value)."""


def known_setting(name):
    """The catalogue's entry for `name`; a name it does not know is an error, not a pass."""
    if not isinstance(name, str) or name not in CATALOGUE_BY_NAME:
        close = difflib.get_close_matches(str(name).upper(), list(CATALOGUE_BY_NAME), n=1, cutoff=0.6)
        hint = " (did you mean %s?)" % close[0] if close else ""
        raise SettingsCheckError("%r is not a W&B variable the settings catalogue knows%s" % (name, hint))
    return CATALOGUE_BY_NAME[name]


def setting_problem(name, value):
    """Why the settings module would refuse `value` for the catalogue variable `name`, or None.

    None (which the module reads as "remove the variable") is not a value, so it is refused here."""
    known_setting(name)
    if value is None:
        return "is not set"
    try:
        normalize_value(name, value)
    except SettingError as exc:
        return str(exc)
    return None


def _fragments(settings):
    """Every secret the values hold, as written and decoded: masked out of every message."""
    found = set()
    for key, value in settings.items():
        if value is None or not isinstance(key, str):
            continue
        try:
            found |= secret_fragments(key, value_text(value))
        except SettingError:
            continue
    return sorted((fragment for fragment in found if fragment), key=len, reverse=True)


def _mask(message, fragments):
    for fragment in fragments:
        message = message.replace(fragment, MASK)
    return message


def _normalized(environment):
    """The environment as the module would write it; values it would refuse are left out (they are
    reported by their own check) and null removes a variable, as in the module."""
    values = {}
    for key, value in environment.items():
        if value is None:
            continue
        try:
            check_key(key)
            values[key] = normalize_value(key, value)
        except SettingError:
            continue
    return values


def settings_problems(settings, source="", labels=None, environment=None):
    """{KEY: [message, ...]} for every variable of `settings` the settings module would refuse.

    settings: {KEY: value}, as a role passes them to the module (null removes a variable).
    source: the role variable holding them, for the messages (wandb_server_settings.OIDC_ISSUER).
    labels: {KEY: role variable} for keys set by a variable of their own (HOST: wandb_server_host_url).
    environment: the whole environment the settings end up in, for the rules between variables
      (OIDC_ISSUER needs OIDC_CLIENT_ID, ...), its values over the input's. A rule is reported when it
      involves a key of `settings`, as the module reports the rules involving the keys it is given.
    Messages name the variable and the rule, as the module words them, and never hold a secret.
    """
    if not isinstance(settings, dict):
        raise SettingsCheckError("expects a dict of W&B variable names to values, got %s" % type(settings).__name__)
    if environment is None:
        environment = {}
    if not isinstance(environment, dict):
        raise SettingsCheckError("environment must be a dict of W&B variable names to values")
    # What the module is given: the input, with what the environment sets over it.
    merged = dict(settings)
    merged.update(environment)
    environment = merged
    labels = labels or {}
    # The input's own values too: a key the environment overrides is still checked as given.
    fragments = sorted(set(_fragments(environment)) | set(_fragments(settings)), key=len, reverse=True)
    problems = {}

    def label(key):
        if key in labels:
            return labels[key]
        return "%s.%s" % (source, key) if source else key

    def add(key, rule):
        problems.setdefault(key, []).append(_mask("%s: %s" % (label(key), rule), fragments))

    for key in sorted(settings, key=str):
        value = settings[key]
        shown = key if isinstance(key, str) and len(key) <= 80 and key.isprintable() else repr(key)[:80]
        try:
            check_key(key)
            if value is not None:
                normalize_value(key, value)
        except SettingError as exc:
            add(shown, str(exc))

    named = set(key for key in settings if isinstance(key, str))
    for severity, keys, message in cross_field_findings(_normalized(environment)):
        involved = [key for key in keys if key in named]
        if severity != "error" or not involved:
            continue
        subject = keys[0] if keys[0] in named else involved[0]
        prefix = "%s: " % subject
        add(subject, message[len(prefix) :] if message.startswith(prefix) else message)
    return problems
