# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab hosts and playbook runs for the benchmarks (benchmarks/bench.py).

Hosts are made by the lab's one host factory, molecule/_shared/create.yml (and removed by
destroy.yml), given the platforms as Molecule would, on a network of their own (`wandb-bench`,
172.30.91.0/24) with names starting `bench-`, so a benchmark never collides with a Molecule scenario.
Inventories are built from the same Molecule configuration the scenarios use
(.config/molecule/config.yml and the scenario's molecule.yml), with the scenario's host names and
fixed addresses mapped to the bench's, so the benchmark deploys exactly the tested shapes.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
NETWORK = "wandb-bench"
SUBNET = "172.30.91.0/24"
DYNAMIC_RANGE = "172.30.91.128/25"
SCENARIO_NET = "172.30.90."
BENCH_NET = "172.30.91."
# The scenario shapes, with the bench's names for their hosts.
SHAPES = {
    "all-in-one": {"all-in-one": "bench-aio"},
    "fleet": {
        "fleet-mysql": "bench-fleet-mysql",
        "fleet-redis": "bench-fleet-redis",
        "fleet-minio": "bench-fleet-minio",
        "fleet-app1": "bench-fleet-app1",
        "fleet-app2": "bench-fleet-app2",
        "fleet-proxy": "bench-fleet-proxy",
    },
}


def lab_cache():
    return os.environ.get("WANDB_LAB_CACHE") or str(Path.home() / ".cache" / "wandb-fleet-lab")


def _rename(text, names):
    """Scenario host names and lab addresses in `text` replaced by the bench's."""
    if names:
        pattern = r"(?<![\w-])(%s)(?![\w-])" % "|".join(re.escape(name) for name in names)
        text = re.sub(pattern, lambda match: names[match.group(1)], text)
    return text.replace(SCENARIO_NET, BENCH_NET)


def _molecule_yaml(path):
    # Molecule escapes a literal `$` as `$$` in its configuration.
    return yaml.safe_load(Path(path).read_text(encoding="utf-8").replace("$$", "$"))


def scenario_shape(scenario, names, platforms=None):
    """(platforms, inventory) of a Molecule scenario with the bench's names and addresses.

    `platforms` replaces the scenario's hosts (the scaling figure: N hosts of one tier); otherwise the
    scenario's hosts that `names` names (all of them when `names` is empty)."""
    shared = _molecule_yaml(ROOT / ".config" / "molecule" / "config.yml")
    own = _molecule_yaml(ROOT / "molecule" / scenario / "molecule.yml")
    if not platforms:
        # Only the hosts the bench names: a scenario's training host (wandb_client) needs the scenario's
        # prepare step and is no part of what the bench measures.
        named = [platform for platform in own["platforms"] if not names or platform["name"] in names]
        platforms = json.loads(_rename(json.dumps(named), names))
    for platform in platforms:
        for network in platform.get("networks", []):
            network["name"] = NETWORK
    group_vars = dict(shared["provisioner"]["inventory"]["group_vars"])
    own_inventory = own.get("provisioner", {}).get("inventory", {})
    for group, values in own_inventory.get("group_vars", {}).items():
        group_vars[group] = {**group_vars.get(group, {}), **values}
    host_vars = json.loads(_rename(json.dumps(own_inventory.get("host_vars", {})), names))
    group_vars = json.loads(_rename(json.dumps(group_vars), names))
    return platforms, inventory(platforms, group_vars, host_vars)


def inventory(platforms, group_vars, host_vars=None):
    """An Ansible YAML inventory: hosts reached with `docker exec`, groups from the platforms."""
    host_vars = host_vars or {}
    children = {}
    for platform in platforms:
        for group in platform.get("groups", []):
            children.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = None
    for group, values in group_vars.items():
        if group != "all":
            children.setdefault(group, {"hosts": {}})["vars"] = values
    hosts = {
        p["name"]: {"ansible_connection": "community.docker.docker", **host_vars.get(p["name"], {})} for p in platforms
    }
    return {"all": {"vars": group_vars.get("all", {}), "hosts": hosts, "children": children}}


def run(argv, log=None, env=None, check=True, timeout=None):
    """Run a command; returns (seconds, CompletedProcess). Output goes to `log` when given."""
    started = time.monotonic()
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w", encoding="utf-8") as handle:
            os.chmod(log, 0o600)
            proc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False)
    else:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    if check and proc.returncode != 0:
        where = log or (proc.stdout or "")[-2000:] + (proc.stderr or "")[-2000:]
        raise RuntimeError("%s failed (exit %s): %s" % (" ".join(map(str, argv[:4])), proc.returncode, where))
    return seconds, proc


