"""For the scenarios whose test_sequence converges halfway (side_effect: molecule/_shared/partial-converge.yml)
and then runs `check` again: --check --diff on hosts a converge left half done completes, without a
failed task.

The runs are recorded by molecule/_shared/callback_plugins/wandb_lab_changes.py."""

from lab_runs import recorded_runs


def check_after_partial(runs):
    """The partial converge (tags, real run) and the first --check run after it."""
    partial = next((run for run in runs if run["tags"] and not run["check"] and run["complete"]), None)
    assert partial is not None, (
        "no partial converge was recorded: the scenario's test_sequence runs side_effect"
        " (molecule/_shared/partial-converge.yml) and then check"
    )
    later = [run for run in runs if run["started"] > partial["started"]]
    check = next((run for run in later if run["check"] and not run["tags"]), None)
    assert check is not None, "no --check run was recorded after the partial converge"
    return partial, check


def test_check_after_a_partial_converge_completes():
    partial, check = check_after_partial(recorded_runs())
    assert not partial["failed"], f"the partial converge itself failed in {partial['failed']}"
    assert check["complete"] and not check["failed"], (
        f"--check after a partial converge (tags {partial['tags']}) failed in {check['failed']}"
    )
    assert check["changed"], "--check after a partial converge predicted no change, though the converge is half done"
