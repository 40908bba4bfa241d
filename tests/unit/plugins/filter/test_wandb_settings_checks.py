# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The wandb_setting test and the wandb_settings_problems filter ask the settings module's own rules."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wandb_local.fleet.plugins.filter.wandb_settings_problems import FilterModule
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import plan_settings
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    SettingsInvalid,
    normalize_request,
)
from ansible_collections.wandb_local.fleet.plugins.test.wandb_settings import TestModule as SettingTests

wandb_setting = SettingTests().tests()["wandb_setting"]
problems = FilterModule().filters()["wandb_settings_problems"]
PASSWORD = "S3cr:et/pa@ss"
MYSQL = f"mysql://wandb_local:{quote(PASSWORD, safe='')}@db1:3306/wandb_local"


def module_refuses(settings):
    """What the settings module itself says, writing these settings into an empty file."""
    try:
        plan_settings("", settings, purge=True, exists=False)
    except SettingsInvalid as exc:
        return exc.errors
    return []


def value_refused(name, value):
    """The module's per-value rule alone (the rules between variables aside)."""
    try:
        normalize_request({name: value})
    except SettingsInvalid as exc:
        return exc.errors
    return None


@pytest.mark.parametrize(
    "value",
    ["https://wandb.example.net", "http://10.0.0.5:8080", "https://[fd00::1]:443", "https://wandb_local.lan"],
)
def test_a_host_the_module_accepts_passes(value):
    assert wandb_setting(value, "HOST")
    assert module_refuses({"HOST": value}) == []


@pytest.mark.parametrize(
    "value",
    [
        "https://wandb.example.net/",  # the old regex accepted it; the module refuses a trailing '/'
        "https://wandb.example.net/wandb",
        "wandb.example.net",
        "ftp://wandb.example.net",
        "https://user:pw@wandb.example.net",
        "https://wandb.example.net?x=1",
        " https://wandb.example.net",
        "",
        None,
        ["https://wandb.example.net"],
    ],
)
def test_a_host_the_module_refuses_fails(value):
    assert not wandb_setting(value, "HOST")
    if value is not None:
        assert module_refuses({"HOST": value})


@pytest.mark.parametrize(
    "name, good, bad",
    [
        ("LOGGING_ENABLED", True, "yes"),
        ("AWS_REGION", "us-east-1", "US East"),
        ("OIDC_ISSUER", "https://idp.example.net/realms/w", "http://idp.example.net"),
        ("SESSION_LENGTH", 720, "30d"),
        ("MYSQL", MYSQL, "mysql://db1/"),
        ("BUCKET_QUEUE", "internal://", "kafka://q"),
    ],
)
def test_every_catalogue_rule_is_the_modules(name, good, bad):
    assert wandb_setting(good, name) and value_refused(name, good) is None
    assert not wandb_setting(bad, name) and value_refused(name, bad)


@pytest.mark.parametrize("name", ["HSOT", "host", "GORILLA_SOMETHING_NEW", None, ""])
def test_an_unknown_name_is_an_error_not_a_pass(name):
    with pytest.raises(AnsibleFilterError, match=r"wandb_setting: .* not a W&B variable the settings catalogue knows"):
        wandb_setting("https://wandb.example.net", name)


def test_an_unknown_name_gets_a_hint():
    with pytest.raises(AnsibleFilterError, match=r"did you mean HOST\?"):
        wandb_setting("https://wandb.example.net", "HSOT")


def test_good_settings_have_no_problem():
    settings = {
        "OIDC_ISSUER": "https://idp.example.net",
        "OIDC_CLIENT_ID": "wandb",
        "GORILLA_SOMETHING_NEW": "anything goes",
        "LDAP_URL": "ldap://ldap",
        "LOGGING_ENABLED": True,
        "SLACK_CLIENT_ID": None,
    }
    assert problems(settings, "wandb_server_settings") == {}
    assert module_refuses(settings) == []


def test_problems_name_the_role_variable_and_the_rule():
    found = problems(
        {"OIDC_ISSUER": "http://idp.example.net", "LOGGING_ENABLED": "yes", "host": "x"}, "wandb_server_settings"
    )
    assert found == {
        "LOGGING_ENABLED": ["wandb_server_settings.LOGGING_ENABLED: must be true or false, got 'yes'"],
        "OIDC_ISSUER": ["wandb_server_settings.OIDC_ISSUER: must be an https:// URL, got 'http://idp.example.net'"],
        "host": ["wandb_server_settings.host: must be upper case like every W&B variable (did you mean HOST?)"],
    }