class Lab:
    """The bench's lab hosts: made and removed with the lab's factory, on the bench's network."""

    def __init__(self, work=None):
        self.work = Path(work or OUT)
        self.created = {}

    def _factory(self, playbook, platforms):
        self.work.mkdir(parents=True, exist_ok=True)
        extra = self.work / "platforms.json"
        extra.write_text(
            json.dumps(
                {
                    "molecule_yml": {"platforms": platforms},
                    "wandb_lab_network": NETWORK,
                    "wandb_lab_subnet": SUBNET,
                    "wandb_lab_dynamic_range": DYNAMIC_RANGE,
                    # The controller's Python, which has the Docker SDK (as Molecule runs these).
                    "ansible_python_interpreter": sys.executable,
                }
            ),
            encoding="utf-8",
        )
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_LOG_PATH="/dev/null")
        argv = [
            "ansible-playbook",
            "-i",
            "localhost,",
            str(ROOT / "molecule" / "_shared" / playbook),
            "-e",
            "@%s" % extra,
        ]
        run(argv, log=self.work / "logs" / ("lab-%s.log" % playbook.split(".")[0]), env=env)

    def create(self, platforms):
        """Start fresh hosts (any old host of the same name is removed first); returns seconds."""
        self.destroy(platforms)
        started = time.monotonic()
        self._factory("create.yml", platforms)
        for platform in platforms:
            self.created[platform["name"]] = platform
        return time.monotonic() - started

    def destroy(self, platforms=None):
        platforms = list(self.created.values()) if platforms is None else platforms
        if platforms:
            self._factory("destroy.yml", platforms)
        for platform in platforms:
            self.created.pop(platform["name"], None)

    def close(self):
        """Remove every host this lab made, then the bench network."""
        self.destroy()
        subprocess.run(["docker", "network", "rm", NETWORK], capture_output=True, check=False)


