#!/usr/bin/python
# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: installed_files
short_description: Several small files and their directories, with content, owner and mode, in one round trip
version_added: 0.3.0
description:
  - Makes each of O(files) hold exactly its O(files[].content), with its owner, group and mode, and reports which
    changed. What M(ansible.builtin.copy) does for one file with two or three module runs on the host (a checksum,
    the transfer, the attributes), this does for all of them in one, which is what a rerun of a converged host
    spends its time on when a role installs a certificate, its key and their CA.
  - A changed file is written to a temporary file in the same directory with its owner and mode set, then renamed
    over the old one, so a reader never sees it half written or with the wrong mode.
  - O(directories) are made or corrected first, in the order given, so the files can go into them (a role otherwise
    spends a M(ansible.builtin.file) run per directory on every rerun).
  - Every entry is checked before anything is written, so a bad entry (an unknown user, a bad mode, a missing directory)
    fails naming it and leaves every file as it was. In check mode a missing directory, user or group is one an
    earlier task of a real run would create (a package's system account), so the file is reported as changing.
author:
  - wandb_local.fleet maintainers (@wandb-local)
options:
  directories:
    description:
      - Directories, each made when missing and given its owner, group and mode, before any file is written, in the
        order given. Like M(ansible.builtin.file) with C(state=directory), without C(recurse), a missing parent is
        made too, with the same owner, group and mode.
      - At least one of O(directories) and O(files) is given.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the directory.
        type: path
        required: true
      mode:
        description: The mode, as an octal string such as V('0750').
        type: str
        required: true
      owner:
        description: The owning user's name. Unset keeps an existing directory's owner (root for a new one).
        type: str
      group:
        description: The owning group's name. Unset keeps an existing directory's group (root's group for a new one).
        type: str
  files:
    description: The files.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path of the file. Its directory must exist or be one of O(directories) (in check mode
          a missing one means the file would be created).
        type: path
        required: true
      content:
        description:
          - The exact content (text, written as UTF-8). Pass file contents read on the controller with
            C(lookup('ansible.builtin.file', path, rstrip=false)), so a trailing newline is kept.
          - Exactly one of O(files[].content) and O(files[].secret_content) is given.
        type: str
      secret_content:
        description:
          - The content of a secret (a private key), as O(files[].content). Ansible masks it in everything the module
            returns, and the diff shows its size and whether it changed, never the content.
        type: str
      mode:
        description: The mode, as an octal string such as V('0644').
        type: str
        required: true
      owner:
        description: The owning user's name. Unset keeps an existing file's owner (root for a new one).
        type: str
      group:
        description: The owning group's name. Unset keeps an existing file's group (root's group for a new one).
        type: str
      validate:
        description:
          - A command that checks the new content before it is installed, as M(ansible.builtin.copy)'s C(validate).
            C(%s) is replaced by the path of a root-only temporary file holding it, and the command runs without a
            shell. A non-zero exit fails the task with the command's output, and no file is changed.
          - Runs only when the file's content would change, and not in check mode. Empty means no check.
        type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One diff per changed file; a secret file's content is never shown.
  idempotent:
    support: full
extends_documentation_fragment:
  - wandb_local.fleet.attributes.ATTRIBUTES
notes:
  - O(files[].secret_content) is masked by the module itself; a task whose other options carry secrets still needs
    C(no_log). So does a task whose O(files[].validate) command could print a secret file's lines when it fails.
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Install the CA certificate, certificate and key
  wandb_local.fleet.installed_files:
    directories:
      - path: /etc/wandb/certs
        group: ssl-cert
        mode: "0750"
    files:
      - dest: /etc/wandb/certs/ca.crt
        content: "{{ lookup('ansible.builtin.file', secrets_dir ~ '/ca/ca.crt', rstrip=false) }}"
        mode: "0644"
      - dest: /etc/wandb/certs/proxy.key
        secret_content: "{{ lookup('ansible.builtin.file', secrets_dir ~ '/certs/web1/proxy.key', rstrip=false) }}"
        owner: root
        group: ssl-cert
        mode: "0640"
"""

RETURN = r"""
changed_directories:
  description: The directories that changed (or would in check mode), each with what about it differed.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/wandb/certs, reasons: [created]}]
changed_files:
  description: The files that changed (or would in check mode), each with what about it differed.
  returned: always
  type: list
  elements: dict
  sample: [{dest: /etc/wandb/certs/proxy.crt, reasons: [content]}, {dest: /etc/wandb/certs/proxy.key, reasons: [mode]}]
"""

import grp
import hashlib
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule


class FileProblem(Exception):
    """An entry that cannot be installed; the message names it."""


# An account a real run creates first (check mode only): the file is reported as changing.
_UNKNOWN = object()


def _account_id(lookup, attribute, name, problem, dest, check_mode):
    """The user's or group's number, None when no name is given, _UNKNOWN in check mode for a missing one."""
    if not name:
        return None
    try:
        return getattr(lookup(name), attribute)
    except KeyError:
        if not check_mode:
            raise FileProblem("%s %s on this host (%s)" % (problem, name, dest)) from None
        return _UNKNOWN


def _attributes(entry, where, path_field, path, check_mode):
    """(mode, uid, gid) of an entry, or FileProblem naming the field and what is wrong with it.

    In check mode an unknown user or group is one that a real run creates earlier (a package's system
    account): the entry would then change, which is what check mode reports."""
    if not os.path.isabs(path):
        raise FileProblem("%s.%s: %s is not an absolute path" % (where, path_field, path))
    try:
        mode = int(entry["mode"], 8)
    except (TypeError, ValueError):
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise FileProblem("%s.mode: %r is not an octal mode such as '0644' (%s)" % (where, entry["mode"], path))
    uid = _account_id(pwd.getpwnam, "pw_uid", entry.get("owner"), "%s.owner: no user named" % where, path, check_mode)
    gid = _account_id(grp.getgrnam, "gr_gid", entry.get("group"), "%s.group: no group named" % where, path, check_mode)
    return mode, uid, gid


def _differs(current, mode, uid, gid):
    differs = {
        "mode": stat.S_IMODE(current.st_mode) != mode,
        # _UNKNOWN (check mode only, so never written) is no number a file has.
        "owner": uid not in (None, current.st_uid),
        "group": gid not in (None, current.st_gid),
    }
    return [reason for reason, different in differs.items() if different]


def _plan_directory(entry, index, check_mode, made):
    """(wanted, reasons, its current stat or None) for directories[index]; `made` holds the paths earlier entries
    create."""
    where = "directories[%d]" % index
    path = os.path.normpath(entry["path"]) if os.path.isabs(entry["path"]) else entry["path"]
    mode, uid, gid = _attributes(entry, where, "path", path, check_mode)
    wanted = {
        "path": path,
        "mode": mode,
        "uid": uid,
        "gid": gid,
        "owner": entry.get("owner"),
        "group": entry.get("group"),
    }
    try:
        current = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        missing = [path]
        while not (os.path.lexists(os.path.dirname(missing[-1])) or os.path.dirname(missing[-1]) in made):
            missing.append(os.path.dirname(missing[-1]))
        parent = os.path.dirname(missing[-1])
        if parent not in made and not os.path.isdir(parent):
            raise FileProblem(
                "%s.path: %s is in the way of %s and is not a directory" % (where, parent, path)
            ) from None
        wanted["missing"] = missing[::-1]
        made.update(missing)
        return wanted, ["created"], None
    if not stat.S_ISDIR(current.st_mode):
        raise FileProblem("%s.path: %s exists and is not a directory" % (where, path))
    return wanted, _differs(current, mode, uid, gid), current


def _make_directory(wanted, reasons):
    made = wanted.get("missing", []) if reasons == ["created"] else []
    for path in made:
        # Made closed, opened to its mode once owned: never wider than asked, never someone else's.
        os.mkdir(path, 0o700)
    for path in made or [wanted["path"]]:
        current = os.stat(path)
        uid = wanted["uid"] if wanted["uid"] is not None else current.st_uid
        gid = wanted["gid"] if wanted["gid"] is not None else current.st_gid
        if made or "owner" in reasons or "group" in reasons:
            os.chown(path, uid, gid)
        if made or "mode" in reasons:
            os.chmod(path, wanted["mode"])


def _shown_directory(path, current):
    if current is None:
        return ""
    return "directory %s, mode %04o, owner uid %d, group gid %d\n" % (
        path,
        stat.S_IMODE(current.st_mode),
        current.st_uid,
        current.st_gid,
    )


def _resolve(entry, index, check_mode):
    """The entry's wanted state, or FileProblem naming the field and what is wrong with it (see _attributes)."""
    where = "files[%d]" % index
    dest = entry["dest"]
    if (entry["content"] is None) == (entry["secret_content"] is None):
        raise FileProblem("%s: give exactly one of content and secret_content (%s)" % (where, dest))
    validate = entry.get("validate") or None
    if validate and "%s" not in validate:
        raise FileProblem("%s.validate: %r does not contain %%s, the new content's path (%s)" % (where, validate, dest))
    mode, uid, gid = _attributes(entry, where, "dest", dest, check_mode)
    return {
        "validate": validate,
        "dest": dest,
        "content": (entry["secret_content"] if entry["content"] is None else entry["content"]).encode("utf-8"),
        "mode": mode,
        "uid": uid,
        "gid": gid,
        "secret": entry["content"] is None,
    }


def _compare(wanted, check_mode, index, made=frozenset()):
    """(the reasons it differs, its current content or None); `made` holds the directories this run creates."""
    dest = wanted["dest"]
    try:
        current = os.lstat(dest)
    except FileNotFoundError:
        if os.path.dirname(dest) in made:
            return ["created"], None
        if not os.path.isdir(os.path.dirname(dest)):
            if check_mode:
                return ["created"], None
            problem = "files[%d].dest: the directory %s does not exist" % (index, os.path.dirname(dest))
            raise FileProblem(problem) from None
        return ["created"], None
    if not stat.S_ISREG(current.st_mode):
        raise FileProblem("files[%d].dest: %s exists and is not a regular file" % (index, dest))
    with open(dest, "rb") as handle:
        content = handle.read()
    reasons = ["content"] if content != wanted["content"] else []
    return reasons + _differs(current, wanted["mode"], wanted["uid"], wanted["gid"]), content


def _shown(content, secret):
    if content is None:
        return ""
    if secret:
        return "(secret, %d bytes, sha256 %s...)\n" % (len(content), hashlib.sha256(content).hexdigest()[:12])
    return content.decode("utf-8", errors="replace")


def _write(wanted, reasons):
    dest = wanted["dest"]
    current = None if reasons == ["created"] else os.stat(dest)
    uid = wanted["uid"] if wanted["uid"] is not None else (current.st_uid if current else -1)
    gid = wanted["gid"] if wanted["gid"] is not None else (current.st_gid if current else -1)
    if current is None or "content" in reasons:
        # Owner and mode are set before the rename: the file never exists under its name with the wrong ones.
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".%s." % os.path.basename(dest))
        try:
            try:
                os.write(handle, wanted["content"])
                os.fsync(handle)
                os.fchown(handle, uid, gid)
                os.fchmod(handle, wanted["mode"])
            finally:
                os.close(handle)
            os.replace(temporary, dest)
        except OSError:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return
    if "owner" in reasons or "group" in reasons:
        os.chown(dest, uid, gid)
    if "mode" in reasons:
        os.chmod(dest, wanted["mode"])


