#!/usr/bin/env python3
"""Descriptor exhaustion cannot wedge the server (issue 23, point 2).

pstrack-server runs with a low open-file limit (soft and hard, so it cannot
raise it) under a supervisor played by this script, which restarts it when
it exits non-zero, as systemd (Restart=on-failure) or Kubernetes would. Idle
TCP connections take every descriptor; they are released; then the server
must serve again within 10 s, by itself or through the supervised restart
(gRPC 1.51 may stop accepting for good after accept4 failed: the server
detects that and exits with status 1, never with a crash). Loopback only;
bounded in count and time. Prints 'N passed, N failed' and exits non-zero on failure."""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import grpc

from e2e_common import check_that as check, free_port, summary


def health(port, timeout=1.0):
    """SERVING (True), NOT_SERVING (False) or no answer (None)."""
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            # grpc.health.v1.HealthCheckResponse: field 1, status; 1 = SERVING.
            reply = ch.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=timeout)
            return reply == b"\x08\x01"
    except grpc.RpcError:
        return None


class Supervised:
    """The server under a supervisor: restarted when it exits non-zero."""

    def __init__(self, args, work, port, limit):
        self.cmd = ["prlimit", f"--nofile={limit}:{limit}", "--", args.server_bin,
                    f"--listen=127.0.0.1:{port}", "--dev_no_auth", f"--data_dir={work}/var",
                    f"--calendar_dir={args.source_dir}/data/calendar",
                    f"--methodology_dir={args.source_dir}/data/methodologies",
                    "--max_threads=16", "--read_connections=2"]
        self.log = open(os.path.join(work, "server.log"), "ab")
        self.exits = []  # exit statuses seen
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def tend(self):
        """What the supervisor does on each look: restart after a failure."""
        rc = self.proc.poll()
        if rc is not None:
            self.exits.append(rc)
            if rc != 0:
                self.start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    limit = 128
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        server = Supervised(args, work, port, limit)
        try:
            deadline = time.time() + 30
            while health(port) is not True and time.time() < deadline:
                time.sleep(0.2)
            check("the server starts under a limit of 128 descriptors", health(port) is True)
            for round_ in range(1, args.rounds + 1):
                idle = []
                for _ in range(3 * limit):
                    s = socket.socket()
                    s.settimeout(2)
                    try:
                        s.connect(("127.0.0.1", port))
                    except OSError:
                        s.close()
                        break
                    idle.append(s)
                time.sleep(2)
                exhausted = health(port)
                check(f"round {round_}: {len(idle)} idle connections take every descriptor "
                      "(the server cannot answer meanwhile)", exhausted is not True and len(idle) > limit,
                      f"health {exhausted}, {len(idle)} connections")
                for s in idle:
                    s.close()
                released = time.time()
                back = None
                while time.time() - released < 15:
                    server.tend()
                    if health(port) is True:
                        back = time.time() - released
                        break
                    time.sleep(0.25)
                restarts = sum(1 for rc in server.exits if rc != 0)
                check(f"round {round_}: serving again within 10 s of the release "
                      f"({'%.1f s' % back if back is not None else 'no'}; {restarts} supervised restarts so far)",
                      back is not None and back <= 10, f"after {back} s" if back else "not within 15 s")
            failures = [rc for rc in server.exits if rc != 0]
            check("every exit was the server's own (status 1), never a crash or a kill",
                  all(rc == 1 for rc in failures), server.exits)
            log = open(os.path.join(work, "server.log"), "rb").read().decode("utf-8", "replace")
            if failures:
                check("the log says the listener stopped accepting and the server stopped itself",
                      "the listener has stopped accepting" in log, log[-2000:])
            check("no write-ahead-log flush stopped the process", "cannot open the write-ahead log" not in log)
        finally:
            server.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
