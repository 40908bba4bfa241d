# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The W&B server's environment file: its lines, the plan of a change, reading and writing it.

Shared by the settings and restore_mode modules so both change the file the same way. The file is
read by `docker run --env-file` and by community.docker.docker_container's `env_file`, whose parsers
differ (docker-py strips each line, the Docker CLI does not, and docker-py refuses lines without
'='), so the rules of the catalogue keep to what both read identically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    KEY_RE,
    SettingsInvalid,
    mask_value,
    normalize_request,
    unknown_key_warning,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_rules import cross_field_findings

DEFAULT_PATH = "/etc/wandb/wandb.env"
NEW_FILE_HEADER = "# W&B server environment (wandb/local), managed by Ansible: wandb_local.fleet.settings"


def path_option():
    """The argument spec entry of `path`, the env file, shared by every module that reads or writes it.

    One name in every module of the action group wandb_local.fleet.wandb, so that one
    `module_defaults: {group/wandb_local.fleet.wandb: {path: ...}}` entry reaches them all.
    `settings_path` is what restore_mode called it first. Documented once, in the doc fragment
    wandb_local.fleet.settings_file."""
    return dict(type="path", default=DEFAULT_PATH, aliases=["settings_path"])


class EnvLine(object):
    __slots__ = ("key", "raw", "value")

    def __init__(self, raw, key=None, value=None):
        self.raw = raw
        self.key = key
        self.value = value

    @property
    def is_comment_or_blank(self):
        stripped = self.raw.strip()
        return not stripped or stripped.startswith("#")


class EnvFile(object):
    """KEY=value lines in their order; comments and lines of any other shape are kept verbatim."""

    def __init__(self, lines, exists=True):
        self.lines = lines
        self.exists = exists

    @classmethod
    def parse(cls, text, exists=True):
        pieces = text.split("\n")
        if pieces and pieces[-1] == "":
            pieces.pop()
        lines = []
        for raw in pieces:
            line = raw.rstrip("\r").lstrip()
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#") and KEY_RE.match(key):
                lines.append(EnvLine(raw, key, value))
            else:
                lines.append(EnvLine(raw))
        return cls(lines, exists)

    def values(self):
        env = {}
        for line in self.lines:
            if line.key is not None:
                env[line.key] = line.value
        return env

    def odd_line_numbers(self):
        return [n for n, line in enumerate(self.lines, 1) if line.key is None and not line.is_comment_or_blank]

    def render(self):
        if not self.lines:
            return ""
        return "\n".join(line.raw for line in self.lines) + "\n"

    def apply(self, changes, purge=False):
        """A new EnvFile with changes ({KEY: text or None}) applied; purge drops unnamed variables."""
        lines, written = [], set()
        for line in self.lines:
            if line.key is None:
                if purge and not line.is_comment_or_blank:
                    continue
                lines.append(line)
                continue
            if line.key not in changes:
                if not purge:
                    lines.append(line)
                continue
            value = changes[line.key]
            if value is None or line.key in written:
                continue
            written.add(line.key)
            lines.append(line if line.value == value else EnvLine("%s=%s" % (line.key, value), line.key, value))
        for key in sorted(changes):
            if changes[key] is not None and key not in written:
                lines.append(EnvLine("%s=%s" % (key, changes[key]), key, changes[key]))
        if not self.exists and (not lines or lines[0].raw != NEW_FILE_HEADER):
            lines.insert(0, EnvLine(NEW_FILE_HEADER))
        return EnvFile(lines, exists=True)

    def masked(self, other_values=None):
        """The file as a diff may show it. other_values: the other side of the diff, so that a
        changed secret still shows up as a changed line."""
        shown = []
        for line in self.lines:
            if line.key is None:
                shown.append(line.raw if line.is_comment_or_blank else "# (a line not in KEY=value form, hidden)")
                continue
            text = "%s=%s" % (line.key, mask_value(line.key, line.value))
            if other_values is not None and line.key in other_values:
                other = other_values[line.key]
                if other != line.value and mask_value(line.key, other) == mask_value(line.key, line.value):
                    text += " (secret changed)"
            shown.append(text)
        return "\n".join(shown) + ("\n" if shown else "")


