"""Print every package source this host reaches: each name or address given, on ports 80 and 443, all at once
(on the air gap each attempt waits 3 s for nothing). Empty output means none. Run on a lab host with python3 -c
(prepare.yml and tests/test_offline.py)."""

import concurrent.futures
import socket
import sys


def reach(target, port):
    try:
        socket.create_connection((target, port), timeout=3).close()
        return "%s:%d" % (target, port)
    except OSError:
        return None


jobs = [(target, port) for target in sys.argv[1:] for port in (80, 443)]
with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
    print(" ".join(found for found in pool.map(lambda job: reach(*job), jobs) if found))
