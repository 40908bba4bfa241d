"""For the scenarios whose test_sequence runs `check` before `converge` (their molecule.yml adds this
file to the verifier): on new hosts, before anything is installed, `--check --diff` completes and its
changed tasks cover every task the converge then changed.

The runs are recorded by molecule/_shared/callback_plugins/wandb_lab_changes.py."""

from lab_runs import recorded_runs


def recorded_converge_runs():
    """Those of every tag (a partial converge is not the converge the prediction is compared with)."""
    return [run for run in recorded_runs() if not run["tags"]]


def predicted_and_done(runs):
    """The first --check run and the first real run, which must come after it."""
    if not runs or not runs[0]["check"]:
        raise AssertionError(
            "no --check run was recorded before the first converge: the scenario's test_sequence runs"
            " `check` before `converge` (after a hand-run `molecule converge`, destroy and run `molecule check` first)"
        )
    converge = next((run for run in runs if not run["check"]), None)
    assert converge is not None, "no converge run was recorded after the --check run"
    return runs[0], converge


def test_check_on_new_hosts_predicts_what_the_converge_changes():
    check, converge = predicted_and_done(recorded_converge_runs())
    assert check["complete"] and not check["failed"], f"--check on new hosts failed in {check['failed']}"
    predicted = {tuple(task) for task in check["changed"]}
    missed = sorted({tuple(task) for task in converge["changed"]} - predicted)
    assert not missed, "the converge changed what --check did not predict:\n" + "\n".join(
        f"  {host}: [{role}] {task}" for host, role, task in missed
    )
