# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import re
import stat

import pytest
import yaml
from docker.errors import APIError
from fake_docker import STANDIN_LINE, FakeAPI, FakeClient, FakeTime, fake_open_url
from harness import run_module

from ansible_collections.wandb_local.fleet.plugins.module_utils import _wandb_restore_mode
from ansible_collections.wandb_local.fleet.plugins.module_utils._wandb_restore_mode import (
    DEFAULT_CREDENTIALS_PATTERN,
    RestoreProblem,
    clone_spec,
    compile_credentials_pattern,
    default_ready_url,
    find_credentials,
    mask_log_text,
    new_environment,
    wait_for_credentials,
)
from ansible_collections.wandb_local.fleet.plugins.modules import restore_mode

MYSQL_PASSWORD = "Db-Pa55word-9"
LICENSE = "eyJhbGciOi.license-value.x9"
ENV_FILE = (
    "# W&B server environment\n"
    "HOST=https://wandb.example.net\n"
    "LICENSE=%s\n"
    "MYSQL=mysql://wandb_local:%s@db1:3306/wandb_local\n" % (LICENSE, MYSQL_PASSWORD)
)
FILE_ENV = [line for line in ENV_FILE.splitlines() if not line.startswith("#")]


@pytest.fixture
def engine(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(_wandb_restore_mode, "time", clock)
    api = FakeAPI(clock)
    api.add_image("wandb-fleet-lab/wandb-standin:0.1.0", "sha256:" + "1" * 64)
    ready_calls = []
    monkeypatch.setattr(restore_mode, "docker_client", lambda: FakeClient(api))
    monkeypatch.setattr(restore_mode, "open_url", fake_open_url(api, ready_calls))
    api.ready_calls = ready_calls
    return api


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / "wandb.env"
    path.write_text(ENV_FILE)
    path.chmod(0o600)
    return path


def run(env_file, state, **options):
    check_mode = options.pop("check_mode", False)
    diff = options.pop("diff", False)
    args = dict(state=state, path=str(env_file), timeout=options.pop("timeout", 60), **options)
    return run_module(restore_mode.main, args, check_mode, diff)


def only_container(api):
    assert len(api.containers) == 1, [c.attrs["Name"] for c in api.containers.values()]
    return next(iter(api.containers.values()))


def mutating_calls(api):
    return [call[0] for call in api.calls if call[0] not in ("inspect", "logs")]


# --- enabled -----------------------------------------------------------------------------------


def test_enable_sets_the_variable_recreates_the_container_identically_and_returns_credentials(engine, env_file):
    old = engine.add_container("wandb-local", FILE_ENV)
    old_attrs = json.loads(json.dumps(old.attrs))
    result = run(env_file, "enabled")
    assert not result.failed, result
    assert result["changed"] and result["credentials_found"]
    assert result["username"] == "restore@wandb.com"
    assert result["password"] == "AbCdEfGhJkMnPqRsTuVw"
    assert "LOCAL_RESTORE=true\n" in env_file.read_text()

    new = only_container(engine)
    assert new.attrs["Id"] != old_attrs["Id"]
    assert new.attrs["Name"] == "/wandb-local"
    config = new.attrs["Config"]
    assert config["Env"] == [*old_attrs["Config"]["Env"], "LOCAL_RESTORE=true"]
    for field in ("Image", "User", "Labels", "Entrypoint", "ExposedPorts", "StopSignal"):
        assert config[field] == old_attrs["Config"][field], field
    assert "Hostname" not in config, "the generated hostname was the old container's ID"
    host_config = new.attrs["HostConfig"]
    for field in ("PortBindings", "RestartPolicy", "NetworkMode", "LogConfig"):
        assert host_config[field] == old_attrs["HostConfig"][field], field
    assert host_config["Binds"] == [*old_attrs["HostConfig"]["Binds"], "f" * 64 + ":/cache"]
    assert new.attrs["NetworkSettings"]["Networks"]["wandb"]["Aliases"] == ["wandb-local"]
    assert new.attrs["NetworkSettings"]["Networks"]["wandb"]["IPAMConfig"] == {"IPv4Address": "172.30.0.10"}
    assert new.networks_connected == [("monitoring", {"aliases": ["wandb"], "links": None})]
    removes = [call for call in engine.calls if call[0] == "remove"]
    assert removes == [("remove", old_attrs["Id"], False, False)], "the old container goes, its volumes stay"


def test_settings_path_is_still_an_alias_of_path(engine, env_file):
    engine.add_container("wandb-local", FILE_ENV)
    result = run_module(restore_mode.main, dict(state="enabled", settings_path=str(env_file), timeout=60))
    assert not result.failed, result
    assert result["changed"] and result["credentials_found"]
    assert "LOCAL_RESTORE=true\n" in env_file.read_text()
    assert result["invocation"]["module_args"]["path"] == str(env_file)
    assert not result.warnings


def test_settings_path_given_in_the_task_wins_over_a_group_default_path(engine, env_file, tmp_path):
    # module_defaults merges the group's `path` into the task's own options.
    engine.add_container("wandb-local", FILE_ENV)
    elsewhere = tmp_path / "elsewhere.env"
    result = run_module(
        restore_mode.main, dict(state="enabled", path=str(elsewhere), settings_path=str(env_file), timeout=60)
    )
    assert not result.failed, result
    assert "LOCAL_RESTORE=true\n" in env_file.read_text()
    assert not elsewhere.exists()


def test_credentials_come_only_from_log_lines_written_after_the_restart(engine, env_file):
    engine.add_container("wandb-local", FILE_ENV)
    since_values = []
    original_logs = engine.logs

    def recording_logs(container_id, **kwargs):
        since_values.append(kwargs.get("since"))
        return original_logs(container_id, **kwargs)

    engine.logs = recording_logs
    start_time = engine.time.now
    run(env_file, "enabled")
    assert since_values and all(since is not None and since >= start_time for since in since_values)


def test_wait_ignores_a_stale_credentials_line_from_before_the_restart(engine):
    api = engine
    container = api.add_container("wandb-local", ["LOCAL_RESTORE=true"], running=False)
    api.emit(container, -100, STANDIN_LINE % "OldStalePassword1234")
    container.attrs["State"]["Running"] = True
    pattern = compile_credentials_pattern(DEFAULT_CREDENTIALS_PATTERN)
    since = api.time.now
    with pytest.raises(RestoreProblem) as problem:
        wait_for_credentials(api, container.attrs["Id"], since, pattern, timeout=10)
    assert "OldStalePassword1234" not in str(problem.value) + " ".join(problem.value.log_tail)
    api.emit(container, 1, STANDIN_LINE % "FreshPassword5678xyz")
    assert wait_for_credentials(api, container.attrs["Id"], since, pattern, timeout=10) == (
        "restore@wandb.com",
        "FreshPassword5678xyz",
    )


def test_second_enable_is_unchanged_reads_the_same_credentials_and_warns(engine, env_file):
    engine.add_container("wandb-local", FILE_ENV)
    first = run(env_file, "enabled")
    calls_before = len(mutating_calls(engine))
    second = run(env_file, "enabled")
    assert not second["changed"]
    assert second["password"] == first["password"]
    assert len(mutating_calls(engine)) == calls_before, "nothing recreated"
    assert any("Restore mode was found enabled" in warning for warning in second.warnings)
    assert not any("found enabled" in warning for warning in first.warnings)


def test_enable_recreates_for_new_credentials_when_the_logs_lost_them(engine, env_file):
    engine.add_container("wandb-local", FILE_ENV)
    run(env_file, "enabled")
    only_container(engine).log.clear()
    again = run(env_file, "enabled")
    assert again["changed"] and again["credentials_found"]
    assert any("no longer hold the credentials" in warning for warning in again.warnings)


def test_credentials_file_is_private_and_replaces_the_returned_values(engine, env_file, tmp_path):
    engine.add_container("wandb-local", FILE_ENV)
    target = tmp_path / "restore-credentials.yml"
    result = run(env_file, "enabled", credentials_file=str(target))
    assert "password" not in result and "username" not in result
    assert result["credentials_file"] == str(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert yaml.safe_load(target.read_text()) == {"username": "restore@wandb.com", "password": "AbCdEfGhJkMnPqRsTuVw"}
    assert "AbCdEfGhJkMnPqRsTuVw" not in json.dumps(result)
    assert not run(env_file, "enabled", credentials_file=str(target))["changed"]


def test_timeout_fails_with_the_last_log_lines_masked(engine, env_file):
    def chatty_program(api, container):
        for n in range(30):
            api.emit(container, n * 0.1, "startup step %d" % n)
        api.emit(container, 3.1, "connecting to mysql://wandb_local:%s@db1:3306/wandb_local" % MYSQL_PASSWORD)
        api.emit(container, 3.2, "license loaded: %s" % LICENSE)
        api.emit(container, 3.3, "temporary admin created, secret: Tmp-Secret-77")

    engine.program = chatty_program
    engine.add_container("wandb-local", FILE_ENV)
    result = run(env_file, "enabled", timeout=30)
    assert result.failed
    assert "credentials_pattern" in result["msg"]
    tail = result["log_tail"]
    assert len(tail) == 20
    assert tail[-1] == "temporary admin created, secret: ********"
    assert "connecting to mysql://wandb_local:********@db1:3306/wandb_local" in tail
    raw = json.dumps(result)
    for secret in (MYSQL_PASSWORD, LICENSE, "Tmp-Secret-77"):
        assert secret not in raw
    assert "LOCAL_RESTORE=true" in env_file.read_text(), "the container stays in restore mode, as documented"


def test_a_container_that_exits_fails_fast(engine, env_file):
    def crashing_program(api, container):
        api.emit(container, 0, "fatal: cannot open /vol")
        container.attrs["State"].update(Running=False, ExitCode=2)

    engine.program = crashing_program
    engine.add_container("wandb-local", FILE_ENV, running=False)
    result = run(env_file, "enabled", timeout=600)
    assert result.failed
    assert "exit code 2" in result["msg"]
    assert result["log_tail"] == ["fatal: cannot open /vol"]
    assert engine.time.slept < 600


def test_custom_pattern_and_bad_patterns(engine, env_file):
    engine.program = lambda api, c: api.emit(c, 1, "admin user root, temporary password Xy-123")
    engine.add_container("wandb-local", FILE_ENV)
    result = run(
        env_file, "enabled", credentials_pattern=r"admin user (?P<username>\S+), temporary password (?P<password>\S+)"
    )
    assert (result["username"], result["password"]) == ("root", "Xy-123")
    for pattern, words in (("(unclosed", "not a valid regular expression"), (r"user (\S+)", "named groups")):
        failed = run(env_file, "enabled", credentials_pattern=pattern)
        assert failed.failed and words in failed["msg"]


def test_enable_in_check_mode_changes_nothing(engine, env_file):
    engine.add_container("wandb-local", FILE_ENV)
    before = env_file.read_bytes()
    result = run(env_file, "enabled", check_mode=True, diff=True)
    assert result["changed"] and not result["credentials_found"]
    assert env_file.read_bytes() == before
    assert mutating_calls(engine) == []
    assert "LOCAL_RESTORE=true" in result["diff"]["after"]
    assert LICENSE not in json.dumps(result) and MYSQL_PASSWORD not in json.dumps(result)


def test_a_failed_recreate_puts_the_old_container_and_file_back(engine, env_file):
    old = engine.add_container("wandb-local", FILE_ENV)
    engine.fail_on["start"] = APIError("port is already allocated")
    before = env_file.read_bytes()
    result = run(env_file, "enabled")
    assert result.failed and "port is already allocated" in result["msg"]
    survivor = only_container(engine)
    assert survivor.attrs["Id"] == old.attrs["Id"]
    assert survivor.attrs["Name"] == "/wandb-local"
    assert survivor.attrs["State"]["Running"]
    assert env_file.read_bytes() == before


def test_a_moved_tag_keeps_the_running_image(engine, env_file):
    old = engine.add_container("wandb-local", FILE_ENV)
    engine.add_image("wandb-fleet-lab/wandb-standin:0.1.0", "sha256:" + "2" * 64)
    result = run(env_file, "enabled")
    assert only_container(engine).attrs["Config"]["Image"] == old.attrs["Image"]
    assert any("now names another image" in warning for warning in result.warnings)


def test_missing_container_and_missing_file_fail_clearly(engine, env_file, tmp_path):
    result = run(env_file, "enabled", container="nope")
    assert result.failed and "container nope does not exist" in result["msg"]
    engine.add_container("wandb-local", FILE_ENV)
    result = run(tmp_path / "absent.env", "enabled")
    assert result.failed and "does not exist" in result["msg"]


# --- disabled ----------------------------------------------------------------------------------


def test_disable_removes_the_variable_recreates_and_waits_for_ready(engine, env_file):
    engine.add_container("wandb-local", FILE_ENV)
    run(env_file, "enabled")
    result = run(env_file, "disabled", diff=True)
    assert not result.failed, result
    assert result["changed"]
    assert "LOCAL_RESTORE" not in env_file.read_text()
    container = only_container(engine)
    assert not any(item.startswith("LOCAL_RESTORE=") for item in container.attrs["Config"]["Env"])
    assert result["ready_url"] == "http://127.0.0.1:8080/ready"
    assert engine.ready_calls and set(engine.ready_calls) == {"http://127.0.0.1:8080/ready"}
    assert len(engine.ready_calls) > 1, "it waited through the 503s"
    assert any("Restore mode was found enabled" in warning for warning in result.warnings)
    assert "-LOCAL_RESTORE" not in result["diff"]["after"] and "LOCAL_RESTORE=true" in result["diff"]["before"]

    again = run(env_file, "disabled")
    assert not again["changed"]
    assert not again.warnings


def test_disable_recreates_when_only_the_running_container_has_restore_mode(engine, env_file):
    engine.add_container("wandb-local", [*FILE_ENV, "LOCAL_RESTORE=true"])
    before = env_file.read_bytes()
    result = run(env_file, "disabled")
    assert result["changed"]
    assert env_file.read_bytes() == before
    assert "LOCAL_RESTORE=true" not in only_container(engine).attrs["Config"]["Env"]


def test_disable_times_out_with_masked_logs(engine, env_file):
    engine.program = lambda api, c: (
        api.emit(c, 0, "waiting for mysql://wandb_local:%s@db1/wandb_local" % MYSQL_PASSWORD)
        or setattr(c, "ready_at", float("inf"))
    )
    engine.add_container("wandb-local", [*FILE_ENV, "LOCAL_RESTORE=true"])
    result = run(env_file, "disabled", timeout=20)
    assert result.failed and "did not answer 200" in result["msg"] and "HTTP 503" in result["msg"]
    assert MYSQL_PASSWORD not in json.dumps(result)
    assert result["log_tail"] == ["waiting for mysql://wandb_local:********@db1/wandb_local"]


def test_disable_in_check_mode_changes_nothing(engine, env_file):
    env_file.write_text(ENV_FILE + "LOCAL_RESTORE=true\n")
    engine.add_container("wandb-local", [*FILE_ENV, "LOCAL_RESTORE=true"])
    result = run(env_file, "disabled", check_mode=True)
    assert result["changed"]
    assert "LOCAL_RESTORE=true" in env_file.read_text()
    assert mutating_calls(engine) == []


def test_disable_deletes_the_credentials_file_that_enable_wrote(engine, env_file, tmp_path):
    engine.add_container("wandb-local", FILE_ENV)
    target = tmp_path / "restore-credentials.yml"
    assert run(env_file, "enabled", credentials_file=str(target))["credentials_found"]
    assert target.exists()

    checked = run(env_file, "disabled", credentials_file=str(target), check_mode=True)
    assert checked["changed"] and checked["credentials_file_removed"]
    assert target.exists(), "check mode deletes nothing"

    result = run(env_file, "disabled", credentials_file=str(target))
    assert not result.failed, result
    assert result["credentials_file_removed"] and result["credentials_file"] == str(target)
    assert not target.exists()
    assert "AbCdEfGhJkMnPqRsTuVw" not in result.raw

    again = run(env_file, "disabled", credentials_file=str(target))
    assert not again["changed"] and not again["credentials_file_removed"]


def test_disable_deletes_a_credentials_file_left_behind_when_restore_mode_is_already_off(engine, env_file, tmp_path):
    engine.add_container("wandb-local", FILE_ENV)
    target = tmp_path / "restore-credentials.yml"
    target.write_text("username: restore@wandb.com\npassword: old\n")
    result = run(env_file, "disabled", credentials_file=str(target))
    assert result["changed"] and result["credentials_file_removed"]
    assert not target.exists()
    assert mutating_calls(engine) == [], "nothing recreated"


def test_a_failed_disable_keeps_no_credentials_file_once_the_container_runs_without_restore_mode(
    engine, env_file, tmp_path
):
    engine.add_container("wandb-local", [*FILE_ENV, "LOCAL_RESTORE=true"])
    engine.program = lambda api, c: setattr(c, "ready_at", float("inf"))
    target = tmp_path / "restore-credentials.yml"
    target.write_text("username: restore@wandb.com\npassword: old\n")
    result = run(env_file, "disabled", credentials_file=str(target), timeout=5)
    assert result.failed and "did not answer 200" in result["msg"]
    assert not target.exists(), "the temporary login ended with the recreate"


# --- pieces ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2026/01/01 10:00:00 Restore mode: log in with username: restore@wandb.com password: AbCdEfGhJkMnPqRsTuVw",
            ("restore@wandb.com", "AbCdEfGhJkMnPqRsTuVw"),
        ),
        ("user=restore password=xyz123", ("restore", "xyz123")),
        ('{"level":"info","username":"restore","password":"p4ss"}', ("restore", "p4ss")),
        ("Username 'restore' Password 'abc'", ("restore", "abc")),
        ("login: restore@wandb.com, password: Zz9", ("restore@wandb.com", "Zz9")),
        ("temporary credentials: user name = restore and pwd = QWERTY", ("restore", "QWERTY")),
        ("USERNAME: restore\nPASSWORD: NextLine", ("restore", "NextLine")),
        ("LOCAL_RESTORE is set: SSO is disabled until it is removed.", None),
        ("password reset requested for user bob", None),
    ],
)
def test_default_pattern(line, expected):
    assert find_credentials(compile_credentials_pattern(DEFAULT_CREDENTIALS_PATTERN), line) == expected


