# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmark's outputs from build/bench/results.json: the table (terminal and README), the
report (build/bench/report.md) and the chart of the scaling and window figures (chart.png).

  python benchmarks/report.py [RESULTS]     print the table and rewrite report.md and chart.png
"""

import json
import sys
from pathlib import Path

CHART_MISSING = "matplotlib is not installed (make bench installs benchmarks/requirements.txt)"


def fmt(stat, unit="s"):
    """'12.3 s (11.9-13.0, n=3)' from a stats entry."""
    if not stat:
        return "-"
    if stat["n"] == 1:
        return "%.1f %s (n=1)" % (stat["median"], unit)
    return "%.1f %s (%.1f-%.1f, n=%d)" % (stat["median"], unit, stat["min"], stat["max"], stat["n"])


def verdict(value, limit, kind="max", unit="x"):
    """Whether a figure meets its goal, and by how much."""
    if value is None:
        return "not measured"
    margin = limit - value if kind == "max" else value - limit
    share = abs(margin) / limit * 100
    if margin >= 0:
        return "met (%.2f%s, %.0f %% inside the goal)" % (abs(margin), unit, share)
    return "**missed** by %.2f%s (%.0f %%)" % (abs(margin), unit, share)


def _rows(results):
    """(figure, measured, reference, ratio, goal, verdict) rows of the table."""
    figures = results.get("figures", {})
    rows = []

    def problem(name, label):
        figure = figures.get(name)
        if figure is None:
            return True
        for key in ("failed", "skipped"):
            if key in figure:
                rows.append((label, "%s: %s" % (key, figure[key][:160]), "", "", "", ""))
                return True
        return False

    if not problem("fresh", "1. Fresh converge, all-in-one"):
        fresh = figures["fresh"]
        rows.append(
            (
                "1. Fresh converge, all-in-one",
                "site.yml " + fmt(fresh["site_yml"]),
                "shell script " + fmt(fresh["floor"]),
                "%.2fx" % fresh["ratio"],
                "<= 1.3x",
                verdict(fresh["ratio"], 1.3),
            )
        )
    if not problem("rerun", "2. Idempotent rerun"):
        rerun = figures["rerun"]
        aio, fleet = rerun["all_in_one"], rerun["fleet"]
        rows.append(
            (
                "2a. Rerun, all-in-one",
                "%s, %d tasks" % (fmt(aio["seconds"]), aio["tasks"]),
                "goal 15 s",
                "%.2fx" % (aio["seconds"]["median"] / 15),
                "<= 15 s",
                verdict(aio["seconds"]["median"], 15, unit=" s"),
            )
        )
        rows.append(
            (
                "2b. Rerun, fleet (6 hosts)",
                "%s, %d tasks" % (fmt(fleet["seconds"]), fleet["tasks"]),
                "all-in-one " + fmt(aio["seconds"]),
                "%.2fx" % rerun["ratio"],
                "<= 1.2x",
                verdict(rerun["ratio"], 1.2),
            )
        )
    if not problem("scaling", "3. Scaling, redis tier"):
        points = figures["scaling"]["points"]
        base, last = points[0], points[-1]
        for phase in ("converge", "rerun"):
            rows.append(
                (
                    "3. %s, redis on %s hosts" % (phase.capitalize(), ", ".join(str(p["hosts"]) for p in points)),
                    " / ".join("%.1f" % p[phase]["median"] for p in points) + " s",
                    "1 host " + fmt(base[phase]),
                    "%.2fx at %d hosts" % (last[phase + "_ratio"], last["hosts"]),
                    "(none)",
                    "",
                )
            )
    if not problem("window", "4. Error window, settings change"):
        window = figures["window"]
        rows.append(
            (
                "4. Error window, settings change",
                "recreate " + fmt(window["change"]),
                "stop+start+ready " + fmt(window["floor"]),
                "%.2fx" % window["ratio"],
                "(none yet)",
                "",
            )
        )
    if not problem("upgrade", "4b. Error window, upgrade"):
        upgrade = figures["upgrade"]
        rows.append(
            (
                "4b. Error window, upgrade to the next release",
                "upgrade.yml " + fmt(upgrade["upgrade"]) + ", longest outage " + fmt(upgrade["longest_outage"]),
                "stop+start+ready " + fmt(upgrade["floor"]),
                "floor + %.1f s" % upgrade["over_floor_seconds"],
                "<= floor + 2 s",
                verdict(upgrade["over_floor_seconds"], 2.0, unit=" s"),
            )
        )
    if not problem("failover", "4c. Error window, failover"):
        failover = figures["failover"]
        rows.append(
            (
                "4c. Error window, the active server host stopped",
                "failover " + fmt(failover["failover"]) + ", longest outage " + fmt(failover["longest_outage"]),
                "detection + start + ready " + fmt(failover["floor"]),
                "floor + %.1f s" % failover["over_floor_seconds"],
                "<= 10 s",
                verdict(failover["failover"]["median"], 10.0, unit=" s"),
            )
        )
    if not problem("backup", "5. Backup and restore"):
        backup = figures["backup"]
        size = backup["data"]["total_bytes"] / 1e6
        for phase in ("backup", "restore"):
            entry = backup[phase]
            rows.append(
                (
                    "5. %s, %.0f MB" % (phase.capitalize(), size),
                    "wandb-backup %s, %.1f MB/s" % (fmt(entry["program"]), entry["program_mb_s"]),
                    "raw tools %s, %.1f MB/s" % (fmt(entry["raw"]), entry["raw_mb_s"]),
                    "%.2fx" % entry["ratio"],
                    ">= 0.8x",
                    verdict(entry["ratio"], 0.8, kind="min"),
                )
            )
        dumpers = backup.get("dumpers", {})
        if "dump_ratio" in dumpers:
            rows.append(
                (
                    "5. mydumper vs mysqldump (database only)",
                    "mydumper %s, myloader %s" % (fmt(dumpers["mydumper"]), fmt(dumpers["myloader"])),
                    "mysqldump %s, mysql %s" % (fmt(dumpers["mysqldump"]), fmt(dumpers["mysql_load"])),
                    "dump %.2fx, load %.2fx" % (dumpers["dump_ratio"], dumpers["load_ratio"]),
                    "(decides the tool)",
                    "mydumper wins" if dumpers["dump_ratio"] > 1 else "mysqldump wins",
                )
            )
        elif dumpers:
            why = dumpers.get("failed") or dumpers.get("skipped") or ""
            what = "%s: %s" % ("failed" if "failed" in dumpers else "skipped", why.strip().splitlines()[-1][:200])
            rows.append(("5. mydumper vs mysqldump", dumpers.get("version", ""), "", "", "", what if why else ""))
    return rows


HEADER = ("Figure", "Measured", "Reference", "Ratio", "Goal", "Verdict")


def table(results):
    """The table as Markdown (it reads on a terminal as well)."""
    rows = _rows(results)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(" --- " for _column in HEADER) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _machine_line(results):
    machine = results.get("machine", {})
    return "%s, %s cores, %s, %s (kernel %s)" % (
        machine.get("cpu"),
        machine.get("cores"),
        machine.get("memory"),
        machine.get("os"),
        machine.get("kernel"),
    )


def _top(tasks, limit=10):
    lines = ["| Task | Seconds |", "| --- | --- |"]
    lines += ["| %s | %.2f |" % (item["task"].replace("|", "/"), item["seconds"]) for item in tasks[:limit]]
    return "\n".join(lines)


def _by(entries, key):
    """ "MySQL 4.1 s (76 tasks), Redis ..." for per-play or per-role times."""
    return ", ".join("%s %.1f s (%d tasks)" % (entry[key], entry["seconds"], entry["tasks"]) for entry in entries)


def markdown(results):
    machine = results.get("machine", {})
    figures = results.get("figures", {})
    others = machine.get("other_containers") or []
    out = [
        "# Benchmark report",
        "",
        "Run %s (%s mode, %s repetitions of reruns and backups, %s of fresh converges) on %s."
        % (
            results.get("date"),
            results.get("mode"),
            results.get("repeat"),
            results.get("converge_repeat"),
            _machine_line(results),
        ),
        "",
        "Absolute times vary between machines; the ratios are the figures to compare. This machine is"
        " shared: load average %s at the start, %s at the end; other lab containers running at the start:"
        " %s. Each figure and its reference ran one after the other in the same run, so both saw the same"
        " noise; the spread (min-max) says how much there was."
        % (machine.get("load_average"), machine.get("load_average_end"), ", ".join(others) or "none"),
        "",
        table(results),
        "",
    ]
    fresh = figures.get("fresh", {})
    if "top_tasks" in fresh:
        out += [
            "## 1. Fresh converge: top tasks of the median site.yml run (%d tasks)" % fresh["tasks"],
            "",
            _top(fresh["top_tasks"]),
            "",
        ]
    rerun = figures.get("rerun", {})
    if "all_in_one" in rerun:
        for key, title in (("all_in_one", "all-in-one"), ("fleet", "fleet")):
            entry = rerun[key]
            out += [
                "## 2. Idempotent rerun, %s: top tasks of the median run (%d tasks, changed per run: %s)"
                % (title, entry["tasks"], entry["changed"]),
                "",
                _top(entry["top_tasks"]),
                "",
            ]
            if entry.get("plays"):
                out += ["Per play: %s." % _by(entry["plays"], "play"), ""]
            if entry.get("roles"):
                out += ["Per role: %s." % _by(entry["roles"], "role"), ""]
        fleet = rerun["fleet"]
        if fleet.get("rerun_linear_seconds"):
            out += [
                "The fleet's rerun with the data tier one tier after another (`-e wandb_site_strategy=linear`, same"
                " hosts, after the figure's reruns): %s; its plays: %s."
                % (fmt(fleet["rerun_linear_seconds"]), _by(fleet.get("rerun_linear_plays", []), "play")),
                "",
            ]
        out += ["The fleet's fresh converge took %.1f s (one run)." % fleet["converge_seconds"], ""]
        if fleet.get("converge_plays"):
            out += ["Its plays: %s." % _by(fleet["converge_plays"], "play"), ""]
        goal = fleet.get("converge_goal")
        if goal:
            alone = ", ".join("%s %.1f s" % (group, seconds) for group, seconds in goal["tiers_alone_seconds"].items())
            out += [
                "Goal (issue 14): the fleet's converge <= 1.2x the slowest data tier alone plus the server's and the"
                " proxy's plays (%.1f s; each tier alone from a second fresh fleet converged with"
                " `wandb_site_strategy=linear`: %s). The data-tier play took %.1f s with the tiers side by side and"
                " %.1f s one tier after another (that whole run %.1f s). Converge %.1f s: %.2fx, %s."
                % (
                    goal["reference_seconds"],
                    alone,
                    goal["data_tier_seconds"],
                    goal["data_tier_linear_seconds"],
                    fleet.get("converge_linear_seconds", 0.0),
                    fleet["converge_seconds"],
                    goal["ratio"],
                    "met" if goal["ratio"] <= goal["ratio_max"] else "**missed**",
                ),
                "",
            ]
    scaling = figures.get("scaling", {})
    if "points" in scaling:
        out += [
            "## 3. Scaling: the %s tier" % scaling["tier"],
            "",
            "| Hosts | Converge | Rerun | Converge vs 1 host | Rerun vs 1 host |",
            "| --- | --- | --- | --- | --- |",
        ]
        for point in scaling["points"]:
            out.append(
                "| %d | %s | %s | %.2fx | %.2fx |"
                % (
                    point["hosts"],
                    fmt(point["converge"]),
                    fmt(point["rerun"]),
                    point["converge_ratio"],
                    point["rerun_ratio"],
                )
            )
        out.append("")
    window = figures.get("window", {})
    if "change" in window:
        out += [
            "## 4. Error window through the proxy (sampled every %s ms)" % window.get("interval_ms", 100),
            "",
            "A settings change (container recreate): %s; its floor (stop, start, ready): %s."
            % (fmt(window["change"]), fmt(window["floor"])),
            "",
        ]
    upgrade = figures.get("upgrade", {})
    if "upgrade" in upgrade:
        out += [
            "## 4b. Error window of an upgrade (sampled every %s ms)" % upgrade.get("interval_ms", 100),
            "",
            "`upgrade.yml` to the next stand-in release (backup first, the new container created beside the"
            " running one, then one stop-and-start on the host): window %s, longest outage %s, playbook %s;"
            " its floor (the new release's container stopped and started by hand, until /ready answers"
            " through the proxy): %s."
            % (
                fmt(upgrade["upgrade"]),
                fmt(upgrade["longest_outage"]),
                fmt(upgrade["playbook_seconds"]),
                fmt(upgrade["floor"]),
            ),
            "",
        ]
    failover = figures.get("failover", {})
    if "failover" in failover:
        out += [
            "## 4c. Error window of a failover (sampled every %s ms)" % failover.get("interval_ms", 100),
            "",
            "The host of the serving server stopped (`docker stop -t 0`) until the standby answers /ready"
            " through the proxy: window %s, longest outage %s. The floor is the watchdog's detection interval"
            " (%s s) plus the standby's container stopped and started by hand, its watchdog paused, until"
            " /ready answers through the proxy: %s. Between the two: the handover delay the fencing needs"
            " (%s s, docs/high-availability.md) and the proxy's health checks."
            % (
                fmt(failover["failover"]),
                fmt(failover["longest_outage"]),
                failover["detection_interval_seconds"],
                fmt(failover["floor"]),
                failover.get("handover_delay_seconds"),
            ),
            "",
        ]
    backup = figures.get("backup", {})
    if "data" in backup:
        data = backup["data"]
        out += [
            "## 5. Backup and restore",
            "",
            "Data set: %d rows (%.1f MB of SQL), %d objects (%.1f MB). The program is `wandb-backup run` and"
            " `wandb-backup restore latest --database --bucket` on the backup host; the raw tools are"
            " `mysqldump | gzip` with the same options and account, then `mc mirror` of the bucket, and back"
            " with `gunzip | mysql` and `mc mirror --remove`."
            % (data["rows"], data["sql_bytes"] / 1e6, data["objects"], data["object_bytes"] / 1e6),
            "",
        ]
        dumpers = backup.get("dumpers", {})
        if "dump_ratio" in dumpers:
            out += [
                "Parallel dumper (%s), database only, root on the local socket: mydumper %s vs mysqldump %s"
                " (%.2fx); myloader %s vs mysql %s (%.2fx)."
                % (
                    dumpers["version"],
                    fmt(dumpers["mydumper"]),
                    fmt(dumpers["mysqldump"]),
                    dumpers["dump_ratio"],
                    fmt(dumpers["myloader"]),
                    fmt(dumpers["mysql_load"]),
                    dumpers["load_ratio"],
                ),
                "",
            ]
    return "\n".join(out) + "\n"


def chart(results, path):
    """The scaling and window figures as a PNG; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figures = results.get("figures", {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    scaling = figures.get("scaling", {})
    if "points" in scaling:
        hosts = [point["hosts"] for point in scaling["points"]]
        for phase, marker in (("converge", "o"), ("rerun", "s")):
            medians = [point[phase]["median"] for point in scaling["points"]]
            low = [point[phase]["median"] - point[phase]["min"] for point in scaling["points"]]
            high = [point[phase]["max"] - point[phase]["median"] for point in scaling["points"]]
            left.errorbar(hosts, medians, yerr=[low, high], marker=marker, capsize=3, label=phase)
        left.set_xticks(hosts)
        left.legend()
    else:
        left.text(0.5, 0.5, "not measured", ha="center", va="center", transform=left.transAxes)
    left.set_title("Scaling: %s tier" % scaling.get("tier", "redis"))
    left.set_xlabel("hosts")
    left.set_ylabel("seconds (median, min-max)")
    window = figures.get("window", {})
    if window.get("timelines"):
        for label, timeline in window["timelines"].items():
            times = [sample[0] for sample in timeline]
            failing = [0 if sample[1] else 1 for sample in timeline]
            right.step(times, failing, where="post", label=label)
        right.set_yticks([0, 1], ["answers", "error"])
        right.legend()
    else:
        reason = window.get("skipped") or window.get("failed") or "not measured"
        right.text(
            0.5,
            0.5,
            "\n".join(reason[i : i + 40] for i in range(0, len(reason), 40)),
            ha="center",
            va="center",
            transform=right.transAxes,
        )
    right.set_title("Error window through the proxy")
    right.set_xlabel("seconds from the start of the change")
    fig.suptitle("wandb_local.fleet benchmarks, %s" % results.get("date", ""))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv):
    path = Path(argv[0] if argv else "build/bench/results.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    print(table(results))
    (path.parent / "report.md").write_text(markdown(results), encoding="utf-8")
    chart(results, path.parent / "chart.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
