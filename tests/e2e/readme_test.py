#!/usr/bin/env python3
"""The README's first session, run from the README itself, so that README and
behaviour cannot drift apart.

It starts pstrack-server the way tools/run.sh does (the flags are read from
tools/run.sh's exec line; the admin key made as run.sh makes it) in a scratch
directory laid out like the repository (data/ and the build/release binaries
under test), then runs every command of the README's "A first session with
the CLI" block in order, each in bash with the block's alias and exports.
Each command must exit 0 and print something; a trailing comment of the form
`# X -> Y (...)` must see Y in the output; and a few outputs are checked
against the sample files they came from (an independent reading of the CSV).
Two substitutions only: the server's port (a free one, through
$PSTRACK_SERVER) and /tmp/vn (a scratch directory, so that two runs cannot
collide). Prints 'N passed, N failed'."""

import argparse
import csv
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

ARGS = None
from e2e_common import RESULTS, check_that as check, free_port


def first_session_commands(readme):
    """The commands of the first ```sh block under '## A first session with
    the CLI', continuation lines joined, as (command, trailing comment)."""
    text = open(readme, encoding="utf-8").read()
    section = text[text.index("## A first session with the CLI"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands, pending = [], ""
    for line in block.splitlines():
        if pending:
            line = pending + " " + line.strip()
            pending = ""
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1].rstrip()
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        # Split off a trailing comment (a '#' outside quotes after a space).
        comment = ""
        m = re.search(r"\s#\s", stripped)
        if m:
            head = stripped[:m.start()]
            if head.count('"') % 2 == 0 and head.count("'") % 2 == 0:
                stripped, comment = head.rstrip(), stripped[m.end():].strip()
        commands.append((stripped, comment))
    return commands


def run_sh_server_flags(run_sh, listen, http_listen):
    """The pstrack-server flags of tools/run.sh's exec line."""
    text = open(run_sh, encoding="utf-8").read().replace("\\\n", " ")
    line = re.search(r"^exec build/release/services/pstrack-server (.*)$", text, re.M).group(1)
    flags = [f for f in shlex.split(line) if f != "$@"]
    return [f.replace("${LISTEN}", listen).replace("${HTTP_LISTEN}", http_listen) for f in flags]


def lay_out(work):
    """A scratch copy of the repository as the README's commands see it."""
    os.symlink(os.path.join(ARGS.source_dir, "data"), os.path.join(work, "data"))
    for rel, binary in (("build/release/services/pstrack-server", ARGS.server_bin),
                        ("build/release/tools/cli/pstrack", ARGS.cli_bin),
                        ("build/release/tools/pstrack-admin", ARGS.admin_bin),
                        ("build/release/tools/gen/pstrack-gen", ARGS.gen_bin)):
        os.makedirs(os.path.dirname(os.path.join(work, rel)), exist_ok=True)
        os.symlink(os.path.abspath(binary), os.path.join(work, rel))


def csv_rows(rel):
    if not os.path.isfile(os.path.join(ARGS.source_dir, rel)):
        return []
    with open(os.path.join(ARGS.source_dir, rel), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    for a in ("--server-bin", "--cli-bin", "--admin-bin", "--gen-bin", "--source-dir"):
        p.add_argument(a, required=True)
    ARGS = p.parse_args()
    ARGS.source_dir = os.path.abspath(ARGS.source_dir)
    work = tempfile.mkdtemp(prefix="pstrack-readme-")
    lay_out(work)
    port = free_port()
    env = dict(os.environ, PSTRACK_SERVER=f"127.0.0.1:{port}")
    for k in ("PSTRACK_API_KEY", "PSTRACK_API_KEY_FILE"):
        env.pop(k, None)

    # The first admin key and the server, as tools/run.sh makes and starts them.
    os.makedirs(os.path.join(work, "var"))
    subprocess.run(["build/release/tools/pstrack-admin", "create-key", "--db=sqlite:var/pstrack.db", "--role=admin",
                    "--name=readme test", "--out=var/admin.key"], cwd=work, check=True, capture_output=True)
    http_port = free_port()
    flags = run_sh_server_flags(os.path.join(ARGS.source_dir, "tools/run.sh"), f"127.0.0.1:{port}",
                                f"127.0.0.1:{http_port}")
    log_path = os.path.join(work, "server.log")
    server = subprocess.Popen(["build/release/services/pstrack-server", *flags], cwd=work,
                              stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    try:
        token = open(os.path.join(work, "var/admin.key")).read().strip()
        deadline = time.time() + 60
        while True:
            r = subprocess.run([ARGS.cli_bin, "whoami"], env=dict(env, PSTRACK_API_KEY=token), capture_output=True)
            if r.returncode == 0:
                break
            if server.poll() is not None or time.time() > deadline:
                print(open(log_path).read())
                raise RuntimeError("the server did not start")
            time.sleep(0.2)

        commands = first_session_commands(os.path.join(ARGS.source_dir, "README.md"))
        check(f"the README's first session has commands ({len(commands)})", len(commands) >= 20)
        prelude = ["shopt -s expand_aliases"]
        outputs = {}
        for command, comment in commands:
            command = command.replace("/tmp/vn", os.path.join(work, "vn"))
            command = command.replace("127.0.0.1:8080", f"127.0.0.1:{http_port}")
            if command.startswith(("alias ", "export ")):
                prelude.append(command)
                continue
            script = "\n".join(prelude + [command]) + "\n"
            r = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                               timeout=600)
            outputs[command] = r.stdout
            detail = f"  exit {r.returncode}\n  stdout: {r.stdout[-1500:]}\n  stderr: {r.stderr[-1500:]}"
            check(f"$ {command}", r.returncode == 0 and r.stdout.strip() != "", detail)
            if command.startswith("curl "):
                try:
                    answer = json.loads(r.stdout)
                except ValueError:
                    answer = None
                check("  ... answers JSON that is not an error", isinstance(answer, dict) and
                      set(answer) != {"code", "message", "details"}, detail)
            m = re.match(r"\S+\s*->\s*(\S+)", comment)
            if m:
                check(f"  ... prints {m.group(1)} ({comment})", m.group(1) in r.stdout, detail)

        def output_of(prefix):
            found = [o for c, o in outputs.items() if c.startswith(prefix)]
            return found[0] if found else ""

        # The dossier the README shows is one of the sample events' dossiers,
        # with its last event's kind.
        events = csv_rows("data/sample/events.csv")
        shown = re.search(r"pstrack dossier get (\S+)", "\n".join(c for c, _ in commands))
        code = shown.group(1) if shown else ""
        kinds = [e["kind"] for e in events if e["dossier_code"] == code]
        out = output_of(f"pstrack dossier get {code}")
        check(f"dossier {code} is in data/sample/events.csv and its events are shown",
              bool(kinds) and code in out and kinds[-1] in out, out[-1500:])
        # The report the README gets is in the file it submits, with its figures.
        shown = re.search(r"pstrack report submit (\S+)", "\n".join(c for c, _ in commands))
        reports = csv_rows(shown.group(1)) if shown else []
        shown = re.search(r"pstrack report get (\S+)", "\n".join(c for c, _ in commands))
        report_id = shown.group(1) if shown else ""
        row = next((r for r in reports if r["report_id"] == report_id), None)
        out = output_of(f"pstrack report get {report_id}")
        check(f"report {report_id} is in the submitted file and shows its figures",
              row is not None and all(f"{int(row[f]):,}" in out or row[f] in out for f in ("received", "finished")),
              out[-1500:])
        # Every agency and procedure of the import samples is now known.
        for verb, rel_re in (("agency", r"pstrack agency import (data/\S+)"),
                             ("procedure", r"pstrack procedure import (data/\S+)")):
            files = re.findall(rel_re, "\n".join(c for c, _ in commands))
            check(f"the README imports a sample {verb} file", bool(files), str(files))
            for rel in files:
                for row in csv_rows(rel):
                    r = subprocess.run(["bash", "-c", "\n".join(prelude + [f"pstrack {verb} get {row['code']}"])],
                                       cwd=work, env=env, capture_output=True, text=True, timeout=60)
                    check(f"  {verb} {row['code']} from {rel} is there", r.returncode == 0 and row["code"] in r.stdout,
                          r.stdout + r.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            rc = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            rc = None
        check("the server stops cleanly on SIGTERM", rc == 0, open(log_path).read()[-2000:])
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    if RESULTS["failed"] == 0:
        subprocess.run(["rm", "-rf", work])
    else:
        print(f"left for inspection: {work}")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