def test_default_pattern_is_the_documented_default():
    documented = yaml.safe_load(restore_mode.DOCUMENTATION)["options"]["credentials_pattern"]["default"]
    assert documented == DEFAULT_CREDENTIALS_PATTERN


def test_mask_log_text():
    text = "dsn=mysql://u:Hunter2@db/x token=abc123 LICENSE %s password: 'quoted pw'" % LICENSE
    masked = mask_log_text(text, {LICENSE})
    assert "Hunter2" not in masked and "abc123" not in masked and LICENSE not in masked and "quoted" not in masked
    assert masked.startswith("dsn=mysql://u:********@db/x")


def test_new_environment_replaces_only_what_the_file_owned():
    container = ["PATH=/bin", "FROM_RUN=1", "HOST=old", "GONE=x", "LOCAL_RESTORE=true"]
    env = new_environment(container, {"HOST": "old", "GONE": "x"}, {"HOST": "new"}, drop=("LOCAL_RESTORE",))
    assert env == ["PATH=/bin", "FROM_RUN=1", "HOST=new"]


def test_clone_spec_for_host_networking_drops_hostname_and_networks():
    attrs = {
        "Id": "a" * 64,
        "Name": "/wandb-local",
        "Config": {"Hostname": "myhost", "Image": "x", "Env": []},
        "HostConfig": {"NetworkMode": "host"},
        "NetworkSettings": {"Networks": {"host": {"Aliases": None}}},
    }
    config, later = clone_spec(attrs, ["A=1"], "x")
    assert "Hostname" not in config and "NetworkingConfig" not in config and later == []
    assert config["Env"] == ["A=1"]


