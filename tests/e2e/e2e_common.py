"""What the end-to-end scripts share: the pass/fail tally, free loopback
ports, Python gRPC stubs of pstrack's protos, and a pstrack-server with gRPC
and HTTP on loopback (SQLite, an admin key made with pstrack-admin)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback

RESULTS = {"passed": 0, "failed": 0}


def check(name, fn):
    """Runs fn; an exception fails the check (printed), the script goes on."""
    try:
        fn()
        RESULTS["passed"] += 1
        print(f"[ OK ] {name}", flush=True)
    except Exception:  # noqa: BLE001 - report every failure, run the rest
        RESULTS["failed"] += 1
        print(f"[FAIL] {name}\n{traceback.format_exc()}", flush=True)


def check_that(name, ok, detail=""):
    """Counts a condition already evaluated; detail is printed on failure."""
    RESULTS["passed" if ok else "failed"] += 1
    print(f"[{' OK ' if ok else 'FAIL'}] {name}" + ("" if ok or not detail else f"\n  {detail}"), flush=True)


def summary():
    """Prints the tally; the script's exit status (1 if anything failed)."""
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PSTRACK_PROTOS = ("common.proto", "agency.proto", "catalog.proto", "filing.proto", "metrics.proto", "admin.proto")


def python_stubs(source_dir, out, reflection=False):
    """Generates Python message and gRPC modules for pstrack's protos and
    grpc.health.v1 (importable as `health`; with reflection, also
    grpc.reflection.v1alpha as `reflection`) into out, and puts out on
    sys.path. Health and reflection get local names: the installed 'grpc'
    package would shadow a generated grpc/health/... module."""
    from grpc_tools import protoc  # not every script needs it installed

    os.makedirs(out, exist_ok=True)
    src = os.path.abspath(os.path.join(source_dir, "proto"))
    local = os.path.join(out, "src")
    files = [(os.path.join(src, "google/api", n), src) for n in ("http.proto", "annotations.proto")]
    files += [(os.path.join(src, "pstrack/v1", n), src) for n in PSTRACK_PROTOS]
    copied = [("health", "grpc/health/v1/health.proto")]
    if reflection:
        copied.append(("reflection", "grpc/reflection/v1alpha/reflection.proto"))
    for name, rel in copied:
        os.makedirs(os.path.join(local, name), exist_ok=True)
        target = os.path.join(local, name, name + ".proto")
        shutil.copy(os.path.join("/usr/share/grpc-proto", rel), target)
        files.append((target, local))
    for f, root in files:
        if protoc.main(["protoc", f"-I{root}", "-I/usr/include", f"--python_out={out}", f"--grpc_python_out={out}", f]):
            raise RuntimeError(f"protoc failed on {f}")
    sys.path.insert(0, out)


class HttpServer:
    """pstrack-server on a SQLite file in work/name with gRPC and HTTP on free
    loopback ports; `token` is an admin key's (also in `key_file`)."""

    def __init__(self, work, name, *, server_bin, admin_bin, source_dir, agencies, procedures, extra=(),
                 key_name="e2e admin"):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.grpc_port, self.http_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.key_file = os.path.join(self.dir, "admin.key")
        db = f"sqlite:{self.dir}/pstrack.db"
        subprocess.run([admin_bin, "create-key", f"--db={db}", "--role=admin", f"--name={key_name}",
                        f"--out={self.key_file}"], check=True, capture_output=True)
        self.token = open(self.key_file).read().strip()
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = subprocess.Popen(
            [server_bin, f"--listen=127.0.0.1:{self.grpc_port}", f"--http_listen=127.0.0.1:{self.http_port}",
             f"--db={db}", f"--calendar_dir={source_dir}/data/calendar",
             f"--methodology_dir={source_dir}/data/methodologies", f"--agencies={agencies}",
             f"--procedures={procedures}", *extra],
            stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)

    def log(self):
        return open(self.log_path).read()

    def wait_ready(self, base=None, verify=True, timeout=30):
        """Until GET /readyz answers 200 (on base, default self.base)."""
        import requests  # only the HTTP scripts need it installed

        url = (base or self.base) + "/readyz"
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log())
            try:
                if requests.get(url, timeout=1, verify=verify).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not ready:\n" + self.log())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)
