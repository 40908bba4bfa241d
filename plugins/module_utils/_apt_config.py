# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private apt configuration under one directory: its own sources, pins, package lists and caches, so
apt sees exactly those sources and the host's own apt state is left alone. Used by apt_preview (check
mode's preview of sources a real run adds), offline_bundle (resolving and downloading a bundle's packages)
and the offline role (hosts installing from the bundle's repository only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

DPKG_STATUS = "/var/lib/dpkg/status"
# A refresh that fails when any source fails (by default apt only warns and keeps old lists).
UPDATE_ARGV = ["apt-get", "update", "-q", "-o", "APT::Update::Error-Mode=any"]


def apt_config(root, status=DPKG_STATUS, architecture=None):
    """The apt.conf text: the host's apt.conf.d still applies; sources, pins, lists and caches are root's.

    status: dpkg's status file apt resolves against (a bundle build gives an empty one, so the download holds
    every dependency, not only what the build machine lacks). architecture: apt's architecture when it is not
    the machine's own."""
    lines = [
        'Dir::Etc::sourcelist "%s/sources.list";' % root,
        'Dir::Etc::sourceparts "%s/sources.list.d";' % root,
        'Dir::Etc::preferences "%s/preferences";' % root,
        'Dir::Etc::preferencesparts "%s/preferences.d";' % root,
        'Dir::State::Lists "%s/lists";' % root,
        'Dir::State::status "%s";' % status,
        'Dir::Cache "%s/cache";' % root,
        'Dir::Cache::pkgcache "";',
        'Dir::Cache::srcpkgcache "";',
        # Downloads go into our own directory, which the unprivileged _apt user cannot write.
        'APT::Sandbox::User "root";',
    ]
    if architecture:
        lines += ['APT::Architecture "%s";' % architecture, 'APT::Architectures { "%s"; };' % architecture]
    return "\n".join(lines) + "\n"


def deb822_source(uris, suites, components, signed_by, check_valid_until=True):
    """One deb822 source stanza."""
    lines = [
        "Types: deb",
        "URIs: %s" % " ".join(uris),
        "Suites: %s" % " ".join(suites),
        "Components: %s" % " ".join(components),
        "Signed-By: %s" % signed_by,
    ]
    if not check_valid_until:
        lines.append("Check-Valid-Until: no")
    return "\n".join(lines) + "\n"


def pin(codename, priority):
    """A preferences stanza giving every package of one suite (by codename) a priority."""
    return "Package: *\nPin: release n=%s\nPin-Priority: %d\n" % (codename, priority)


def _write(path, text):
    """Write text to path (temp file + rename) unless it holds it already."""
    if os.path.isfile(path):
        with open(path) as handle:
            if handle.read() == text:
                return
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)


def write_root(root, sources, preferences, status=DPKG_STATUS, architecture=None):
    """A private apt root whose only sources and pins are the ones given (file name -> content, under
    sources.list.d and preferences.d), with its lists and caches, and its apt.conf. Returns apt.conf's path."""
    for directory in ("sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    for name in ("sources.list", "preferences"):
        _write(os.path.join(root, name), "")
    for directory, files in (("sources.list.d", sources), ("preferences.d", preferences)):
        for name, content in files.items():
            _write(os.path.join(root, directory, name), content)
    config = os.path.join(root, "apt.conf")
    _write(config, apt_config(root, status, architecture))
    return config
