# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils._fleet_inputs import FleetInputError
from ansible_collections.wandb_local.fleet.plugins.module_utils._mysql_checks import server_candidate, server_ids

ORACLE = {
    "rc": 0,
    "stdout_lines": [
        "Package: mysql-server",
        "Version: 8.4.3-1debian12",
        "Source: mysql-community",
        "Depends: mysql-community-server (= 8.4.3-1debian12)",
        "Description: MySQL Server meta package depending on latest version",
    ],
    "stderr_lines": [],
}
# Debian 13: mysql-server is a virtual package (MariaDB provides default-mysql-server).
NO_CANDIDATE = {
    "rc": 100,
    "stdout_lines": [],
    "stderr_lines": [
        "N: Can't select versions from package 'mysql-server' as it is purely virtual",
        "N: No packages found",
        "W: not counted",
        "E: No packages found",
    ],
}
PULLS_MARIADB = {
    "rc": 0,
    "stdout_lines": [
        "Package: mysql-server",
        "Depends: default-mysql-server",
        "Pre-Depends: MariaDB-common",
        "Tag: mariadb",
    ],
    "stderr_lines": [],
}


def test_oracle_candidate_is_fine():
    result = server_candidate(ORACLE, False, False)
    assert result["oracle_ok"] is True
    assert result["candidate_lines"] == [
        "Package: mysql-server",
        "Source: mysql-community",
        "Depends: mysql-community-server (= 8.4.3-1debian12)",
    ]


def test_no_candidate_reports_apts_messages():
    result = server_candidate(NO_CANDIDATE, False, False)
    assert result["oracle_ok"] is False
    assert result["reason"] == (
        "N: Can't select versions from package 'mysql-server' as it is purely virtual; N: No packages found; "
        "E: No packages found"
    )


def test_a_candidate_that_pulls_in_mariadb_is_refused_with_its_lines():
    result = server_candidate(PULLS_MARIADB, False, False)
    assert result["oracle_ok"] is False
    assert result["reason"] == "Pre-Depends: MariaDB-common"  # "Tag:" is not a field that counts


def test_without_any_message_the_reason_says_there_is_no_candidate():
    assert server_candidate({"rc": 0, "stdout_lines": ["Version: 1"]}, False, False) == {
        "oracle_ok": False,
        "reason": "apt has no candidate for mysql-server",
        "candidate_lines": [],
    }
    # A failed apt-cache with a record is still no candidate.
    assert server_candidate({**ORACLE, "rc": 100}, False, False)["oracle_ok"] is False


def test_installed_packages_decide_without_apt():
    skipped = {"skipped": True, "changed": False}
    assert server_candidate(skipped, True, False)["oracle_ok"] is True
    assert server_candidate(skipped, True, True)["oracle_ok"] is True
    assert server_candidate(skipped, "false", "yes") == {
        "oracle_ok": False,
        "reason": "MariaDB is installed",
        "candidate_lines": [],
    }
    # An installed MariaDB is never replaced, whatever apt offers.
    assert server_candidate(ORACLE, False, True)["oracle_ok"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stdout", False, False), "registered command result"),
        (({"stdout_lines": "Package: x"}, False, False), "stdout_lines of the apt-cache result"),
        (({"stderr_lines": [1]}, False, False), "stderr_lines of the apt-cache result"),
        (({}, "maybe", False), "mysql_installed must be a boolean"),
        (({}, False, None), "mariadb_installed must be a boolean"),
    ],
)
def test_bad_input_names_the_field(args, message):
    with pytest.raises(FleetInputError, match=message):
        server_candidate(*args)


@pytest.mark.parametrize(
    ("host_vars", "ids"),
    [
        ({}, [1, 2, 3]),
        ({"db2": {"wandb_mysql_server_id": 10}}, [1, 10, 3]),
        ({"db1": {"wandb_mysql_server_id": "2"}}, [2, 2, 3]),  # a clash, for the role's check to report
        ({"db3": {"wandb_mysql_server_id": "7.9"}}, [1, 2, 7]),
        ({"db1": {"wandb_mysql_server_id": "one"}, "db2": {"wandb_mysql_server_id": None}}, [0, 0, 3]),
    ],
)
def test_server_ids(host_vars, ids):
    assert server_ids(["db1", "db2", "db3"], host_vars) == ids


def test_no_hosts_no_ids():
    assert server_ids([], {}) == []
