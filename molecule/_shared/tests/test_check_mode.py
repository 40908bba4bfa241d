"""Shared by every Molecule scenario: on converged hosts, the scenario's converge playbook run
with --check must report no change (ansible-playbook --check is how operators preview a run)."""

from lab_playbook import run_playbook


def test_check_mode_on_converged_hosts_reports_no_change():
    run = run_playbook("converge.yml", "--check", "--diff")
    assert run.returncode == 0, f"--check run failed:\n{run.tail()}"
    assert run.changed, f"no PLAY RECAP in --check output:\n{run.tail()}"
    changed = {host: count for host, count in run.changed.items() if count}
    assert not changed, f"--check on converged hosts reports changes {changed}:\n{run.tail()}"