@pytest.mark.parametrize(
    ("ports", "network_mode", "networks", "url"),
    [
        ({"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "18080"}]}, "bridge", {}, "http://127.0.0.1:18080/ready"),  # noqa: S104
        ({"8080/tcp": [{"HostIp": "::", "HostPort": "8080"}]}, "bridge", {}, "http://[::1]:8080/ready"),
        ({"8080/tcp": [{"HostIp": "10.1.2.3", "HostPort": "8080"}]}, "bridge", {}, "http://10.1.2.3:8080/ready"),
        ({}, "host", {}, "http://127.0.0.1:8080/ready"),
        ({}, "wandb", {"wandb": {"IPAddress": "172.30.0.10"}}, "http://172.30.0.10:8080/ready"),
    ],
)
def test_default_ready_url(ports, network_mode, networks, url):
    attrs = {
        "NetworkSettings": {"Ports": ports, "IPAddress": "", "Networks": networks},
        "HostConfig": {"NetworkMode": network_mode},
    }
    assert default_ready_url(attrs) == url


def test_the_stand_in_line_format_matches_the_go_source():
    source = (restore_mode.__file__.rsplit("/plugins/", 1)[0]) + "/tests/standin/main.go"
    with open(source) as handle:
        go = handle.read()
    printed = re.search(r'log\.Printf\("(Restore mode: [^"]+)"', go).group(1)
    # The stand-in's user is restore@wandb.com (extras.go); the fake prints the same line.
    assert printed % ("restore@wandb.com", "{}") == STANDIN_LINE % "{}"
