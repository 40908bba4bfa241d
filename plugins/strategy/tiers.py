# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: tiers
short_description: Lockstep within each tier, the tiers side by side
version_added: 0.2.0
description:
  - Runs a play whose hosts belong to several groups (tiers) as the C(linear) strategy runs each tier
    alone, with the tiers side by side. The play's hosts are split into lanes, one per tier; within
    a lane every task runs on all of the lane's hosts before the next one starts (a replica after its
    primary, a cluster's bucket after every node), as under C(linear); the lanes do not wait for one another.
  - Two hosts are in the same lane when they share a group named in the play's C(hosts) pattern, directly
    or through other hosts (a host in two tiers joins them into one lane, so a one-host site runs as
    C(linear) does). Hosts in none of those groups share one lane.
  - C(run_once) and actions that bypass the host loop run once per lane, on the lane's first host, and
    their registered results and facts are given to the lane's hosts. A failed C(run_once) task fails every
    host of the play, as under C(linear); C(any_errors_fatal) stops every lane.
  - Handlers are flushed per lane, where the lane's hosts reach C(meta) C(flush_handlers).
  - Lanes only run different roles at the same time if the play includes each tier's role dynamically
    (C(ansible.builtin.include_role) with a C(when) on the group). A role imported statically puts its tasks
    on every host's list, so the other lanes skip through them one by one.
notes:
  - The controller's shared resources a tier's first tasks create (a CA, a secrets directory) must exist
    before such a play, since two lanes may reach the same task at the same moment.
  - With C(--step), each lane's next task is asked for when it starts.
  - A fatal failure cannot undo what a faster lane did before it; that lane may have ended the play already.
author:
  - wandb_local.fleet maintainers (@wandb-local)
"""

import re
import time

from ansible import constants as C

# ansible-core 2.19's template engine, as its own strategies use it (meta/runtime.yml requires 2.19).
from ansible._internal._templating._engine import TemplateEngine
from ansible.errors import AnsibleAssertionError, AnsibleError, AnsibleParserError, AnsibleValueOmittedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.playbook.handler import Handler
from ansible.playbook.included_file import IncludedFile
from ansible.plugins.loader import action_loader
from ansible.plugins.strategy import StrategyBase
from ansible.utils.display import Display

display = Display()

# Meta tasks that concern each host alone; the others act on the play and run once (per lane here).
_PER_HOST_META = ("noop", "reset_connection", "end_host", "role_complete", "flush_handlers", "end_role")
# Host pattern parts that are not plain group names: exclusions, intersections, wildcards, regexes.
_NOT_A_GROUP = re.compile(r"^[!&~]|[*?\[\]]")


def pattern_groups(patterns, known_groups):
    """The group names a play's hosts pattern lists (``a:b,c``), in order, those the inventory knows."""
    if isinstance(patterns, str):
        patterns = [patterns]
    names = []
    for pattern in patterns or []:
        for part in re.split(r"[:,]", pattern):
            part = part.strip()
            if part and not _NOT_A_GROUP.search(part) and part in known_groups and part not in names:
                names.append(part)
    return names


def assign_lanes(host_groups, tier_groups):
    """Lane name per host: hosts sharing a tier group, directly or through other hosts, share a lane.

    host_groups maps each host name (in play order) to the names of its groups; tier_groups are the
    play's groups. A lane is named by its tier groups joined with '+'; hosts in none share the lane ''.
    """
    parent = {}

    def find(node):
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    tiers = set(tier_groups)
    for groups in host_groups.values():
        mine = [group for group in groups if group in tiers]
        for group in mine:
            parent[find(group)] = find(mine[0])
    members = {}
    for group in tier_groups:
        if group in parent:
            members.setdefault(find(group), []).append(group)
    lanes = {}
    for host, groups in host_groups.items():
        mine = [group for group in groups if group in tiers]
        lanes[host] = "+".join(sorted(members[find(mine[0])])) if mine else ""
    return lanes


