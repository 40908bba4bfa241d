# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The generated_secret lookup as Ansible calls it."""

from __future__ import annotations

import stat

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.wandb_local.fleet.plugins.lookup.generated_secret import LookupModule


@pytest.fixture
def lookup():
    return LookupModule()


def test_a_missing_secret_is_generated_once_and_read_back(lookup, tmp_path):
    first = lookup.run(["redis/password.txt"], variables={}, secrets_dir=str(tmp_path))
    again = lookup.run(["redis/password.txt"], variables={}, secrets_dir=str(tmp_path))
    assert first == again and len(first[0]) == 32 and first[0].isalnum()
    path = tmp_path / "redis" / "password.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_secret_the_password_lookup_wrote_is_read_as_it_was(lookup, tmp_path):
    (tmp_path / "mysql").mkdir()
    (tmp_path / "mysql" / "wandb_local").write_text("Old1Secret2Value salt=abcdefgh\n")
    assert lookup.run(["mysql/wandb_local"], variables={}, secrets_dir=str(tmp_path)) == ["Old1Secret2Value"]


def test_without_create_a_missing_secret_is_an_error_naming_the_file(lookup, tmp_path):
    with pytest.raises(AnsibleLookupError, match="minio/root_password does not exist: the service was never converged"):
        lookup.run(["minio/root_password"], variables={}, secrets_dir=str(tmp_path), create=False)
    assert not (tmp_path / "minio").exists()


@pytest.mark.parametrize("name", ["password.txt", "../etc/passwd", "redis/../x", "Redis/x", "redis/a/b"])
def test_a_name_outside_role_slash_file_is_refused(lookup, tmp_path, name):
    with pytest.raises(AnsibleLookupError, match="must be <role>/<file>"):
        lookup.run([name], variables={}, secrets_dir=str(tmp_path))


def test_length_is_bounded_and_secrets_dir_required(lookup, tmp_path):
    assert len(lookup.run(["minio/key"], variables={}, secrets_dir=str(tmp_path), length=40)[0]) == 40
    with pytest.raises(AnsibleLookupError, match="length must be 16 to 128"):
        lookup.run(["minio/short"], variables={}, secrets_dir=str(tmp_path), length=8)
    with pytest.raises(AnsibleLookupError, match="unknown option chars"):
        lookup.run(["minio/key"], variables={}, secrets_dir=str(tmp_path), chars="x")
    with pytest.raises(AnsibleLookupError, match="secrets_dir"):
        lookup.run(["minio/key"], variables={})
    with pytest.raises(AnsibleLookupError, match="empty; remove it"):
        (tmp_path / "minio" / "empty").write_text("\n")
        lookup.run(["minio/empty"], variables={}, secrets_dir=str(tmp_path))
