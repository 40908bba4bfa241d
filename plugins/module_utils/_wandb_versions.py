# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""W&B release versions and the version preflight that site.yml and upgrade.yml share.

Tags of wandb/local are release versions (0.62.2, 0.83.0; a `v` prefix is accepted). They are
ordered as Semantic Versioning 2.0 orders them: numerically by MAJOR.MINOR.PATCH (a missing part
counts as 0), a pre-release (`0.84.0-rc1`) before its release, build metadata (`+...`) ignored.

Any other tag (`latest`, `nightly`, a mirror's own name) is not a version: nothing can say whether
deploying it is an upgrade or a downgrade, so the preflight refuses such a target (a mirror that
retags must keep the version in the tag). A running container whose tag is no version is reported
and left out of the comparison; the database's own record still counts.

The schema the database records is read with a query that returns one row: the stand-in's
`version` (a release version, compared as one), or golang-migrate's `version dirty` (a migration
number, which names no release: only its dirty flag is used; a dirty schema means a migration
failed half-way and no server starts until a backup is restored).

Private to the collection: used by the upgrade_preflight filter plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_VERSION = re.compile(
    r"^v?(?P<core>[0-9]+(?:\.[0-9]+){0,2})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def parse_version(tag):
    """A sort key for a release tag, or None when the tag is not a version."""
    match = _VERSION.match(str(tag if tag is not None else "").strip())
    if not match:
        return None
    core = [int(part) for part in match.group("core").split(".")]
    core += [0] * (3 - len(core))
    pre = match.group("pre")
    if pre is None:
        # A release sorts after every pre-release of the same core.
        return (tuple(core), (1,))
    identifiers = []
    for part in pre.split("."):
        # Numeric identifiers sort before alphanumeric ones, numerically among themselves.
        identifiers.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return (tuple(core), (0, tuple(identifiers)))


def is_version(tag):
    return parse_version(tag) is not None


def compare_versions(a, b):
    """-1, 0 or 1; raises ValueError when either is not a version."""
    key_a, key_b = parse_version(a), parse_version(b)
    if key_a is None or key_b is None:
        raise ValueError("not a release version: %r" % (a if key_a is None else b))
    return (key_a > key_b) - (key_a < key_b)


def image_tag(image):
    """The tag of an image reference (registry:5000/wandb/local:0.83.0 -> 0.83.0); '' without one."""
    image = str(image or "").split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def parse_schema(raw):
    """{'raw', 'version' (a release version or None), 'migration' (int or None), 'dirty' (bool)} of the
    schema query's answer; None when the database records nothing yet."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    words = text.split()
    first = words[0]
    dirty = len(words) > 1 and words[1].lower() in ("1", "true", "t", "yes")
    result = {"raw": text, "version": None, "migration": None, "dirty": dirty}
    if first.isdigit() and len(words) > 1:
        # golang-migrate: a migration number and the dirty flag.
        result["migration"] = int(first)
    elif is_version(first):
        result["version"] = first
    elif first.isdigit():
        result["migration"] = int(first)
    return result


def withdrawn_entry(version, withdrawn):
    """The entry of the withdrawn list that names this version ({version, reason}), or None."""
    key = parse_version(version)
    for entry in withdrawn or ():
        if isinstance(entry, dict):
            listed, reason = entry.get("version"), entry.get("reason", "")
        else:
            listed, reason = entry, ""
        if (key is not None and parse_version(listed) == key) or str(listed) == str(version):
            return {"version": str(listed), "reason": str(reason or "")}
    return None


def newest(versions):
    """The newest release version of a list (others are skipped), or None."""
    found = [v for v in versions if is_version(v)]
    if not found:
        return None
    return max(found, key=parse_version)


def preflight(
    target, running=(), schema=None, withdrawn=(), allow_downgrade=False, downgrade_backup="", target_label=""
):
    """What the version preflight decides.

    target: the tag to deploy; running: the tags the server hosts' containers have now; schema: the
    raw answer of the schema query (None: not read); withdrawn: [{version, reason}]; allow_downgrade
    and downgrade_backup: the operator's override (both needed).

    Returns {target, running, schema, direction, problems, notes}. direction is 'install' (nothing
    runs and the database records no version), 'same', 'upgrade' or 'downgrade'. problems empty means go.
    """
    label = target_label or "wandb_server_image_tag"
    target = str(target if target is not None else "").strip()
    running = [str(tag) for tag in running or () if str(tag or "").strip()]
    problems, notes = [], []
    parsed = parse_schema(schema)
    result = {
        "target": target,
        "running": newest(running),
        "schema": parsed,
        "direction": "install",
        "problems": problems,
        "notes": notes,
    }
    if not is_version(target):
        problems.append(
            "%s %r is not a release version (MAJOR.MINOR.PATCH, for example 0.83.0): the preflight cannot tell an "
            "upgrade from a downgrade, and W&B does not support downgrades. Pin the release (a mirror that retags "
            "must keep the version in the tag)." % (label, target)
        )
        return result
    listed = withdrawn_entry(target, withdrawn)
    if listed:
        problems.append(
            "W&B %s is on the collection's list of releases not to install%s: choose another release "
            "(docs/upgrade.md, withdrawn releases)." % (target, " (%s)" % listed["reason"] if listed["reason"] else "")
        )
    unversioned = [tag for tag in running if not is_version(tag)]
    if unversioned:
        notes.append(
            "running tag %s is no release version and is left out of the comparison"
            % ", ".join(sorted(set(unversioned)))
        )
    newer = []
    if result["running"] is not None:
        order = compare_versions(target, result["running"])
        result["direction"] = "same" if order == 0 else "upgrade" if order > 0 else "downgrade"
        if order < 0:
            newer.append("the server runs %s" % result["running"])
    if parsed is None:
        notes.append("the database records no schema version" if schema is not None else "schema version not read")
    else:
        if parsed["version"] is not None:
            if compare_versions(target, parsed["version"]) < 0:
                newer.append("the database schema was written by %s" % parsed["version"])
                result["direction"] = "downgrade"
            elif result["direction"] == "install":
                same = compare_versions(target, parsed["version"]) == 0
                result["direction"] = "same" if same else "upgrade"
        else:
            notes.append(
                "schema migration %s names no release: only its dirty flag is checked" % parsed["migration"]
                if parsed["migration"] is not None
                else "schema %r names no release" % parsed["raw"]
            )
        if parsed["dirty"]:
            problems.append(
                "the database schema is dirty (%s): a migration failed half-way and no server version starts on it. "
                "Restore the backup taken before that upgrade (playbooks/restore.yml) first." % parsed["raw"]
            )
    if newer:
        if allow_downgrade and str(downgrade_backup or "").strip():
            notes.append(
                "downgrade to %s allowed (wandb_upgrade_allow_downgrade) with backup %s to restore"
                % (target, downgrade_backup)
            )
        else:
            problems.append(
                "%s %s is older than what this site has: %s. W&B does not support downgrades (the newer schema stays "
                "in the database and the older server refuses it), so nothing was changed. To go back to %s, restore "
                "a backup written by %s or older: set wandb_upgrade_allow_downgrade=true and wandb_upgrade_backup=<id>."
                % (label, target, "; ".join(newer), target, target)
            )
    return result