class _Lane:
    """One tier's own list of the play's tasks and how far its hosts are, as linear keeps for the play."""

    def __init__(self, name, tasks):
        self.name = name
        self.tasks = list(tasks)
        self.cursor = 0
        # The results of the step in flight (None: no step in flight), and whether its task is fatal.
        self.results = None
        self.fatal = False

    def next_step(self, hosts, iterator):
        """(host, task) for the lane's hosts whose next task is the lane's next one in play order."""
        peeked = {}
        for host in hosts:
            state, task = iterator.get_next_task_for_host(host, peek=True)
            if task is not None:
                peeked[host] = (state, task)
        if not peeked:
            return []
        wanted = {task._uuid for _state, task in peeked.values()}
        chosen = None
        # Twice round at most: after clear_host_errors a host may be back at an earlier task.
        for _pass in range(2):
            while chosen is None and self.cursor < len(self.tasks):
                candidate = self.tasks[self.cursor]
                self.cursor += 1
                if candidate._uuid in wanted:
                    chosen = candidate
            if chosen is not None:
                break
            self.cursor = 0
        if chosen is None:
            raise AnsibleAssertionError("BUG: lane %r lost track of its hosts' tasks" % self.name)
        step = []
        for host, (state, task) in peeked.items():
            if task._uuid == chosen._uuid:
                iterator.set_state_for_host(host.name, state)
                step.append((host, task))
        if chosen._get_meta() == "flush_handlers":
            self.insert([handler for block in iterator._play.handlers for handler in block.block])
        return step

    def insert(self, tasks):
        self.tasks[self.cursor : self.cursor] = tasks