def _validation_failure(module, wanted, index):
    """None when files[index]'s new content passes its validate command, else the failure's fields for fail_json."""
    handle, temporary = tempfile.mkstemp(dir=module.tmpdir, prefix="installed-files-")
    try:
        try:
            os.write(handle, wanted["content"])
        finally:
            os.close(handle)
        rc, out, err = module.run_command(wanted["validate"] % temporary)
    finally:
        os.unlink(temporary)
    if rc == 0:
        return None
    return dict(
        msg="installed_files: files[%d].validate: the new content of %s failed its check (exit %d); nothing was changed"
        % (index, wanted["dest"], rc),
        rc=rc,
        stdout=out,
        stderr=err,
    )


def _header(path, reasons):
    return "%s (%s)" % (path, ", ".join(reasons)) if reasons else path


def main():
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    path=dict(type="path", required=True),
                    mode=dict(type="str", required=True),
                    owner=dict(type="str"),
                    group=dict(type="str"),
                ),
            ),
            files=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    dest=dict(type="path", required=True),
                    content=dict(type="str"),
                    secret_content=dict(type="str", no_log=True),
                    mode=dict(type="str", required=True),
                    owner=dict(type="str"),
                    group=dict(type="str"),
                    validate=dict(type="str"),
                ),
            ),
        ),
        required_one_of=[("directories", "files")],
        supports_check_mode=True,
    )
    plan, directories, made = [], [], set()
    try:
        for index, entry in enumerate(module.params["directories"]):
            wanted, reasons, current = _plan_directory(entry, index, module.check_mode, made)
            if reasons:
                directories.append((wanted, reasons, current))
        for index, entry in enumerate(module.params["files"]):
            wanted = _resolve(entry, index, module.check_mode)
            reasons, current = _compare(wanted, module.check_mode, index, made)
            plan.append((wanted, reasons, current))
    except (FileProblem, OSError) as exc:
        module.fail_json(msg="installed_files: %s; nothing was changed" % exc)
    changed = [(wanted, reasons, current) for wanted, reasons, current in plan if reasons]
    if not module.check_mode:
        # Every new content is checked before anything is written.
        for index, (wanted, reasons, _current) in enumerate(plan):
            if wanted["validate"] and {"created", "content"} & set(reasons):
                failure = _validation_failure(module, wanted, index)
                if failure:
                    module.fail_json(**failure)
        for position, (wanted, reasons, _current) in enumerate(directories):
            try:
                _make_directory(wanted, reasons)
            except OSError as exc:
                done = [entry[0]["path"] for entry in directories[:position]]
                module.fail_json(
                    msg="installed_files: making %s failed: %s (changed before it: %s)"
                    % (wanted["path"], exc, ", ".join(done) or "none")
                )
        for position, (wanted, reasons, _current) in enumerate(changed):
            try:
                _write(wanted, reasons)
            except OSError as exc:
                done = [entry[0]["dest"] for entry in changed[:position]]
                module.fail_json(
                    msg="installed_files: writing %s failed: %s (changed before it: %s)"
                    % (wanted["dest"], exc, ", ".join(done) or "none")
                )
    diff = [
        {
            "before_header": _header(wanted["path"], reasons),
            "after_header": wanted["path"],
            "before": _shown_directory(wanted["path"], current),
            "after": "directory %s, mode %04o, owner %s, group %s\n"
            % (wanted["path"], wanted["mode"], wanted["owner"] or "(kept)", wanted["group"] or "(kept)"),
        }
        for wanted, reasons, current in directories
    ] + [
        {
            "before_header": _header(wanted["dest"], reasons),
            "after_header": wanted["dest"],
            "before": _shown(current, wanted["secret"]),
            "after": _shown(wanted["content"], wanted["secret"]),
        }
        for wanted, reasons, current in changed
    ]
    module.exit_json(
        changed=bool(changed or directories),
        changed_directories=[{"path": wanted["path"], "reasons": reasons} for wanted, reasons, _current in directories],
        changed_files=[{"dest": wanted["dest"], "reasons": reasons} for wanted, reasons, _current in changed],
        diff=diff,
    )


if __name__ == "__main__":
    main()
