# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private apt configuration under one directory: its own sources, pins, package lists and caches, so
apt sees exactly those sources and the host's own apt state is left alone. Used by apt_preview (check
mode's preview of sources a real run adds), offline_bundle (resolving and downloading a bundle's packages)
and the offline role (hosts installing from the bundle's repository only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DPKG_STATUS = "/var/lib/dpkg/status"


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
