# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_env_file import (
    NEW_FILE_HEADER,
    EnvFile,
    plan_settings,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_settings_catalogue import (
    CATALOGUE,
    SettingsInvalid,
    is_secret_key,
    mask_value,
)
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_urls import MASK, compose_mysql_url

DOCS = Path(__file__).resolve().parents[4] / "docs" / "settings.md"

EXISTING = """# keep this comment
HOST=https://old.example.net
MYSQL=mysql://wandb:old%2Fpass@db:3306/wandb_local
  # an indented comment
UNKNOWN_THING=kept as is
"""


def test_parse_and_render_keep_the_file_byte_for_byte():
    assert EnvFile.parse(EXISTING).render() == EXISTING


def test_unchanged_values_leave_the_text_untouched():
    plan = plan_settings(EXISTING, {"HOST": "https://old.example.net"})
    assert not plan.content_changed
    assert plan.changed_keys == []


def test_changes_keep_positions_and_append_new_keys_sorted():
    plan = plan_settings(
        EXISTING, {"HOST": "https://new.example.net", "REDIS": "redis://r1:6379", "AWS_REGION": "us-east-1"}
    )
    assert plan.after_text.splitlines() == [
        "# keep this comment",
        "HOST=https://new.example.net",
        "MYSQL=mysql://wandb:old%2Fpass@db:3306/wandb_local",
        "  # an indented comment",
        "UNKNOWN_THING=kept as is",
        "AWS_REGION=us-east-1",
        "REDIS=redis://r1:6379",
    ]
    assert plan.changed_keys == ["AWS_REGION", "HOST", "REDIS"]


def test_request_order_does_not_change_the_result():
    one = plan_settings("", {"B_X": "1", "A_X": "2", "C_X": "3"}, exists=False)
    two = plan_settings("", {"C_X": "3", "A_X": "2", "B_X": "1"}, exists=False)
    assert one.after_text == two.after_text
    assert one.after_text == NEW_FILE_HEADER + "\nA_X=2\nB_X=1\nC_X=3\n"


def test_null_removes_and_purge_drops_everything_unnamed_but_comments():
    removed = plan_settings(EXISTING, {"UNKNOWN_THING": None})
    assert "UNKNOWN_THING" not in removed.after_text
    assert removed.changed_keys == ["UNKNOWN_THING"]
    purged = plan_settings(EXISTING + "garbage line\n", {"HOST": "https://old.example.net"}, purge=True)
    assert purged.after_text == "# keep this comment\nHOST=https://old.example.net\n  # an indented comment\n"
    assert purged.changed_keys == ["MYSQL", "UNKNOWN_THING"]


def test_duplicates_collapse_into_the_first_position_when_managed():
    plan = plan_settings("A_X=1\nB_X=2\nA_X=3\n", {"A_X": "3"})
    assert plan.after_text == "A_X=3\nB_X=2\n"
    assert plan.changed_keys == []  # the effective value (last wins) did not change
    assert plan.content_changed


def test_booleans_and_numbers_are_written_the_way_the_server_reads_them():
    plan = plan_settings("", {"LOGGING_ENABLED": True, "LOCAL_RESTORE": "True", "SESSION_LENGTH": 720}, exists=False)
    assert plan.after_values == {"LOGGING_ENABLED": "true", "LOCAL_RESTORE": "true", "SESSION_LENGTH": "720"}


def test_new_file_starts_with_the_header_and_an_existing_one_does_not_get_it():
    assert plan_settings("", {}, exists=False).after_text == NEW_FILE_HEADER + "\n"
    assert plan_settings("", {"A_X": "1"}, exists=True).after_text == "A_X=1\n"


def test_lines_docker_container_would_refuse_produce_a_warning_with_line_numbers_only():
    plan = plan_settings("A_X=1\nexport SECRET_THING=xyz\n", {})
    assert any("lines 2 " in warning for warning in plan.warnings)
    assert not any("xyz" in warning for warning in plan.warnings)


def test_unknown_keys_pass_and_near_misses_warn():
    plan = plan_settings("", {"GORILLA_SOMETHING_NEW": "x", "OIDC_ISUER": "https://idp.example.net"}, exists=False)
    assert plan.after_values["GORILLA_SOMETHING_NEW"] == "x"
    assert any("did you mean OIDC_ISSUER" in warning for warning in plan.warnings)