def test_a_label_names_the_variable_that_sets_the_key():
    found = problems({"HOST": "https://wandb.example.net/"}, labels={"HOST": "wandb_server_host_url"})
    (message,) = found["HOST"]
    assert message.startswith("wandb_server_host_url: must be SCHEME://HOST[:PORT] with no path")
    assert "drop the trailing '/'" in message


def test_the_messages_are_the_modules_own():
    settings = {"OIDC_ISSUER": "http://idp.example.net", "AWS_REGION": "US East", "SESSION_LENGTH": "30d"}
    found = problems(settings)
    assert sorted(m for messages in found.values() for m in messages) == sorted(module_refuses(settings))


def test_rules_between_variables_use_the_whole_environment():
    settings = {"OIDC_ISSUER": "https://idp.example.net", "BUCKET_QUEUE": "sqs://wandb-events"}
    environment = {"HOST": "https://wandb.example.net", "BUCKET": "s3://wandb-files"}
    found = problems(settings, "wandb_server_settings", environment=environment)
    assert found == {
        "BUCKET_QUEUE": ["wandb_server_settings.BUCKET_QUEUE: an sqs:// queue needs AWS_REGION"],
        "OIDC_ISSUER": ["wandb_server_settings.OIDC_ISSUER: needs OIDC_CLIENT_ID"],
    }
    # With the region the role sets, the queue is fine; the module agrees on the merged environment.
    environment["AWS_REGION"] = "us-east-1"
    settings["OIDC_CLIENT_ID"] = "wandb"
    assert problems(settings, "wandb_server_settings", environment=environment) == {}
    assert module_refuses({**settings, **environment}) == []


def test_rules_that_involve_only_the_roles_own_keys_are_not_the_settings_problem():
    # An sqs queue without AWS_REGION, both set by the role: not a problem of wandb_server_settings.
    environment = {"BUCKET": "s3://wandb-files", "BUCKET_QUEUE": "sqs://wandb-events"}
    assert problems({"LOGGING_ENABLED": True}, "wandb_server_settings", environment=environment) == {}


def test_a_rule_naming_several_keys_is_told_once_by_its_subject():
    found = problems({"SLACK_CLIENT_ID": "abc"}, "wandb_server_settings")
    assert found == {"SLACK_CLIENT_ID": ["wandb_server_settings.SLACK_CLIENT_ID: needs SLACK_SECRET"]}


@pytest.mark.parametrize(
    "settings",
    [
        {"LICENSE": "license with spaces"},
        {"SLACK_SECRET": "two words", "SLACK_CLIENT_ID": "x"},
        {"OIDC_SECRET": "one", "GORILLA_OIDC_SECRET": "two", "OIDC_CLIENT_ID": "c", "OIDC_ISSUER": "https://i"},
        {"AZURE_STORAGE_KEY": "not base64 !!"},
        {"MYSQL": f"mysql://wandb_local:{quote(PASSWORD, safe='')}@db 1/wandb_local"},
        {"BUCKET": f"s3://AK:{quote(PASSWORD, safe='')}@minio1:9000/Bad_Bucket"},
        {"REDIS": f"redis://:{quote(PASSWORD, safe='')}@redis1:99999"},
        {"GORILLA_EMAIL_SINK": f"smtp://u:{quote(PASSWORD, safe='')}@mail host:25"},
    ],
)
def test_a_secret_is_never_in_a_message(settings):
    found = problems(settings, "wandb_server_settings")
    assert found, "each of these breaks a rule"
    text = repr(found)
    for key, value in settings.items():
        if key in ("OIDC_CLIENT_ID", "SLACK_CLIENT_ID", "OIDC_ISSUER"):
            continue
        if "://" in value:
            assert PASSWORD not in text and quote(PASSWORD, safe="") not in text
        else:
            assert value not in text


def test_a_secret_of_the_environment_is_masked_too():
    # A URL check echoing a host that happens to hold the database password must not show it.
    environment = {"MYSQL": f"mysql://u:{quote('pw-in-host', safe='')}@db1/wandb_local"}
    found = problems({"AWS_REGION": "pw-in-host UPPER"}, environment=environment)
    assert "pw-in-host" not in repr(found) and "********" in repr(found)


@pytest.mark.parametrize("bad", ["not a dict", ["HOST"], None])
def test_the_input_must_be_a_dict(bad):
    with pytest.raises(AnsibleFilterError, match="wandb_settings_problems: expects a dict"):
        problems(bad)


def test_the_environment_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="environment must be a dict"):
        problems({}, environment=["HOST"])
