"""The repository's own gates (tests/check_argument_specs.py, tests/check_artifact.py) catch what they
claim to catch."""

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest
import yaml

TESTS_DIR = Path(__file__).resolve().parent.parent


def load_script(name):
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), TESTS_DIR / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def specs_checker():
    return load_script("check_argument_specs.py")


def make_role(root, name, defaults, options):
    role = root / name
    (role / "defaults").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "defaults" / "main.yml").write_text(yaml.safe_dump(defaults))
    specs = {"argument_specs": {"main": {"short_description": name, "options": options}}}
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump(specs))
    (role / "tasks").mkdir()
    (role / "tasks" / "main.yml").write_text("---\n")
    return role


def add_publish_entry_point(role):
    specs_file = role / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(specs_file.read_text())
    option = {"type": "str", "description": "Host to publish for."}
    specs["argument_specs"]["publish"] = {"options": {f"wandb_{role.name}_publish_host": option}}
    specs_file.write_text(yaml.safe_dump(specs))
    (role / "tasks" / "publish.yml").write_text("---\n")


def test_matching_role_passes(tmp_path, specs_checker):
    role = make_role(
        tmp_path,
        "redis",
        {"wandb_redis_port": 6379},
        {
            "wandb_redis_port": {"type": "int", "default": 6379, "description": "Port."},
            "wandb_redis_password": {"type": "str", "description": "Password, no default."},
        },
    )
    add_publish_entry_point(role)
    assert specs_checker.check_role(role) == []


def test_a_tier_role_without_its_publish_entry_point_is_reported(tmp_path, specs_checker):
    role = make_role(tmp_path, "minio", {}, {})
    assert specs_checker.check_role(role) == [
        "minio: a tier role needs the `publish` entry point with option wandb_minio_publish_host "
        "(docs/role-conventions.md, the contract between tiers)"
    ]
    add_publish_entry_point(role)
    (role / "tasks" / "publish.yml").unlink()
    assert specs_checker.check_role(role) == ["minio: entry point publish has no tasks/publish.yml"]
    assert specs_checker.check_role(make_role(tmp_path, "docker", {}, {})) == []


@pytest.mark.parametrize(
    ("defaults", "options", "expected"),
    [
        ({"wandb_redis_port": 6379}, {}, "wandb_redis_port is not documented"),
        (
            {"wandb_redis_port": 6379},
            {"wandb_redis_port": {"default": 6380, "description": "Port."}},
            "defaults to 6379 in defaults/main.yml but 6380",
        ),
        ({}, {"wandb_redis_port": {"default": 6379, "description": "Port."}}, "has a documented default but none"),
        ({"redis_port": 1}, {"redis_port": {"default": 1, "description": "x"}}, "lacks the prefix wandb_redis_"),
        ({}, {"wandb_redis_bind": {"type": "str"}}, "has no description"),
    ],
)
def test_mismatches_are_reported(tmp_path, specs_checker, defaults, options, expected):
    role = make_role(tmp_path, "redis", defaults, options)
    problems = specs_checker.check_role(role)
    assert any(expected in problem for problem in problems), problems


def build_tarball(path, names):
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            data = b"x"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


REQUIRED = list(load_script("check_artifact.py").REQUIRED)


def test_artifact_check_accepts_a_clean_tarball(tmp_path):
    tarball = tmp_path / "ok.tar.gz"
    build_tarball(tarball, [*REQUIRED, "plugins/modules/settings.py"])
    assert load_script("check_artifact.py").main(str(tarball)) == 0


@pytest.mark.parametrize("leak", ["tests/unit/test_x.py", "molecule/smoke/molecule.yml", ".ci/run"])
def test_artifact_check_rejects_test_files(tmp_path, leak, capsys):
    tarball = tmp_path / "leaky.tar.gz"
    build_tarball(tarball, [*REQUIRED, leak])
    assert load_script("check_artifact.py").main(str(tarball)) == 1
    assert leak in capsys.readouterr().out


def test_artifact_check_wants_the_awx_content(tmp_path, capsys):
    tarball = tmp_path / "no-awx.tar.gz"
    build_tarball(tarball, [name for name in REQUIRED if not name.startswith("extensions/awx/")])
    assert load_script("check_artifact.py").main(str(tarball)) == 1
    assert "missing extensions/awx/configure-awx.yml" in capsys.readouterr().out


def test_defaults_of_other_entry_points_are_matched(tmp_path, specs_checker):
    role = make_role(tmp_path, "secrets", {"wandb_secrets_cert_owner": "root"}, {})
    specs_file = role / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(specs_file.read_text())
    specs["argument_specs"]["certificate"] = {
        "options": {"wandb_secrets_cert_owner": {"default": "mysql", "description": "Key owner."}}
    }
    specs_file.write_text(yaml.safe_dump(specs))
    problems = specs_checker.check_role(role)
    assert any("'root' in defaults/main.yml but 'mysql'" in problem for problem in problems), problems
