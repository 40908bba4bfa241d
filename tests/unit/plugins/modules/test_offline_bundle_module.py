# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""offline_bundle's Go builds (the MinIO binaries built as the vendor documents, go install) with the real go of
this machine and its module proxy, on a tiny main module: built once per module@version, a bad spec named. The
whole build (apt, gpg, pip) runs in the offline Molecule scenario (molecule/offline)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.wandb_local.fleet.plugins.modules import offline_bundle

pytestmark = pytest.mark.skipif(not shutil.which("go"), reason="needs go")

# A main package of the Go project's examples: a few KB from the module proxy.
HELLO = "golang.org/x/example/hello@v0.0.0-20250915201037-7f05d217867b"


class Module:
    """What Builder needs of an AnsibleModule: its params, run_command and get_bin_path."""

    def __init__(self, path):
        self.params = {"path": str(path)}
        self.commands = []

    def run_command(self, argv, environ_update=None):
        self.commands.append(argv)
        done = subprocess.run(
            argv, capture_output=True, text=True, env={**os.environ, **(environ_update or {})}, check=False
        )
        return done.returncode, done.stdout, done.stderr

    def get_bin_path(self, name, required=False):
        return shutil.which(name)


def test_a_go_module_is_built_once_per_version(tmp_path):
    module = Module(tmp_path / "bundle")
    builder = offline_bundle.Builder(module)
    binary = builder.go_binary(HELLO)
    assert binary.startswith(str(tmp_path / "bundle.work" / "go")) and os.path.basename(binary) == "hello"
    assert subprocess.run([binary], capture_output=True, text=True, check=True).stdout.strip() == "Hello, world!"
    assert builder.go_binary(HELLO) == binary
    assert [argv[1:] for argv in module.commands] == [["install", HELLO]], "built twice"


@pytest.mark.parametrize("spec", ["golang.org/x/example/hello", "@v1.0.0"])
def test_a_spec_without_module_or_version_is_refused(tmp_path, spec):
    with pytest.raises(offline_bundle.BuildError, match="<module>@<version>"):
        offline_bundle.Builder(Module(tmp_path / "bundle")).go_binary(spec)


def test_a_failing_build_names_the_module(tmp_path):
    with pytest.raises(offline_bundle.BuildError, match=re.escape("go install golang.org/x/example/hello@v9.9.9")):
        offline_bundle.Builder(Module(tmp_path / "bundle")).go_binary("golang.org/x/example/hello@v9.9.9")
    assert not os.path.exists(tmp_path / "bundle.work" / "go" / "golang.org_x_example_hello@v9.9.9")
