"""Every lab host boots systemd as PID 1."""

testinfra_hosts = ["ansible://all"]


def test_systemd_is_pid_1(host):
    assert host.process.get(pid=1).comm == "systemd"
    assert host.run("systemctl is-system-running").stdout.strip() in ("running", "degraded")
