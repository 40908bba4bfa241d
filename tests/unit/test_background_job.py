"""tests/background: the exit status of a background job of make test always reaches its rc file,
also under make's `-e` shell flags, where the inline `(COMMAND; echo $? > RC) &` never wrote it."""

import subprocess
from pathlib import Path

import pytest

BACKGROUND = Path(__file__).resolve().parents[1] / "background"


@pytest.mark.parametrize("command, expected", [("true", "0"), ("exit 3", "3")])
def test_the_exit_status_reaches_the_rc_file_under_make_shell_flags(tmp_path, command, expected):
    rc, log = tmp_path / "job.rc", tmp_path / "job.log"
    # As the Makefile's recipes run it: bash -eu -o pipefail -c, the job in the background.
    line = f"{BACKGROUND} {rc} {log} bash -c 'echo said; {command}' & wait"
    subprocess.run(["bash", "-eu", "-o", "pipefail", "-c", line], check=False, timeout=30)
    assert rc.read_text().strip() == expected
    assert log.read_text() == "said\n"
