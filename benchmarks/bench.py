# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench: every figure side by side with its reference, in one run, repeated, as a ratio.

  python benchmarks/bench.py [--repeat N] [--converge-repeat N] [--only fresh,rerun,...] [--smoke]

Figures (benchmarks/README.md says what each measures and why):
  fresh    site.yml on a fresh all-in-one host vs benchmarks/floor-all-in-one.sh on an identical one
  rerun    idempotent site.yml on the all-in-one and on the fleet, with the top tasks by time
  window   the error window through the proxy of a settings change vs container stop+start+ready
  upgrade  the error window through the proxy of upgrade.yml to the next release vs its stop+start+ready
  backup   the backup program vs mysqldump | gzip + mc mirror (and mydumper vs mysqldump)
  failover the error window through the proxy of the active server host stopped vs the watchdog's
           detection interval plus the standby's container started by hand until /ready
  scaling  converge and rerun of the redis tier on 1, 2, 4 and 8 hosts

--smoke (make test): the scaling figure on one host, once, and the whole report; no thresholds.
Writes build/bench/results.json, report.md and chart.png, and prints the table. --only keeps the
other figures of an earlier results.json, so a figure can be measured again alone.
"""

import argparse
import datetime
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab
import report

ORDER = ["fresh", "rerun", "window", "upgrade", "backup", "failover", "scaling"]
HERE = Path(__file__).resolve().parent
AIO = {"name": "bench-aio"}
FLOOR = {
    "name": "bench-floor",
    "networks": [{"name": lab.NETWORK, "ipv4_address": lab.BENCH_NET + "11"}],
    "volumes": ["/var/lib/docker"],
}


def stats(values):
    values = [round(value, 2) for value in values]
    return {
        "median": round(statistics.median(values), 2),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": values,
    }


DATA_TIER_PLAY = "Data tier"
DATA_TIER_GROUPS = ("wandb_mysql", "wandb_redis", "wandb_minio")


def tier_goal(plays, total, linear_plays, tier_hosts):
    """Issue 14's converge goal for the fleet: the whole run against the slowest data tier alone plus the
    server's and the proxy's plays. A tier alone is its hosts' span in a linear run's data-tier play (there the
    tiers run one after another); the server and proxy plays are the measured run's own."""
    seconds = {play["play"]: play["seconds"] for play in plays}
    linear = {play["play"]: play for play in linear_plays}
    if not all(name in seconds for name in (DATA_TIER_PLAY, "W&B server", "Reverse proxy")):
        return None
    if DATA_TIER_PLAY not in linear:
        return None
    spans = linear[DATA_TIER_PLAY].get("hosts", {})
    alone = {
        group: max((spans.get(host, 0.0) for host in hosts), default=0.0)
        for group, hosts in tier_hosts.items()
        if hosts
    }
    slowest = max(alone.values(), default=0.0)
    reference = slowest + seconds["W&B server"] + seconds["Reverse proxy"]
    return {
        "reference_seconds": round(reference, 2),
        "tiers_alone_seconds": {group: round(value, 2) for group, value in alone.items()},
        "data_tier_seconds": seconds[DATA_TIER_PLAY],
        "data_tier_linear_seconds": linear[DATA_TIER_PLAY]["seconds"],
        "ratio": round(total / reference, 2),
        "ratio_max": 1.2,
    }