def test_cross_field_problems_already_in_the_file_only_warn_unless_touched():
    broken = "SLACK_CLIENT_ID=abc\n"
    plan = plan_settings(broken, {"LOGGING_ENABLED": "true"})
    assert any("SLACK_CLIENT_ID: needs SLACK_SECRET" in warning for warning in plan.warnings)
    with pytest.raises(SettingsInvalid, match="SLACK_CLIENT_ID: needs SLACK_SECRET"):
        plan_settings(broken, {"SLACK_CLIENT_ID": "abd"})
    purged = plan_settings(broken, {"LOGGING_ENABLED": "true"}, purge=True)
    assert purged.after_values == {"LOGGING_ENABLED": "true"}
    assert not any("SLACK" in warning for warning in purged.warnings)


def test_cross_field_rules_see_the_file_and_the_request_together():
    plan = plan_settings("OIDC_CLIENT_ID=abc\n", {"OIDC_ISSUER": "https://idp.example.net"})
    assert plan.after_values["OIDC_ISSUER"] == "https://idp.example.net"
    azure = {"BUCKET": "az://acmewandb/files", "BUCKET_QUEUE": "az://acmewandb/events", "AZURE_STORAGE_KEY": "a2V5"}
    assert plan_settings("", azure, exists=False).changed_keys == sorted(azure)
    minio = {"BUCKET": "s3://AK:SK@minio1:9000/wandb", "BUCKET_QUEUE": "internal://", "AWS_REGION": "us-east-1"}
    assert plan_settings("", minio, exists=False).warnings == []


@pytest.mark.parametrize(
    "name",
    [
        "LICENSE",
        "AZURE_STORAGE_KEY",
        "SLACK_SECRET",
        "OIDC_CLIENT_SECRET",
        "LOCAL_LDAP_BIND_PW",
        "GORILLA_API_TOKEN",
        "SMTP_PASSWORD",
        "MY_PRIVATE_THING",
    ],
)
def test_secret_names(name):
    assert is_secret_key(name)
    assert mask_value(name, "value") == MASK


@pytest.mark.parametrize(
    "name", ["HOST", "OIDC_CLIENT_ID", "AWS_REGION", "LOCAL_RESTORE", "AWS_S3_KMS_ID", "SLACK_CLIENT_ID"]
)
def test_non_secret_names(name):
    assert not is_secret_key(name)
    assert mask_value(name, "value") == "value"


secret_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=8, max_size=30
)


def _shown_diff(license_key, password, old_password):
    old_url = compose_mysql_url({"user": "wandb", "password": old_password, "host": "db"})
    new_url = compose_mysql_url({"user": "wandb", "password": password, "host": "db"})
    plan = plan_settings("LICENSE=old-license-value\nMYSQL=%s\n" % old_url, {"LICENSE": license_key, "MYSQL": new_url})
    diff = plan.diff("/etc/wandb/wandb.env")
    return diff["before"] + diff["after"], [old_url, new_url]


@given(license_key=secret_text, password=secret_text, old_password=secret_text)
def test_the_diff_carries_no_secret(license_key, password, old_password):
    shown, urls = _shown_diff(license_key, password, old_password)
    encoded = [url.rpartition("@")[0].partition("://")[2].partition(":")[2] for url in urls]
    secrets = [license_key, password, old_password, *encoded]
    # Skip the rare secret that is a piece of the diff's fixed text, such as "ql://wan".
    skeleton, _urls = _shown_diff(
        "old-license-value" if license_key == "old-license-value" else "PLACEHOLDER-1",
        "PLACEHOLDER-2",
        "PLACEHOLDER-2" if password == old_password else "PLACEHOLDER-3",
    )
    assume(not any(secret in skeleton for secret in secrets))
    for secret in secrets:
        assert secret not in shown
    assert shown == skeleton


def test_a_changed_secret_is_visible_as_a_change():
    plan = plan_settings("SLACK_CLIENT_ID=a\nSLACK_SECRET=one-secret\n", {"SLACK_SECRET": "two-secret"})
    assert "SLACK_SECRET=%s (secret changed)" % MASK in plan.diff("p")["after"]
    assert "SLACK_SECRET=%s\n" % MASK in plan.diff("p")["before"]


def test_docs_describe_every_catalogued_variable():
    text = DOCS.read_text()
    for variable in CATALOGUE:
        assert re.search(r"`%s`" % variable.name, text), variable.name