class StrategyModule(StrategyBase):
    def __init__(self, tqm):
        super().__init__(tqm)
        self._lane_of = {}

    def get_task_hosts(self, iterator, task_host, task):
        # A run_once result belongs to the lane that ran it, not to the other tiers' hosts.
        if task.run_once:
            lane = self._lane_of.get(task_host.name)
            return [
                name
                for name in self._hosts_cache
                if self._lane_of.get(name) == lane and name not in self._tqm._unreachable_hosts
            ]
        return super().get_task_hosts(iterator, task_host, task)

    def _assign_lanes(self, play):
        groups = pattern_groups(play.hosts, self._inventory.groups)
        host_groups = {}
        for name in self._hosts_cache:
            host = self._inventory.get_host(name)
            host_groups[name] = [group.name for group in host.get_groups()] if host else []
        self._lane_of = assign_lanes(host_groups, groups)
        lanes = {}
        for name, lane in self._lane_of.items():
            lanes.setdefault(lane or "(no tier group)", []).append(name)
        display.vv(
            "tiers strategy lanes: %s" % "; ".join("%s: %s" % (lane, ", ".join(hosts)) for lane, hosts in lanes.items())
        )

    def run(self, iterator, play_context):  # type: ignore[override]
        result = int(self._tqm.RUN_OK)
        self._set_hosts_cache(iterator._play)
        self._assign_lanes(iterator._play)
        lanes = {}
        work_to_do = True
        while work_to_do and not self._tqm._terminated:
            hosts_left = self.get_hosts_left(iterator)
            if not hosts_left:
                break
            by_lane = {}
            for host in hosts_left:
                by_lane.setdefault(self._lane_of.get(host.name, ""), []).append(host)
            work_to_do = False
            queued = False
            for name, hosts in by_lane.items():
                lane = lanes.get(name)
                if lane is None:
                    lane = lanes[name] = _Lane(name, iterator.all_tasks)
                # A lane waits for its own hosts only: every host's result of a step is in before the next.
                if any(self._blocked_hosts.get(host.name, False) for host in hosts):
                    work_to_do = True
                    continue
                if lane.results is not None:
                    finished, outcome = self._finish_step(lane, hosts_left, iterator, lanes)
                    result |= outcome
                    lane.results = None
                    if not finished:
                        # Hosts were failed (any_errors_fatal, max_fail_percentage): look at who is left.
                        work_to_do = True
                        break
                step = lane.next_step(hosts, iterator)
                if not step:
                    continue
                work_to_do = queued = True
                if not self._queue_step(lane, step, iterator, play_context):
                    lane.results = None
            # With nothing new to start, every lane waits on its own hosts: block until a result comes in rather
            # than go round the lanes again (hosts_left copies every host's state: a busy loop took a core).
            self._collect_results(iterator, lanes, block=work_to_do and not queued)
            if result != self._tqm.RUN_OK and len(self._tqm._failed_hosts) >= len(hosts_left):
                self._wait_on_pending_results(iterator)
                self._tqm.send_callback("v2_playbook_on_no_hosts_remaining")
                return result

        self._wait_on_pending_results(iterator)
        return super().run(iterator, play_context, result)

    def _collect_results(self, iterator, lanes, block):
        """Hand the results that came in to their lanes; with block, wait until one does (or none is pending)."""
        while True:
            results = self._process_pending_results(iterator)
            for res in results:
                owner = lanes.get(self._lane_of.get(res.host.name, ""))
                if owner is not None and owner.results is not None:
                    owner.results.append(res)
            if results or not block or self._pending_results == 0 or self._tqm._terminated:
                return
            time.sleep(C.DEFAULT_INTERNAL_POLL_INTERVAL)

    def _finish_step(self, lane, hosts_left, iterator, lanes):
        """Act on a lane's finished step: its includes, then its failures. Returns (hosts unchanged, result bits)."""
        results = lane.results
        self.update_active_connections(results)
        self._add_included_tasks(results, iterator, hosts_left, lanes)
        failed_hosts = [res.host.name for res in results if res.is_failed()]
        if any((res.is_failed() or res.is_unreachable()) for res in results) and lane.fatal:
            # Every lane stops: let the others' tasks in flight end first, as linear ends a step.
            for res in self._wait_on_pending_results(iterator):
                owner = lanes.get(self._lane_of.get(res.host.name, ""))
                if owner is not None and owner.results is not None:
                    owner.results.append(res)
            for host in hosts_left:
                if host.name not in failed_hosts:
                    self._tqm._failed_hosts[host.name] = True
                    iterator.mark_host_failed(host)
            return False, 0
        if iterator._play.max_fail_percentage is not None and results:
            percentage = iterator._play.max_fail_percentage / 100.0
            if (len(self._tqm._failed_hosts) / iterator.batch_size) > percentage:
                self._wait_on_pending_results(iterator)
                for host in hosts_left:
                    if host.name not in failed_hosts:
                        self._tqm._failed_hosts[host.name] = True
                        iterator.mark_host_failed(host)
                self._tqm.send_callback("v2_playbook_on_no_hosts_remaining")
                return False, self._tqm.RUN_FAILED_BREAK_PLAY
        return True, 0

    def _queue_step(self, lane, step, iterator, play_context):
        """Start a lane's next task on its hosts. Returns False when --step said to skip it."""
        lane.results = []
        lane.fatal = False
        announced = False
        for host, task in step:
            if self._tqm._terminated:
                break
            task_vars = self._variable_manager.get_vars(
                play=iterator._play, host=host, task=task, _hosts=self._hosts_cache, _hosts_all=self._hosts_cache_all
            )
            self.add_tqm_variables(task_vars, play=iterator._play)
            templar = TemplateEngine(loader=self._loader, variables=task_vars)
            try:
                task_action = templar.template(task.action)
            except AnsibleValueOmittedError:
                raise AnsibleParserError("Omit is not valid for the `action` keyword.", obj=task.action) from None
            try:
                action = action_loader.get(task_action, class_only=True, collection_list=task.collections)
            except KeyError:
                action = None

            if task_action in C._ACTION_META:
                lane.results.extend(self._execute_meta(task, play_context, iterator, host))
                run_once = task._get_meta() not in _PER_HOST_META
            else:
                if self._step and not announced and not self._take_step(task):
                    return False
                run_once = bool(
                    (action and getattr(action, "BYPASS_HOST_LOOP", False)) or templar.template(task.run_once)
                )
                if not announced:
                    task.post_validate_attribute("name", templar=templar)
                    if isinstance(task, Handler):
                        self._tqm.send_callback("v2_playbook_on_handler_task_start", task)
                    else:
                        self._tqm.send_callback("v2_playbook_on_task_start", task, is_conditional=False)
                    announced = True
                self._blocked_hosts[host.get_name()] = True
                self._queue_task(host, task, task_vars, play_context)
            del task_vars
            # Templated, unlike linear's raw look at the keyword: "{{ false }}" is not fatal.
            if (run_once or boolean(templar.template(task.any_errors_fatal), strict=False)) and not task.ignore_errors:
                lane.fatal = True
            if isinstance(task, Handler):
                if run_once:
                    task.clear_hosts()
                else:
                    task.remove_host(host)
            if run_once:
                break
        return True

    def _add_included_tasks(self, results, iterator, hosts_left, lanes):
        """Give each host the blocks it included, and each lane their tasks at its own place."""
        included_files = IncludedFile.process_include_results(
            results, iterator=iterator, loader=self._loader, variable_manager=self._variable_manager
        )
        if not included_files:
            return
        # Only the hosts that included something get blocks: the other lanes' hosts may be mid-task.
        blocks_of = {}
        tasks_of_lane = {name: [] for name in lanes}
        failed_hosts = set()
        for included_file in included_files:
            is_handler = False
            try:
                if included_file._is_role:
                    new_blocks, _handlers = self._copy_included_file(included_file).get_block_list(
                        play=iterator._play, variable_manager=self._variable_manager, loader=self._loader
                    )
                else:
                    is_handler = isinstance(included_file._task, Handler)
                    new_blocks = self._load_included_file(
                        included_file, iterator=iterator, is_handler=is_handler, handle_stats_and_callbacks=False
                    )
                iterator.handlers = [handler for block in iterator._play.handlers for handler in block.block]
                its_lanes = {self._lane_of.get(host.name, "") for host in included_file._hosts}
                for new_block in new_blocks:
                    if is_handler:
                        for task in new_block.block:
                            task.notified_hosts = included_file._hosts[:]
                        final_block = new_block
                    else:
                        task_vars = self._variable_manager.get_vars(
                            play=iterator._play,
                            task=new_block.get_first_parent_include(),
                            _hosts=self._hosts_cache,
                            _hosts_all=self._hosts_cache_all,
                        )
                        final_block = new_block.filter_tagged_tasks(task_vars)
                    for name in its_lanes:
                        tasks_of_lane.setdefault(name, []).extend(final_block.get_tasks())
                    for host in included_file._hosts:
                        if host in hosts_left:
                            blocks_of.setdefault(host, []).append(final_block)
            except AnsibleParserError:
                raise
            except AnsibleError as ex:
                display.error(ex)
                for res in included_file._results:
                    res._return_data["failed"] = True
                    res._return_data["reason"] = str(ex)
                    self._tqm._stats.increment("failures", res.host.name)
                    self._tqm.send_callback("v2_runner_on_failed", res)
                    failed_hosts.add(res.host)
            else:
                for host in included_file._hosts:
                    self._tqm._stats.increment("ok", host.name)
                self._tqm.send_callback("v2_playbook_on_include", included_file)
        for host in failed_hosts:
            self._tqm._failed_hosts[host.name] = True
            iterator.mark_host_failed(host)
        for host, blocks in blocks_of.items():
            iterator.add_tasks(host, blocks)
        for name, tasks in tasks_of_lane.items():
            if name in lanes:
                lanes[name].insert(tasks)
