# Copyright (c) wandb_local.fleet contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import io

import pytest

from ansible_collections.wandb_local.fleet.plugins.module_utils._error_window import (
    compute_window,
    format_sample,
    probe,
    read_samples,
    sample,
)


def series(start, interval, oks):
    return [(start + i * interval, ok) for i, ok in enumerate(oks)]


def test_no_failure_is_no_window():
    window = compute_window(series(100.0, 0.1, [True] * 5), 0.1)
    assert window["window_seconds"] == 0.0
    assert window["failed_samples"] == 0
    assert window["outages"] == 0
    assert window["recovered"] is True
    assert window["first_failure"] is None and window["recovered_at"] is None
    assert window["samples"] == 5
    assert window["sampled_seconds"] == 0.4


def test_one_outage_runs_from_the_first_failure_to_the_first_good_sample():
    window = compute_window(series(100.0, 0.1, [True, False, False, False, True, True]), 0.1)
    assert window["window_seconds"] == 0.3
    assert window["longest_outage_seconds"] == 0.3
    assert window["failed_samples"] == 3
    assert window["first_failure"] == 100.1
    assert window["recovered_at"] == 100.4
    assert window["recovered"] is True
    assert window["interval_seconds"] == 0.1


def test_two_outages_give_one_window_from_the_first_failure_to_after_the_last():
    oks = [True, False, True, True, False, False, False, False, True]
    window = compute_window(series(10.0, 0.5, oks), 0.5)
    assert window["outages"] == 2
    assert window["failed_samples"] == 5
    # 10.5 (first failure) to 14.0 (good after the last failure).
    assert window["window_seconds"] == 3.5
    # The second outage: 12.0 to 14.0.
    assert window["longest_outage_seconds"] == 2.0


def test_still_failing_at_the_end_is_a_lower_bound_and_says_so():
    window = compute_window(series(0.0, 1.0, [True, False, False]), 1.0)
    assert window["recovered"] is False
    assert window["recovered_at"] is None
    assert window["window_seconds"] == 1.0
    assert window["longest_outage_seconds"] == 1.0


def test_no_samples():
    window = compute_window([], 0.1)
    assert window["samples"] == 0 and window["window_seconds"] == 0.0 and window["recovered"] is True


def test_the_file_format_round_trips_and_a_cut_line_is_skipped():
    text = format_sample(1.23456, True, "200") + format_sample(2.5, False, "timeout") + "3.0 1"[:3] + "\n\nx 1 200\n"
    assert text.startswith("1.235 1 200\n2.500 0 timeout\n")
    assert read_samples(io.StringIO(text)) == [(1.235, True), (2.5, False)]
    # A detail with spaces keeps the line at three fields.
    assert format_sample(1, False, "HTTP 502 Bad") == "1.000 0 HTTP\n"
    assert format_sample(1, False, "") == "1.000 0 -\n"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_sampler_keeps_its_interval_and_never_overlaps_a_slow_probe():
    clock = FakeClock()
    answers = iter([(True, "200"), (False, "timeout"), (False, "502"), (True, "200")] + [(True, "200")] * 100)
    durations = iter([0.01, 0.5, 0.01, 0.01] + [0.01] * 100)

    def check():
        clock.now += next(durations)
        return next(answers)

    out = io.StringIO()
    sample(
        "http://unused",
        out,
        interval=0.1,
        should_stop=None,
        max_seconds=1.0,
        clock=clock,
        sleep=clock.sleep,
        check=check,
    )
    samples = read_samples(out.getvalue().splitlines())
    starts = [started for started, ok in samples]
    assert starts[:4] == [1000.0, 1000.1, pytest.approx(1000.6), pytest.approx(1000.7)]
    assert starts == sorted(set(starts))
    window = compute_window(samples, 0.1)
    assert window["failed_samples"] == 2
    assert window["window_seconds"] == pytest.approx(0.6)


def test_the_sampler_stops_when_asked():
    calls = []
    out = io.StringIO()
    sample(
        "http://unused",
        out,
        interval=0.0,
        should_stop=lambda: len(calls) >= 3,
        check=lambda: calls.append(1) or (True, "200"),
    )
    assert len(out.getvalue().splitlines()) == 3


def test_probe_says_what_it_got(ready_site):
    url = ready_site.url
    ready_site.status = 200
    assert probe(url, 1.0) == (True, "200")
    ready_site.status = 502
    assert probe(url, 1.0) == (False, "502")
    ready_site.shutdown()
    ready_site.server_close()
    assert probe(url, 1.0) == (False, "refused")
