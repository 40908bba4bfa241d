# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the mysql role decides before it installs anything: Oracle MySQL or MariaDB, unique server IDs.

Where a distribution has no Oracle MySQL, mysql-server is a name MariaDB provides (no candidate:
Debian 12 and 13) or a package that pulls in MariaDB. An installed MariaDB is never replaced: its
data directory is not MySQL's.

Private to the collection: used by the mysql_server_candidate and mysql_server_ids filter plugins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import (
    FleetInputError,
    ansible_bool,
    jinja_int,
)

_RECORD_FIELDS = re.compile(r"^(Package|Source|Depends|Pre-Depends): ")
_PACKAGE = re.compile(r"^Package: ")
_MARIADB = re.compile(r"(?i)mariadb")
_APT_MESSAGE = re.compile(r"^[EN]: ")


def _lines(result, key):
    lines = result.get(key)
    if lines is None:
        return []
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise FleetInputError("%s of the apt-cache result must be a list of lines" % key)
    return lines


def server_candidate(apt_result, mysql_installed, mariadb_installed):
    """Whether Oracle MySQL is (or can be) installed, and if not, why, from `apt-cache show mysql-server`.

    `apt_result` is the registered result of that command (skipped when a server is installed).
    Oracle MySQL is fine when it is installed, or when nothing is and apt's candidate record names
    a package and nothing in its Package, Source, Depends and Pre-Depends lines says MariaDB.
    """
    if not isinstance(apt_result, dict):
        raise FleetInputError("the apt-cache result must be a registered command result (a mapping)")
    mysql_installed = ansible_bool(mysql_installed, "mysql_installed")
    mariadb_installed = ansible_bool(mariadb_installed, "mariadb_installed")
    record = [line for line in _lines(apt_result, "stdout_lines") if _RECORD_FIELDS.match(line)]
    mariadb_lines = [line for line in record if _MARIADB.search(line)]
    oracle_ok = mysql_installed or (
        not mariadb_installed
        and apt_result.get("rc", 1) == 0
        and any(_PACKAGE.match(line) for line in record)
        and not mariadb_lines
    )
    if mariadb_installed:
        reason = "MariaDB is installed"
    else:
        apt_messages = [line for line in _lines(apt_result, "stderr_lines") if _APT_MESSAGE.match(line)]
        reason = "; ".join(apt_messages + mariadb_lines) or "apt has no candidate for mysql-server"
    return {"oracle_ok": oracle_ok, "reason": reason, "candidate_lines": record}


def server_ids(hosts, host_vars):
    """The server ID of each host of the group: its wandb_mysql_server_id, else its position (from 1).

    As the role reads them (Jinja's `int`: what is no number counts as 0), so a clash or a 0 shows in
    the role's message.
    """
    return [
        jinja_int(host_vars.get(host, {}).get("wandb_mysql_server_id", position))
        for position, host in enumerate(hosts, 1)
    ]
