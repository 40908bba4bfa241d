# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from urllib.parse import quote

import pytest

from ansible_collections.wandb_local.fleet.plugins.filter.redact import FilterModule

redact = FilterModule().filters()["redact"]
MYSQL_PASSWORD = "My$ql/Pa:ss@word1"
ENV = {
    "HOST": "https://wandb.example.net",
    "MYSQL": f"mysql://wandb_local:{quote(MYSQL_PASSWORD, safe='')}@db1:3306/wandb_local",
    "LICENSE": "eyJhbGciOi.license-body",
    "SLACK_SECRET": "slack-secret-value",
    "AWS_REGION": "us-east-1",
}


@pytest.mark.parametrize(
    "message, gone",
    [
        (f"Error response from daemon: env MYSQL={ENV['MYSQL']} invalid", MYSQL_PASSWORD),
        (f"container exited; LICENSE is {ENV['LICENSE']}", ENV["LICENSE"]),
        (f"bad value {quote(MYSQL_PASSWORD)} in the URL", quote(MYSQL_PASSWORD)),
        ("SLACK_SECRET=slack-secret-value", "slack-secret-value"),
    ],
)
def test_secrets_of_the_environment_are_masked(message, gone):
    shown = redact(message, env=ENV)
    assert gone not in shown
    assert "********" in shown


def test_what_is_not_secret_stays_readable():
    message = "port 8080 already in use by wandb-local (HOST https://wandb.example.net, region us-east-1)"
    assert redact(message, env=ENV) == message
    assert redact("wandb_mysql_wandb_password must not be empty", env=ENV) == (
        "wandb_mysql_wandb_password must not be empty"
    )


def test_unknown_urls_assignments_and_log_lines_are_masked():
    assert redact("redis://:hunter2hunter2@redis1:6379") == "redis://:********@redis1:6379"
    assert redact("GORILLA_EMAIL_SINK_PASSWORD=abc123 ok") == "GORILLA_EMAIL_SINK_PASSWORD=******** ok"
    assert redact("Temporary password: Zq8x7Yw6, user restore") == "Temporary password: ********, user restore"
    assert redact('{"token": "abcd1234"}') == '{"token": "********"}'


def test_given_secrets_and_structures():
    result = redact({"msg": "login with s3cr3t-value failed", "lines": ["s3cr3t-value", 3]}, secrets=["s3cr3t-value"])
    assert result == {"msg": "login with ******** failed", "lines": ["********", 3]}


def test_wrapped_values_are_handled():
    class Wrapped:
        def __str__(self):
            return "wrapped-secret-1"

    assert redact("x wrapped-secret-1 y", secrets=[Wrapped()]) == "x ******** y"
