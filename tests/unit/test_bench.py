"""The benchmark harness's own logic (benchmarks/): the bench shapes built from the Molecule
configuration, the profile read from the json callback, the statistics and the goal verdicts. The
harness itself runs in `make bench-smoke` (a stage of make test) against lab hosts."""

import ipaddress
import json
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

import bench  # noqa: E402
import lab  # noqa: E402
import report  # noqa: E402


def test_the_fleet_shape_gets_bench_names_and_addresses_everywhere():
    platforms, inventory = lab.scenario_shape("fleet", lab.SHAPES["fleet"])
    names = [platform["name"] for platform in platforms]
    assert names == list(lab.SHAPES["fleet"].values())
    addresses = [platform["networks"][0]["ipv4_address"] for platform in platforms]
    assert all(address.startswith("172.30.91.") for address in addresses)
    assert {platform["networks"][0]["name"] for platform in platforms} == {lab.NETWORK}
    text = json.dumps(inventory)
    # No scenario host name or scenario address is left for the bench hosts to collide with.
    assert "172.30.90." not in text
    for scenario_name in lab.SHAPES["fleet"]:
        assert '"%s"' % scenario_name not in text
    assert inventory["all"]["vars"]["wandb_server_etc_hosts"]["bench-fleet-mysql"] == "172.30.91.31"
    assert inventory["all"]["hosts"]["bench-fleet-app2"]["wandb_server_standby"] is True
    assert list(inventory["all"]["children"]["wandb_backup"]["hosts"]) == ["bench-fleet-mysql"]


def test_the_all_in_one_shape_keeps_the_shared_configuration():
    platforms, inventory = lab.scenario_shape("all-in-one", lab.SHAPES["all-in-one"])
    # The scenario's training host is left out: it needs the scenario's prepare step.
    assert [platform["name"] for platform in platforms] == ["bench-aio"]
    assert "wandb_client" not in inventory["all"]["children"]
    variables = inventory["all"]["vars"]
    # From .config/molecule/config.yml, with Molecule's `$$` escape undone.
    assert variables["wandb_mysql_apt_suite"] == "sid"
    assert "$$" not in json.dumps(variables) and "[^:/]*$'" in variables["wandb_server_image"]
    # A name inside another word is not a host name.
    assert variables["wandb_server_license"] == "lab-license-all-in-one-not-real"
    assert variables["wandb_server_settings"]["SLACK_SECRET"] == "lab-slack-secret-all-in-one"
    assert variables["wandb_proxy_extra_names"] == ["IP:172.30.91.10"]


def test_scaling_platforms_replace_the_scenario_hosts():
    platforms = [{"name": "bench-redis-%d" % index, "groups": ["wandb_redis"]} for index in (1, 2)]
    _platforms, inventory = lab.scenario_shape("redis", {}, platforms)
    assert list(inventory["all"]["children"]["wandb_redis"]["hosts"]) == ["bench-redis-1", "bench-redis-2"]
    assert inventory["all"]["children"]["wandb_redis"]["vars"]["wandb_redis_tls_mode"] == "lab_ca"


def test_profile_sums_a_task_over_hosts_and_counts_changes(tmp_path):
    def task(name, start, end, hosts):
        return {"task": {"name": name, "duration": {"start": start, "end": end}}, "hosts": hosts}

    output = {
        "plays": [
            {
                "tasks": [
                    task("slow", "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:05.500000Z", {"a": {}, "b": {}}),
                    task(
                        "fast", "2026-01-01T00:00:06.000000Z", "2026-01-01T00:00:06.250000Z", {"a": {"changed": True}}
                    ),
                ]
            },
            {"tasks": [task("slow", "2026-01-01T00:00:07Z", "2026-01-01T00:00:08Z", {"a": {"failed": True}})]},
        ],
        "stats": {"a": {"changed": 1}, "b": {"changed": 0}},
    }
    log = tmp_path / "run.json"
    log.write_text("[WARNING]: a warning before the JSON\n" + json.dumps(output))
    profile = lab.read_profile(log)
    assert profile["tasks"] == 3
    assert profile["changed"] == 1
    assert profile["top_tasks"] == [{"task": "slow", "seconds": 6.5}, {"task": "fast", "seconds": 0.25}]
    assert profile["failed_tasks"] == ["a: slow"]