def median_profile(profiles):
    """The profile of the run whose time is the median (its top tasks stand for the figure)."""
    ordered = sorted(profiles, key=lambda profile: profile["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.lab = lab.Lab()
        self.aio = None
        self.fleet = None

    # --- shapes ------------------------------------------------------------------------------------
    def _aio_site(self):
        platforms, inventory = lab.scenario_shape("all-in-one", lab.SHAPES["all-in-one"])
        return lab.Site("all-in-one", platforms, inventory)

    def _fresh_aio(self):
        site = self._aio_site()
        self.lab.create(site.platforms)
        site.reset_secrets()
        profile = site.playbook("site.yml", label="fresh")
        self.aio = site
        return profile

    def need_aio(self):
        if self.aio is None:
            log("all-in-one: converging a fresh host first (not measured)")
            self._fresh_aio()
        return self.aio

    def need_fleet(self):
        if self.fleet is None:
            platforms, inventory = lab.scenario_shape("fleet", lab.SHAPES["fleet"])
            site = lab.Site("fleet", platforms, inventory)
            self.lab.create(site.platforms)
            site.reset_secrets()
            log("fleet: converging 6 fresh hosts")
            self.fleet_converge = site.playbook("site.yml", label="fresh")
            self.fleet = site
        return self.fleet

    def drop_aio(self):
        if self.aio is not None:
            self.lab.destroy(self.aio.platforms)
            self.aio = None

    def drop_fleet(self):
        if self.fleet is not None:
            self.lab.destroy(self.fleet.platforms)
            self.fleet = None

    # --- 1. fresh converge vs the shell floor ----------------------------------------------------
    def fresh(self):
        site_runs, floor_runs = [], []
        cache = lab.lab_cache()
        for index in range(self.args.converge_repeat):
            log("fresh %d/%d: site.yml on a fresh all-in-one host" % (index + 1, self.args.converge_repeat))
            site_runs.append(self._fresh_aio())
            log(
                "fresh %d/%d: site.yml %.1f s; the shell floor on a fresh host"
                % (index + 1, self.args.converge_repeat, site_runs[-1]["seconds"])
            )
            self.lab.create([FLOOR])
            started = time.monotonic()
            lab.sh(FLOOR["name"], "mkdir -p /root/floor")
            for source in ["%s/bin/minio" % cache, "%s/bin/mc" % cache, "%s/images/wandb-standin-0.1.0.tar" % cache]:
                name = "standin.tar" if source.endswith(".tar") else os.path.basename(source)
                lab.run(["docker", "cp", "-L", source, "%s:/root/floor/%s" % (FLOOR["name"], name)])
            lab.run(
                ["docker", "cp", "-L", str(HERE / "floor-all-in-one.sh"), "%s:/root/floor/floor.sh" % FLOOR["name"]]
            )
            lab.run(
                ["docker", "exec", FLOOR["name"], "bash", "/root/floor/floor.sh", "/root/floor"],
                log=lab.OUT / "logs" / "floor.log",
            )
            floor_runs.append(time.monotonic() - started)
            log("fresh %d/%d: floor %.1f s" % (index + 1, self.args.converge_repeat, floor_runs[-1]))
            self.lab.destroy([FLOOR])
        converge = stats([run["seconds"] for run in site_runs])
        floor = stats(floor_runs)
        return {
            "site_yml": converge,
            "floor": floor,
            "ratio": round(converge["median"] / floor["median"], 2),
            "goal": {"ratio_max": 1.3},
            "tasks": median_profile(site_runs)["tasks"],
            "top_tasks": median_profile(site_runs)["top_tasks"],
        }

    # --- 2. idempotent reruns ------------------------------------------------------------------------
    def _reruns(self, site):
        profiles = []
        for index in range(self.args.repeat):
            profiles.append(site.playbook("site.yml", label="rerun"))
            log(
                "rerun %s %d/%d: %.1f s, %s changed"
                % (site.name, index + 1, self.args.repeat, profiles[-1]["seconds"], profiles[-1]["changed"])
            )
        middle = median_profile(profiles)
        return {
            "seconds": stats([profile["seconds"] for profile in profiles]),
            "tasks": middle["tasks"],
            "changed": [profile["changed"] for profile in profiles],
            "top_tasks": middle["top_tasks"],
            "plays": middle.get("plays", []),
            "roles": middle.get("roles", []),
        }

    def rerun_aio(self):
        return self._reruns(self.need_aio())

    def rerun_fleet(self, aio):
        fleet = self._reruns(self.need_fleet())
        fleet["converge_seconds"] = self.fleet_converge["seconds"]
        fleet["converge_plays"] = self.fleet_converge.get("plays", [])
        # The reference: the same fresh fleet converged with the data tier's plays one tier after another
        # (wandb_site_strategy=linear), on new hosts; the fleet stays converged for the figures after this one.
        site = self.fleet
        self.drop_fleet()
        self.lab.create(site.platforms)
        site.reset_secrets()
        log("fleet: converging 6 fresh hosts again, the data tier one tier after another (the reference)")
        linear = site.playbook("site.yml", "-e", "wandb_site_strategy=linear", label="fresh-linear")
        self.fleet = site
        fleet["converge_linear_seconds"] = linear["seconds"]
        fleet["converge_linear_plays"] = linear.get("plays", [])
        # And its reruns the same way: the fleet rerun with the tiers one after another, beside the figure's.
        reruns = [
            site.playbook("site.yml", "-e", "wandb_site_strategy=linear", label="rerun-linear")
            for _index in range(self.args.repeat)
        ]
        fleet["rerun_linear_seconds"] = stats([run["seconds"] for run in reruns])
        fleet["rerun_linear_plays"] = median_profile(reruns).get("plays", [])
        log("rerun fleet, tiers one after another: %.1f s median" % fleet["rerun_linear_seconds"]["median"])
        fleet["converge_goal"] = tier_goal(
            fleet["converge_plays"], fleet["converge_seconds"], fleet["converge_linear_plays"], site.tier_hosts()
        )
        return {
            "all_in_one": aio,
            "fleet": fleet,
            "ratio": round(fleet["seconds"]["median"] / aio["seconds"]["median"], 2),
            "goal": {"ratio_max": 1.2, "all_in_one_seconds_max": 15},
        }

    # --- 4. error window of a settings change ------------------------------------------------------
    def _sampled(self, url, ca, action, settle=2.0):
        """Sample url every 100 ms (the shared sampler) around action(); (window, timeline, seconds)."""
        from ansible_collections.wandb_local.fleet.plugins.module_utils import _error_window as error_window

        stop = threading.Event()
        path = lab.OUT / "logs" / ("window-%d.samples" % time.monotonic_ns())
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            sampler = threading.Thread(
                target=error_window.sample,
                kwargs={
                    "url": url,
                    "out": out,
                    "interval": 0.1,
                    "timeout": 0.5,
                    "ca_path": ca,
                    "should_stop": stop.is_set,
                },
            )
            began = time.time()
            sampler.start()
            time.sleep(1.0)
            seconds = action()
            time.sleep(settle)
            stop.set()
            sampler.join()
        samples = error_window.read_samples(path.read_text(encoding="utf-8").splitlines())
        window = error_window.compute_window(samples, 0.1)
        timeline = [[round(started - began, 2), ok] for started, ok in samples]
        return window, timeline, seconds

    def _proxy(self, site):
        """(url of /ready through the all-in-one's proxy, path of the proxy's CA on this machine)."""
        host = site.platforms[0]["name"]
        ca = site.dir / "proxy-ca.crt"
        lab.run(["docker", "cp", "%s:/etc/nginx/wandb-tls/ca.crt" % host, str(ca)])
        return "https://%s/ready" % lab.address(host), ca

    def _restart_floor(self, host, url, ca):
        """The floor of an outage: the server container stopped and started by hand, until /ready
        answers through the proxy."""
        from ansible_collections.wandb_local.fleet.plugins.module_utils import _error_window as error_window

        started = time.monotonic()
        lab.run(["docker", "exec", host, "docker", "stop", "wandb-local"])
        lab.run(["docker", "exec", host, "docker", "start", "wandb-local"])
        # Ready as users see it: through the proxy.
        while not error_window.probe(url, 0.5, ca_path=str(ca))[0]:
            if time.monotonic() - started > 300:
                raise RuntimeError("the server did not answer /ready through the proxy after a restart")
            time.sleep(0.1)
        return time.monotonic() - started

    def window(self):
        try:
            sys.path.insert(0, str(lab.ROOT / "build" / "collections"))
            from ansible_collections.wandb_local.fleet.plugins.module_utils import _error_window  # noqa: F401
        except ImportError:
            return {"skipped": "the shared sampler (plugins/module_utils/_error_window.py) is not on this branch yet"}
        site = self.need_aio()
        host = site.platforms[0]["name"]
        url, ca = self._proxy(site)
        changes, floors = [], []
        for index in range(self.args.repeat):
            settings = site.dir / "settings-change.json"
            settings.write_text(
                json.dumps(
                    {
                        "wandb_server_settings": {
                            "SLACK_CLIENT_ID": "bench-change-%d" % index,
                            "SLACK_SECRET": "lab-slack-secret-all-in-one",
                        }
                    }
                ),
                encoding="utf-8",
            )

            def change(settings=settings):
                profile = site.playbook("site.yml", "--limit", "wandb_server", "-e", "@%s" % settings, label="change")
                return profile["seconds"]

            changes.append(self._sampled(url, str(ca), change))
            floors.append(self._sampled(url, str(ca), lambda: self._restart_floor(host, url, ca)))
            log(
                "window %d/%d: settings change %.1f s (playbook %.1f s); stop+start+ready %.1f s"
                % (
                    index + 1,
                    self.args.repeat,
                    changes[-1][0]["window_seconds"],
                    changes[-1][2],
                    floors[-1][0]["window_seconds"],
                )
            )
        change_stats = stats([entry[0]["window_seconds"] for entry in changes])
        floor_stats = stats([entry[0]["window_seconds"] for entry in floors])

        def middle(entries):
            return sorted(entries, key=lambda entry: entry[0]["window_seconds"])[(len(entries) - 1) // 2]

        return {
            "interval_ms": 100,
            "url": url,
            "change": change_stats,
            "floor": floor_stats,
            "playbook_seconds": stats([entry[2] for entry in changes]),
            "ratio": round(change_stats["median"] / floor_stats["median"], 2) if floor_stats["median"] else None,
            "windows": {"change": [entry[0] for entry in changes], "floor": [entry[0] for entry in floors]},
            "timelines": {"settings change (recreate)": middle(changes)[1], "floor (stop+start)": middle(floors)[1]},
        }

    # --- 4b. error window of an upgrade --------------------------------------------------------------
    def upgrade(self):
        """upgrade.yml to the next stand-in release vs its floor (the new release's container stopped
        and started by hand until /ready answers), both sampled through the proxy. A converged site
        upgrades twice (0.1.0 -> 0.2.0 -> 0.3.0); every second repetition starts from a fresh one."""
        sys.path.insert(0, str(lab.ROOT / "build" / "collections"))
        sys.path.insert(0, str(lab.ROOT / "molecule" / "_shared" / "tests"))
        from lab_playbook import standin_release

        # standin_release reads the archives from the lab cache.
        os.environ.setdefault("WANDB_LAB_CACHE", lab.lab_cache())
        upgrades, floors, releases = [], [], ["0.2.0", "0.3.0"]
        for index in range(self.args.repeat):
            if index and index % len(releases) == 0:
                self.drop_aio()
            site = self.need_aio()
            host = site.platforms[0]["name"]
            url, ca = self._proxy(site)
            tag = releases[index % len(releases)]
            extra = site.dir / ("upgrade-%s.json" % tag)
            extra.write_text(json.dumps(standin_release(tag)), encoding="utf-8")

            def move(site=site, extra=extra, tag=tag):
                return site.playbook("upgrade.yml", "-e", "@%s" % extra, label="upgrade-" + tag)["seconds"]

            upgrades.append(self._sampled(url, str(ca), move))
            floors.append(self._sampled(url, str(ca), functools.partial(self._restart_floor, host, url, ca)))
            log(
                "upgrade %d/%d to %s: window %.1f s (longest outage %.1f s, playbook %.0f s); stop+start+ready %.1f s"
                % (
                    index + 1,
                    self.args.repeat,
                    tag,
                    upgrades[-1][0]["window_seconds"],
                    upgrades[-1][0]["longest_outage_seconds"],
                    upgrades[-1][2],
                    floors[-1][0]["window_seconds"],
                )
            )
        upgrade_stats = stats([entry[0]["window_seconds"] for entry in upgrades])
        floor_stats = stats([entry[0]["window_seconds"] for entry in floors])
        return {
            "interval_ms": 100,
            "upgrade": upgrade_stats,
            "longest_outage": stats([entry[0]["longest_outage_seconds"] for entry in upgrades]),
            "floor": floor_stats,
            "playbook_seconds": stats([entry[2] for entry in upgrades]),
            "over_floor_seconds": round(upgrade_stats["median"] - floor_stats["median"], 2),
            "windows": {"upgrade": [entry[0] for entry in upgrades], "floor": [entry[0] for entry in floors]},
        }

    # --- 4c. error window of an automatic failover -----------------------------------------------
    def _serving(self, apps):
        """The server host whose watchdog holds the lease and serves (None while none does)."""
        for app in apps:
            _seconds, proc = lab.sh(app, "wandb-failover status --json", check=False, timeout=20)
            try:
                state = json.loads(proc.stdout or "{}")
            except ValueError:
                continue
            if state.get("state") == "active" and state.get("serving"):
                return app, state
        return None, None

    def _wait_serving(self, apps, url, ca, not_host=None, limit=300):
        from ansible_collections.wandb_local.fleet.plugins.module_utils import _error_window as error_window

        started = time.monotonic()
        while time.monotonic() - started < limit:
            host, _state = self._serving(apps)
            if host and host != not_host and error_window.probe(url, 0.5, ca_path=str(ca))[0]:
                return host
            time.sleep(0.5)
        raise RuntimeError("no server host took over within %d s" % limit)

    def failover(self):
        """The active server host stopped (the host dies) until /ready answers 200 through the proxy
        again, served by the standby; against the floor: the watchdog's detection interval plus the
        standby's container started by hand (its watchdog paused) until /ready through the proxy."""
        sys.path.insert(0, str(lab.ROOT / "build" / "collections"))
        fleet = self.need_fleet()
        apps = [p["name"] for p in fleet.platforms if "wandb_server" in p.get("groups", [])]
        proxy = next(p["name"] for p in fleet.platforms if "wandb_proxy" in p.get("groups", []))
        url = "https://%s/ready" % lab.address(proxy)
        ca = fleet.dir / "wandb-secrets" / "ca" / "ca.crt"
        _seconds, proc = lab.sh(apps[0], "cat /etc/wandb/failover.json", check=False)
        if proc.returncode != 0:
            return {"skipped": "the fleet's server hosts run no failover watchdog (wandb_server_failover)"}
        config = json.loads(proc.stdout)
        interval = float(config.get("interval", 1))
        windows, floors = [], []
        for index in range(self.args.repeat):
            active = self._wait_serving(apps, url, ca)

            def kill(active=active):
                started = time.monotonic()
                lab.run(["docker", "stop", "-t", "0", active])
                return self._wait_serving(apps, url, ca, not_host=active, limit=120) and time.monotonic() - started

            windows.append(self._sampled(url, str(ca), kill))
            lab.run(["docker", "start", active])
            # The old active comes back as a standby; the floor is measured on the host now serving.
            serving = self._wait_serving(apps, url, ca)

            def restart(host=serving):
                lab.sh(host, "wandb-failover pause --for 300")
                try:
                    return self._restart_floor(host, url, ca) + interval
                finally:
                    lab.sh(host, "wandb-failover resume")

            floor = self._sampled(url, str(ca), restart)
            floor[0]["window_seconds"] = round(floor[0]["window_seconds"] + interval, 2)
            floors.append(floor)
            log(
                "failover %d/%d: %s stopped, window %.1f s (longest outage %.1f s); floor %.1f s"
                % (
                    index + 1,
                    self.args.repeat,
                    active,
                    windows[-1][0]["window_seconds"],
                    windows[-1][0]["longest_outage_seconds"],
                    floors[-1][0]["window_seconds"],
                )
            )
        window_stats = stats([entry[0]["window_seconds"] for entry in windows])
        floor_stats = stats([entry[0]["window_seconds"] for entry in floors])
        return {
            "interval_ms": 100,
            "failover": window_stats,
            "longest_outage": stats([entry[0]["longest_outage_seconds"] for entry in windows]),
            "floor": floor_stats,
            "detection_interval_seconds": interval,
            # The watchdog's own rule: no handover_delay given means stop_budget (wandb_failover.py).
            "handover_delay_seconds": config.get("handover_delay") or config.get("stop_budget"),
            "over_floor_seconds": round(window_stats["median"] - floor_stats["median"], 2),
            "goal": {"window_max_seconds": 10},
            "windows": {"failover": [entry[0] for entry in windows], "floor": [entry[0] for entry in floors]},
        }

    # --- 5. backup and restore throughput ------------------------------------------------------------
    def backup(self):
        fleet = self.need_fleet()
        host = "bench-fleet-mysql"
        app = "bench-fleet-app1"
        cache = lab.lab_cache()
        lab.sh(host, "mkdir -p -m 0700 /root/bench")
        lab.run(["docker", "cp", "-L", "%s/bin/mc" % cache, "%s:/root/bench/mc" % host])
        lab.run(["docker", "cp", "-L", str(HERE / "backup_host.py"), "%s:/root/bench/backup_host.py" % host])

        def tool(*argv):
            _seconds, proc = lab.sh(host, "python3 /root/bench/backup_host.py %s" % " ".join(argv))
            return json.loads(proc.stdout.strip().splitlines()[-1])

        def program(args):
            """The program timed on the host, as the raw tools are (docker exec's own cost left out)."""
            _seconds, proc = lab.sh(
                host,
                "started=$(date +%%s.%%N); /usr/local/sbin/wandb-backup %s >/dev/null; echo $started $(date +%%s.%%N)"
                % args,
            )
            started, ended = map(float, proc.stdout.split())
            return ended - started, proc

        tool("setup")
        size = self.args.backup_size
        log("backup: generating the data set (%s rows, %s objects of %s KiB, one of %s MiB)" % size)
        data = tool("generate", *map(str, size))
        # The first backup through the playbook stages the server's files, as an operator's would.
        fleet.playbook("backup.yml", label="backup")
        program_backup, program_restore, raw_backup, raw_restore = [], [], [], []
        for index in range(self.args.repeat):
            seconds, _proc = program("run")
            program_backup.append(seconds)
            raw_backup.append(tool("raw-backup", "/root/bench/raw")["seconds"])
            # Restores with the servers stopped, as restore.yml does, each into an emptied bucket (as
            # after a loss; mc mirror would skip the objects the other side had just put back).
            lab.run(["docker", "exec", app, "docker", "stop", "wandb-local"])
            tool("wipe-bucket")
            seconds, proc = program("restore latest --database --bucket")
            program_restore.append(seconds)
            # Its log lines say where the time went (verification, database, bucket).
            restore_log = proc.stderr.strip().splitlines()
            tool("wipe-bucket")
            raw_restore.append(tool("raw-restore", "/root/bench/raw")["seconds"])
            lab.run(["docker", "exec", app, "docker", "start", "wandb-local"])
            # The next backup reads the server's version through the proxy: wait until it answers.
            lab.sh(host, "/usr/local/sbin/wandb-backup ready --timeout 300 >/dev/null")
            log(
                "backup %d/%d: program %.1f s / raw %.1f s; restore program %.1f s / raw %.1f s"
                % (
                    index + 1,
                    self.args.repeat,
                    program_backup[-1],
                    raw_backup[-1],
                    program_restore[-1],
                    raw_restore[-1],
                )
            )
        _seconds, proc = lab.sh(host, "/usr/local/sbin/wandb-backup verify latest")
        manifest = json.loads(proc.stdout)["manifest"]
        total = manifest["database"]["sql_bytes"] + manifest["bucket"]["object_bytes"]
        result = {
            "data": dict(data, sql_bytes=manifest["database"]["sql_bytes"], total_bytes=total),
            "backup": {"program": stats(program_backup), "raw": stats(raw_backup)},
            "restore": {"program": stats(program_restore), "raw": stats(raw_restore), "program_log": restore_log},
            "goal": {"throughput_ratio_min": 0.8},
        }
        for phase in ("backup", "restore"):
            entry = result[phase]
            entry["program_mb_s"] = round(total / entry["program"]["median"] / 1e6, 1)
            entry["raw_mb_s"] = round(total / entry["raw"]["median"] / 1e6, 1)
            entry["ratio"] = round(entry["raw"]["median"] / entry["program"]["median"], 2)
        result["dumpers"] = self._dumpers(host, tool, app)
        lab.sh(host, "rm -rf /root/bench/raw /root/bench/mydumper /root/bench/local")
        return result

    def _dumpers(self, host, tool, app):
        """mydumper/myloader against mysqldump/mysql, both as root on the local socket. Debian's
        mydumper is built against MariaDB's client: what installing it would do to this host's
        Oracle MySQL is asked first (apt's simulation), and it is not installed over a removal."""
        _seconds, proc = lab.sh(
            host,
            "export DEBIAN_FRONTEND=noninteractive; command -v mydumper >/dev/null && exit 0;"
            " apt-get -qq update >/dev/null 2>&1 || true; apt-get -s install --no-install-recommends mydumper",
            check=False,
        )
        removed = sorted({line.split()[1] for line in proc.stdout.splitlines() if line.startswith("Remv ")})
        if removed:
            return {
                "skipped": "installing Debian's mydumper here would remove %s (apt-get -s install mydumper):"
                " it cannot run beside this MySQL" % ", ".join(removed)
            }
        _seconds, proc = lab.sh(
            host,
            "export DEBIAN_FRONTEND=noninteractive; install='apt-get -qq install -y --no-install-recommends mydumper';"
            " command -v mydumper >/dev/null || $install >/dev/null 2>&1"
            " || { apt-get -qq update && $install >/dev/null; };"
            " mydumper --version",
            check=False,
        )
        if proc.returncode != 0:
            return {"skipped": "mydumper did not install: %s" % (proc.stderr or proc.stdout).strip()[-300:]}
        version = proc.stdout.strip()
        _seconds, active = lab.sh(host, "systemctl is-active mysql", check=False)
        if active.stdout.strip() != "active":
            return {"version": version, "failed": "MySQL is %s after mydumper was installed" % active.stdout.strip()}
        runs = {"mysqldump": [], "mydumper": [], "mysql_load": [], "myloader": []}
        lab.run(["docker", "exec", app, "docker", "stop", "wandb-local"])
        try:
            for _index in range(self.args.repeat):
                runs["mysqldump"].append(tool("mysqldump-local", "/root/bench/local")["seconds"])
                runs["mydumper"].append(tool("mydumper-backup", "/root/bench/mydumper")["seconds"])
                runs["mysql_load"].append(tool("mysqlload-local", "/root/bench/local")["seconds"])
                runs["myloader"].append(tool("mydumper-restore", "/root/bench/mydumper")["seconds"])
        except (RuntimeError, ValueError) as error:
            # backup_host.py prints the tool's own message as its last line.
            return {"version": version, "failed": str(error)[-1200:]}
        finally:
            lab.run(["docker", "exec", app, "docker", "start", "wandb-local"])
        result = {"version": version, **{name: stats(values) for name, values in runs.items()}}
        result["dump_ratio"] = round(result["mysqldump"]["median"] / result["mydumper"]["median"], 2)
        result["load_ratio"] = round(result["mysql_load"]["median"] / result["myloader"]["median"], 2)
        return result

    # --- 3. scaling ----------------------------------------------------------------------------------
    def scaling(self):
        points = []
        for count in self.args.hosts:
            platforms = [{"name": "bench-redis-%d" % index, "groups": ["wandb_redis"]} for index in range(1, count + 1)]
            converges, reruns = [], []
            for index in range(self.args.converge_repeat):
                _platforms, inventory = lab.scenario_shape("redis", {}, platforms)
                site = lab.Site("redis-%d" % count, platforms, inventory)
                self.lab.create(platforms)
                site.reset_secrets()
                converges.append(site.playbook("site.yml", label="fresh")["seconds"])
                log(
                    "scaling %d hosts %d/%d: converge %.1f s"
                    % (count, index + 1, self.args.converge_repeat, converges[-1])
                )
            for index in range(self.args.repeat):
                reruns.append(site.playbook("site.yml", label="rerun")["seconds"])
                log("scaling %d hosts %d/%d: rerun %.1f s" % (count, index + 1, self.args.repeat, reruns[-1]))
            self.lab.destroy(platforms)
            points.append({"hosts": count, "converge": stats(converges), "rerun": stats(reruns)})
        base = points[0]
        for point in points:
            point["converge_ratio"] = round(point["converge"]["median"] / base["converge"]["median"], 2)
            point["rerun_ratio"] = round(point["rerun"]["median"] / base["rerun"]["median"], 2)
        return {"tier": "redis", "points": points}

    # --- the run -------------------------------------------------------------------------------------
    def run(self, wanted):
        """The figures in an order that converges each shape once: the all-in-one (fresh, rerun,
        window), then the fleet (rerun, backup), then the scaling hosts; each shape is removed
        when no later figure needs it."""
        steps = [
            ("fresh", self.fresh),
            ("rerun", self.rerun_aio),
            ("window", self.window),
            ("upgrade", self.upgrade),
            (None, self.drop_aio),
            ("rerun", self.rerun_fleet),
            ("backup", self.backup),
            ("failover", self.failover),
            (None, self.drop_fleet),
            ("scaling", self.scaling),
        ]
        figures, elapsed, aio_rerun = {}, {}, None
        try:
            for name, step in steps:
                if name is None:
                    step()
                    continue
                if name not in wanted or "failed" in figures.get(name, {}):
                    continue
                started = time.monotonic()
                try:
                    if step == self.rerun_aio:
                        aio_rerun = step()
                    elif step == self.rerun_fleet:
                        figures[name] = step(aio_rerun)
                    else:
                        figures[name] = step()
                except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError) as error:
                    log("%s failed: %s" % (name, error))
                    figures[name] = {"failed": str(error)[-1500:]}
                elapsed[name] = elapsed.get(name, 0) + time.monotonic() - started
                if name in figures:
                    figures[name]["elapsed_seconds"] = round(elapsed[name], 1)
                    log("%s done in %.0f s" % (name, elapsed[name]))
        finally:
            self.lab.close()
        return figures


def machine():
    def first(path, key, separator=":"):
        try:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                if line.startswith(key):
                    return line.split(separator, 1)[1].strip().strip('"')
        except OSError:
            return None
        return None

    others = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True, check=False)
    return {
        "cpu": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory": first("/proc/meminfo", "MemTotal"),
        "kernel": platform.release(),
        "os": first("/etc/os-release", "PRETTY_NAME", "=") or platform.platform(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "other_containers": sorted(name for name in others.stdout.split() if not name.startswith("bench-")),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the fast figures (reruns, backups)")
    parser.add_argument("--converge-repeat", type=int, default=2, help="repetitions of the fresh converges")
    parser.add_argument("--only", default=",".join(ORDER), help="figures to measure: %s" % ",".join(ORDER))
    parser.add_argument("--hosts", default="1,2,4,8", help="host counts of the scaling figure")
    parser.add_argument(
        "--backup-size", default="200000,200,256,64", help="rows, objects, KiB each, MiB of the large one"
    )
    parser.add_argument("--smoke", action="store_true", help="one repetition of the scaling figure on one host")
    parser.add_argument("--out", default=str(lab.OUT))
    args = parser.parse_args(argv)
    args.hosts = [int(value) for value in args.hosts.split(",")]
    args.backup_size = tuple(int(value) for value in args.backup_size.split(","))
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(ORDER))
    if unknown:
        parser.error("unknown figure(s) %s: choose from %s" % (", ".join(unknown), ", ".join(ORDER)))
    if args.smoke:
        args.repeat, args.converge_repeat, args.hosts, wanted = 1, 1, [1], ["scaling"]
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    lab.OUT = out
    results_path = out / "results.json"
    previous = {}
    if not args.smoke and set(wanted) != set(ORDER) and results_path.exists():
        previous = json.loads(results_path.read_text(encoding="utf-8")).get("figures", {})
    if shutil.which("ansible-playbook") is None:
        parser.error("ansible-playbook not found: source the project venv (make bench does)")
    started = datetime.datetime.now(datetime.timezone.utc)
    before = machine()
    log(
        "figures %s, repeat %d (converges %d); other containers running: %s"
        % (",".join(wanted), args.repeat, args.converge_repeat, ", ".join(before["other_containers"]) or "none")
    )
    figures = Bench(args).run(wanted)
    after = machine()
    results = {
        "date": started.isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "repeat": args.repeat,
        "converge_repeat": args.converge_repeat,
        "machine": dict(before, load_average_end=after["load_average"], other_containers_end=after["other_containers"]),
        "figures": {**previous, **figures},
    }
    results_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    table = report.table(results)
    print(table)
    (out / "report.md").write_text(report.markdown(results), encoding="utf-8")
    chart = report.chart(results, out / "chart.png")
    log(
        "wrote %s, %s%s"
        % (results_path, out / "report.md", ", " + str(chart) if chart else " (no chart: %s)" % report.CHART_MISSING)
    )
    failed = [name for name, figure in figures.items() if "failed" in figure]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