def address(host):
    proc = subprocess.run(
        ["docker", "inspect", "-f", '{{ (index .NetworkSettings.Networks "%s").IPAddress }}' % NETWORK, host],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def sh(host, script, check=True, timeout=None):
    """Run a bash script on a lab host; returns (seconds, CompletedProcess)."""
    return run(["docker", "exec", "-i", host, "bash", "-euo", "pipefail", "-c", script], check=check, timeout=timeout)


class Site:
    """One deployment shape: its inventory, secrets directory and playbook runs."""

    def __init__(self, name, platforms, inventory_data, work=None):
        self.name = name
        self.platforms = platforms
        self.dir = Path(work or OUT) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.inventory = self.dir / "inventory.yml"
        self.inventory.write_text(yaml.safe_dump(inventory_data, sort_keys=False), encoding="utf-8")
        self.inventory_data = inventory_data
        self.runs = 0

    def tier_hosts(self, groups=("wandb_mysql", "wandb_redis", "wandb_minio")):
        """The hosts of each data-tier group in the inventory (a YAML inventory's children, at any depth)."""
        found = {group: [] for group in groups}

        def walk(name, node):
            node = node or {}
            if name in found:
                found[name].extend(host for host in (node.get("hosts") or {}) if host not in found[name])
            for child, child_node in (node.get("children") or {}).items():
                walk(child, child_node)

        for name, node in (self.inventory_data or {}).items():
            walk(name, node)
        return found

    def reset_secrets(self):
        """A fresh site has no controller secrets yet (they are made by its first converge)."""
        subprocess.run(["rm", "-rf", str(self.dir / "wandb-secrets")], check=True)

    def playbook(self, playbook, *args, label="run"):
        """Run a playbook as a user would (default verbosity, no --diff); returns its profile."""
        self.runs += 1
        log = self.dir / ("%02d-%s.json" % (self.runs, label))
        env = dict(
            os.environ,
            MOLECULE_EPHEMERAL_DIRECTORY=str(self.dir),
            WANDB_LAB_CACHE=lab_cache(),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_JSON_INDENT="0",
            ANSIBLE_LOG_PATH="/dev/null",
            ANSIBLE_VERBOSITY="0",
            ANSIBLE_FORKS="20",
            ANSIBLE_PIPELINING="true",
            ANSIBLE_HOST_KEY_CHECKING="false",
            ANSIBLE_PYTHON_INTERPRETER="auto_silent",
            ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        )
        env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
        argv = ["ansible-playbook", "-i", str(self.inventory), str(ROOT / "playbooks" / playbook), *args]
        seconds, proc = run(argv, log=log, env=env, check=False)
        profile = read_profile(log)
        profile["seconds"] = round(seconds, 2)
        if proc.returncode != 0:
            raise RuntimeError(
                "%s on %s failed (exit %s): %s; log %s"
                % (playbook, self.name, proc.returncode, profile.get("failed_tasks"), log)
            )
        return profile


def _when(stamp):
    # ISO times of the json callback: 2026-01-02T03:04:05.678901Z
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def read_profile(log):
    """Tasks by time, totals and failures from the output of the ansible.posix.json callback."""
    text = Path(log).read_text(encoding="utf-8", errors="replace")
    start = text.find("{")
    try:
        data = json.JSONDecoder().raw_decode(text[start:])[0] if start >= 0 else {}
    except ValueError:
        return {"tasks": 0, "changed": None, "top_tasks": [], "failed_tasks": ["unreadable output"]}
    per_task = {}
    per_role = {}
    plays = []
    failed = []
    count = 0
    for play in data.get("plays", []):
        info = play.get("play", {})
        duration = info.get("duration", {})
        # Per host, from the start of the first task it ran (not skipped) to the end of its last one: under the
        # linear strategy a data-tier host's span is its tier alone.
        spans = {}
        if duration.get("start") and duration.get("end"):
            seconds = _when(duration["end"]) - _when(duration["start"])
            plays.append(
                {
                    "play": info.get("name") or "?",
                    "seconds": round(seconds, 2),
                    "tasks": len(play["tasks"]),
                    "hosts": spans,
                }
            )
        for task in play.get("tasks", []):
            count += 1
            info = task.get("task", {})
            duration = info.get("duration", {})
            if duration.get("start") and duration.get("end"):
                start, end = _when(duration["start"]), _when(duration["end"])
                for host, result in task.get("hosts", {}).items():
                    if not result.get("skipped"):
                        first, last = spans.get(host, (start, end))
                        spans[host] = (min(first, start), max(last, end))
                seconds = end - start
                name = info.get("name") or "?"
                per_task[name] = per_task.get(name, 0.0) + seconds
                # "wandb_local.fleet.mysql : Install ..." -> the role; a play's own tasks count as "(play)".
                role = name.split(" : ", 1)[0] if " : " in name else "(play)"
                seconds_so_far, tasks_so_far = per_role.get(role, (0.0, 0))
                per_role[role] = (seconds_so_far + seconds, tasks_so_far + 1)
            for host, result in task.get("hosts", {}).items():
                if result.get("failed") or result.get("unreachable"):
                    failed.append("%s: %s" % (host, info.get("name")))
    for entry in plays:
        entry["hosts"] = {host: round(last - first, 2) for host, (first, last) in entry["hosts"].items()}
    stats = data.get("stats", {})
    top = sorted(per_task.items(), key=lambda item: -item[1])[:10]
    roles = sorted(per_role.items(), key=lambda item: -item[1][0])
    return {
        "tasks": count,
        "changed": sum(host.get("changed", 0) for host in stats.values()),
        "top_tasks": [{"task": name, "seconds": round(seconds, 2)} for name, seconds in top],
        "plays": plays,
        "roles": [{"role": name, "seconds": round(total, 2), "tasks": tasks} for name, (total, tasks) in roles],
        "failed_tasks": failed[:5],
    }