def test_profile_gives_each_host_its_span_in_a_play_without_skipped_tasks(tmp_path):
    def task(start, end, hosts):
        return {"task": {"name": "t", "duration": {"start": start, "end": end}}, "hosts": hosts}

    play = {
        "play": {"name": "Data tier", "duration": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:30Z"}},
        "tasks": [
            task("2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", {"m": {}, "r": {"skipped": True}}),
            task("2026-01-01T00:00:02Z", "2026-01-01T00:00:12Z", {"m": {}, "r": {"skipped": True}}),
            task("2026-01-01T00:00:12Z", "2026-01-01T00:00:15Z", {"m": {"skipped": True}, "r": {}}),
        ],
    }
    log = tmp_path / "run.json"
    log.write_text(json.dumps({"plays": [play], "stats": {}}))
    assert lab.read_profile(log)["plays"] == [
        {"play": "Data tier", "seconds": 30.0, "tasks": 3, "hosts": {"m": 11.0, "r": 3.0}}
    ]


def test_tier_goal_takes_the_slowest_tier_alone_from_the_linear_run():
    plays = [
        {"play": "Data tier", "seconds": 40.0},
        {"play": "W&B server", "seconds": 20.0},
        {"play": "Reverse proxy", "seconds": 5.0},
    ]
    linear = [{"play": "Data tier", "seconds": 70.0, "hosts": {"m": 35.0, "r": 10.0, "s": 25.0}}]
    goal = bench.tier_goal(plays, 78.0, linear, {"wandb_mysql": ["m"], "wandb_redis": ["r"], "wandb_minio": ["s"]})
    assert goal["reference_seconds"] == 60.0
    assert goal["tiers_alone_seconds"] == {"wandb_mysql": 35.0, "wandb_redis": 10.0, "wandb_minio": 25.0}
    assert goal["ratio"] == 1.3
    assert bench.tier_goal(plays, 78.0, [], {}) is None


def test_stats_and_median_profile():
    entry = bench.stats([3.0, 1.0, 2.0])
    assert (entry["median"], entry["min"], entry["max"], entry["n"]) == (2.0, 1.0, 3.0, 3)
    profiles = [{"seconds": 9}, {"seconds": 1}, {"seconds": 5}]
    assert bench.median_profile(profiles) == {"seconds": 5}


@pytest.mark.parametrize(
    ("value", "limit", "kind", "met"),
    [(1.1, 1.3, "max", True), (1.7, 1.2, "max", False), (0.9, 0.8, "min", True), (0.5, 0.8, "min", False)],
)
def test_verdict_says_met_or_missed_and_by_how_much(value, limit, kind, met):
    text = report.verdict(value, limit, kind)
    assert text.startswith("met") is met
    assert ("%.2f" % abs(limit - value)) in text


def results_fixture():
    point = {"converge": bench.stats([10, 12]), "rerun": bench.stats([5, 6]), "converge_ratio": 1.0, "rerun_ratio": 1.0}
    return {
        "date": "2026-01-01T00:00:00+00:00",
        "mode": "full",
        "repeat": 2,
        "converge_repeat": 2,
        "machine": {"cpu": "x", "cores": 2, "load_average": [1, 1, 1], "other_containers": ["fleet-mysql"]},
        "figures": {
            "fresh": {
                "site_yml": bench.stats([100, 110]),
                "floor": bench.stats([40, 50]),
                "ratio": 2.33,
                "tasks": 170,
                "top_tasks": [{"task": "t", "seconds": 1.0}],
            },
            "window": {"skipped": "not yet"},
            "scaling": {
                "tier": "redis",
                "points": [dict(point, hosts=1), dict(point, hosts=2, converge_ratio=1.5, rerun_ratio=1.2)],
            },
        },
    }


def test_table_and_report_carry_every_figure(tmp_path):
    results = results_fixture()
    table = report.table(results)
    assert "2.33x" in table and "**missed**" in table
    assert "skipped: not yet" in table
    assert "1.50x at 2 hosts" in table
    text = report.markdown(results)
    assert "fleet-mysql" in text and "ratios are the figures to compare" in text


def test_chart_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = report.chart(results_fixture(), tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_window_figure_in_table_and_chart(tmp_path):
    pytest.importorskip("matplotlib")
    results = results_fixture()
    timeline = [[0.0, True], [0.1, False], [0.2, True]]
    results["figures"]["window"] = {
        "change": bench.stats([3.0, 4.0]),
        "floor": bench.stats([1.0, 2.0]),
        "ratio": 2.33,
        "timelines": {"settings change (recreate)": timeline, "floor (stop+start)": timeline},
    }
    assert "recreate 3.5 s (3.0-4.0, n=2)" in report.table(results)
    assert "Error window through the proxy" in report.markdown(results)
    assert report.chart(results, tmp_path / "chart.png").stat().st_size > 1000


def test_a_failed_mydumper_comparison_shows_its_reason_not_only_the_version():
    results = results_fixture()
    side = {"program": bench.stats([10, 11]), "raw": bench.stats([9, 10]), "ratio": 0.9}
    side.update(program_mb_s=10.0, raw_mb_s=11.0)
    results["figures"]["backup"] = {
        "data": {"total_bytes": 100e6, "rows": 1, "objects": 1, "object_bytes": 1, "sql_bytes": 1},
        "backup": side,
        "restore": dict(side),
        "dumpers": {"version": "mydumper 0.10.0", "failed": "Traceback ...\nmydumper failed (exit 1): no SHOW MASTER"},
    }
    row = next(line for line in report.table(results).splitlines() if "mydumper vs mysqldump" in line)
    assert "mydumper 0.10.0" in row and "failed: mydumper failed (exit 1): no SHOW MASTER" in row


def test_failover_figure_in_table_and_report():
    results = results_fixture()
    results["figures"]["failover"] = {
        "interval_ms": 100,
        "failover": bench.stats([6.0, 12.0]),
        "longest_outage": bench.stats([5.0, 11.0]),
        "floor": bench.stats([2.0, 3.0]),
        "detection_interval_seconds": 1.0,
        "handover_delay_seconds": 2.0,
        "over_floor_seconds": 6.5,
    }
    table = report.table(results)
    assert "failover 9.0 s (6.0-12.0, n=2)" in table and "floor + 6.5 s" in table
    assert "<= 10 s | met" in table
    results["figures"]["failover"]["failover"] = bench.stats([11.0, 12.0])
    assert "**missed**" in report.table(results).split("4c.")[1].splitlines()[0]
    assert "detection interval (1.0 s)" in report.markdown(results)
    results["figures"]["failover"] = {"skipped": "no watchdog"}
    assert "skipped: no watchdog" in report.table(results)


def test_the_bench_network_overlaps_no_lab_network_of_the_scenarios():
    # Docker refuses a network whose subnet overlaps another's: the bench and the scenarios run on one engine.
    shared = yaml.safe_load((REPO / "molecule" / "_shared" / "lab.yml").read_text())
    bench_net = ipaddress.ip_network(lab.SUBNET)
    for name in ("wandb_lab_subnet", "wandb_lab_offline_subnet"):
        assert not bench_net.overlaps(ipaddress.ip_network(shared[name])), name