class Plan(object):
    def __init__(self, before, after, requested, warnings):
        self.before = before
        self.after = after
        self.before_values = before.values()
        self.after_values = after.values()
        self.requested = requested
        self.warnings = warnings
        self.before_text = before.render() if before.exists else None
        self.after_text = after.render()
        keys = set(self.before_values) | set(self.after_values)
        self.changed_keys = sorted(k for k in keys if self.before_values.get(k) != self.after_values.get(k))
        self.content_changed = self.before_text != self.after_text

    def diff(self, path):
        return {
            "before": self.before.masked() if self.before.exists else "",
            "after": self.after.masked(self.before_values),
            "before_header": "%s (secrets masked)" % path,
            "after_header": "%s (secrets masked)" % path,
        }


def plan_settings(current_text, requested, purge=False, exists=True):
    """What writing `requested` ({KEY: value or None}) into the file would do.

    Raises SettingsInvalid before anything is decided when a key or value breaks a rule, or when the
    result breaks a cross-field rule involving a key named in `requested` (with purge, the result
    holds only named keys, so every rule applies).
    Cross-field problems that only involve keys left as they were are warnings: the module does not
    refuse to change LOCAL_RESTORE because of an unrelated old mistake.
    """
    normalized = normalize_request(requested)
    before = EnvFile.parse(current_text or "", exists=exists)
    after = before.apply(normalized, purge=purge)
    after_values = after.values()
    named = set(normalized)
    errors, warnings = [], []
    for severity, keys, message in cross_field_findings(after_values):
        if severity == "error" and named.intersection(keys):
            errors.append(message)
        elif severity == "error":
            warnings.append("%s (already in the file, left as is)" % message)
        elif named.intersection(keys):
            warnings.append(message)
    if errors:
        raise SettingsInvalid(errors)
    for key in sorted(normalized):
        warning = unknown_key_warning(key)
        if warning:
            warnings.append(warning)
    odd = after.odd_line_numbers()
    if odd:
        warnings.append(
            "lines %s of the file are not KEY=value; docker_container refuses such a file (purge: true removes them)"
            % ", ".join(str(n) for n in odd)
        )
    return Plan(before, after, normalized, warnings)


# ---------------------------------------------------------------------------------------------
# Reading and writing on the managed host
# ---------------------------------------------------------------------------------------------


class FileProblem(Exception):
    pass


def read_env_file(path, missing_directory_ok=False):
    """(text, exists). The file must be UTF-8; a missing file reads as empty.

    A missing directory is an error, unless `missing_directory_ok` (check mode: the real run's
    earlier task creates the directory, so the file would be new)."""
    if os.path.isdir(path):
        raise FileProblem("%s is a directory, not an env file" % path)
    if not os.path.exists(path):
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory) and not missing_directory_ok:
            raise FileProblem("directory %s does not exist (create it before writing %s)" % (directory, path))
        return "", False
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        raise FileProblem("%s is not UTF-8 text" % path) from None


def write_env_file(module, path, text):
    """Write through a temporary file and AnsibleModule.atomic_move: readers see the old file or
    the new one, never half of it.

    atomic_move gives a new destination umask permissions (0644 with the usual umask) after the
    rename; creating the destination 0600 first makes it copy that instead, so secrets are never
    readable by others, not even for a moment."""
    directory = os.path.dirname(path) or "."
    created = False
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        created = True
    fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".wandb-env-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        module.atomic_move(tmp_path, path)
    except Exception:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        if created and os.path.exists(path) and os.path.getsize(path) == 0:
            os.unlink(path)
        raise
