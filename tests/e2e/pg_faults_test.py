#!/usr/bin/env python3
"""PostgreSQL faults during ingestion (issue: availability, point 4).

A primary PostgreSQL with a synchronous streaming-replication standby
(pg_basebackup), both started here; two pstrack-server replicas behind nginx
(the shipped deploy/nginx/pstrack.conf) on a multi-host URL with
target_session_attrs=read-write. Four centre clients write batches through
nginx, resending a batch on UNAVAILABLE, while the test

  1. restarts the primary (pg_ctl restart -m fast): calls meanwhile get
     UNAVAILABLE with a message naming the database, the replicas reconnect
     by themselves (same processes);
  2. kills the primary (SIGKILL to every process of it) and promotes the
     standby: the replicas go on with the standby through the same URL.

Afterwards every acknowledged event is stored on the new primary exactly
once, no call got a code other than OK or UNAVAILABLE, the replicas never
restarted, and the figures equal a recomputation from the events sent and a
rebuild from the stored events. Prints 'N passed, N failed'."""

import argparse
import calendar
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_kit  # noqa: E402
import scaleout_test  # noqa: E402

PGBIN = "/usr/lib/postgresql/15/bin"


def as_pg(cmd, **kw):
    """Runs a PostgreSQL tool as the postgres user when root (they refuse root)."""
    if os.getuid() == 0:
        cmd = ["su", "postgres", "-s", "/bin/bash", "-c", " ".join(cmd)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def pg_start(data, port, log, *options):
    opts = " ".join([f"-k {os.path.dirname(data)}", "-h 127.0.0.1", f"-p {port}", *options])
    as_pg([f"{PGBIN}/pg_ctl", "-D", data, "-l", log, "-o", f"'{opts}'", "-w", "start"])


def kill_cluster(data):
    """SIGKILL to the postmaster and every process it started: the machine died."""
    with open(os.path.join(data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    victims = [postmaster]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == postmaster:
                        victims.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server-bin", required=True)
    p.add_argument("--cli-bin", required=True)
    p.add_argument("--admin-bin", required=True)
    p.add_argument("--source-dir", required=True)
    args = p.parse_args()
    scaleout_test.ARGS = args
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    work = tempfile.mkdtemp(prefix="pstrack-pgfaults-")
    os.chmod(work, 0o755)
    pgdir = os.path.join(work, "pg")
    os.makedirs(pgdir)
    if os.getuid() == 0:
        shutil.chown(pgdir, "postgres")
    primary, standby = os.path.join(pgdir, "primary"), os.path.join(pgdir, "standby")
    p1, p2 = scaleout_test.free_port(), scaleout_test.free_port()
    procs = []
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"[ OK ] {name}", flush=True)
        else:
            failed += 1
            print(f"[FAIL] {name}: {detail}", flush=True)

    try:
        # The primary, synchronous to any standby (given on the command line,
        # so the standby's copy of the configuration does not wait for a
        # standby of its own once promoted), and its standby.
        as_pg([f"{PGBIN}/initdb", "-D", primary, "-A", "trust", "-U", "postgres"])
        pg_start(primary, p1, os.path.join(pgdir, "primary.log"), "-c synchronous_standby_names=*",
                 "-c wal_level=replica", "-c max_wal_senders=4")
        as_pg([f"{PGBIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres", "-D", standby, "-R",
               "-X", "stream", "-c", "fast"])
        pg_start(standby, p2, os.path.join(pgdir, "standby.log"))
        # Synchronous from here on: the primary's commits wait for the standby.
        deadline = time.time() + 30
        while True:
            state = as_pg(["psql", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres", "-Atc",
                           "'SELECT sync_state FROM pg_stat_replication'"]).stdout.strip()
            if state == "sync" or time.time() > deadline:
                break
            time.sleep(0.2)
        check("the standby replicates synchronously", state == "sync", state)
        as_pg(["psql", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres", "-qc", "'CREATE DATABASE pstrack'"])
        db_url = (f"postgresql://postgres@127.0.0.1:{p1},127.0.0.1:{p2}/pstrack"
                  "?target_session_attrs=read-write&connect_timeout=3")

        scaleout_test.gen_stubs(os.path.join(work, "gen"))
        from pstrack.v1 import filing_pb2, filing_pb2_grpc, metrics_pb2, metrics_pb2_grpc, common_pb2
        from pstrack.v1 import admin_pb2, admin_pb2_grpc

        admin_token = subprocess.run([args.admin_bin, "create-key", f"--db={db_url}", "--role=admin", "--name=ops"],
                                     check=True, capture_output=True, text=True).stdout.strip()
        as_admin = (("authorization", "Bearer " + admin_token),)
        ref = ",".join(os.path.join(args.source_dir, f) for f in
                       ("data/agencies/vn_provinces.csv", "data/sample/agencies_quang_ninh.csv"))
        replicas = []
        for i in range(2):
            port = scaleout_test.free_port()
            log = os.path.join(work, f"replica{i}.log")
            proc = subprocess.Popen(
                [args.server_bin, f"--listen=127.0.0.1:{port}", f"--db={db_url}",
                 f"--calendar_dir={args.source_dir}/data/calendar",
                 f"--methodology_dir={args.source_dir}/data/methodologies",
                 f"--agencies={ref}", f"--procedures={args.source_dir}/data/sample/procedures.csv"],
                stdout=open(log, "w"), stderr=subprocess.STDOUT)
            procs.append(proc)
            replicas.append(f"127.0.0.1:{port}")
            scaleout_test.wait_serving(replicas[-1], proc, log)
        servers = list(procs)
        lb_port = scaleout_test.free_port()
        os.makedirs(os.path.join(work, "nginx", "logs"))
        site = os.path.join(work, "nginx", "pstrack.conf")
        with open(site, "w") as f:
            f.write(deploy_kit.nginx_site(args.source_dir, replicas, f"127.0.0.1:{lb_port}"))
        conf = os.path.join(work, "nginx", "nginx.conf")
        with open(conf, "w") as f:
            f.write(deploy_kit.nginx_main_conf(os.path.join(work, "nginx"), site))
        nlog = os.path.join(work, "nginx", "logs", "stdout.log")
        nproc = subprocess.Popen([nginx, "-p", os.path.join(work, "nginx"), "-c", conf],
                                 stdout=open(nlog, "w"), stderr=subprocess.STDOUT)
        procs.append(nproc)
        lb = f"127.0.0.1:{lb_port}"
        scaleout_test.wait_serving(lb, nproc, nlog)

        with grpc.insecure_channel(replicas[0]) as ch:
            made = admin_pb2_grpc.AdminServiceStub(ch).CreateApiKey(admin_pb2.CreateApiKeyRequest(
                key=admin_pb2.ApiKey(name="Trung tâm PVHCC Quảng Ninh", role=admin_pb2.ROLE_CENTRE,
                                     scope_agency_code="P22", rate_limit_per_second=1000)), metadata=as_admin, timeout=10)
        as_centre = (("authorization", "Bearer " + made.token),)

        # 400 dossiers at wards of Quảng Ninh received on working days of
        # October 2025, resolved a day later (early) or 30 days later (late).
        wards = ["P22.HALONG", "P22.BAICHAY", "P22.CAMPHA", "P22.UONGBI"]
        days = [d for d in range(6, 32) if (d - 6) % 7 < 5]
        events, expected = [], {"received": 0, "online": 0, "early": 0, "late": 0}
        for n in range(400):
            day = days[n % len(days)]
            ward = wards[n % len(wards)]
            code = f"{ward}-2510{day:02d}-{n:04d}"
            online, late = n % 3 == 0, n % 10 == 0
            expected["received"] += 1
            expected["online"] += online
            expected["late" if late else "early"] += 1
            received = filing_pb2.FilingEvent(event_id=f"{code}/r", dossier_code=code, agency_code=ward,
                                              procedure_code="1.000689")
            received.occurred_at.FromJsonString(f"2025-10-{day:02d}T02:00:00Z")
            received.received.channel = filing_pb2.CHANNEL_ONLINE if online else filing_pb2.CHANNEL_IN_PERSON
            resolved = filing_pb2.FilingEvent(event_id=f"{code}/x", dossier_code=code, agency_code=ward)
            finish = calendar.timegm(time.strptime(f"2025-10-{day:02d}", "%Y-%m-%d")) + (30 if late else 1) * 86400
            resolved.occurred_at.FromSeconds(int(finish) + 3 * 3600)
            resolved.resolved.electronic_result = True
            events += [received, resolved]
        rng = random.Random(20261205)
        rng.shuffle(events)
        batches = [events[b:b + 10] for b in range(0, len(events), 10)]
        lock = threading.Lock()
        acknowledged, codes, errors, unavailable = set(), {}, [], []
        done = [0]

        def client(k):
            try:
                with grpc.insecure_channel(lb) as ch:
                    stub = filing_pb2_grpc.FilingServiceStub(ch)
                    for batch in batches[k::4]:
                        req = filing_pb2.RecordEventsRequest(events=batch)
                        give_up = time.time() + 90
                        while True:
                            try:
                                resp = stub.RecordEvents(req, timeout=10, metadata=as_centre)
                                code = "OK"
                            except grpc.RpcError as e:
                                code = e.code().name
                                with lock:
                                    codes[code] = codes.get(code, 0) + 1
                                    if e.code() == grpc.StatusCode.UNAVAILABLE:
                                        unavailable.append(e.details())
                                if e.code() != grpc.StatusCode.UNAVAILABLE or time.time() > give_up:
                                    raise
                                time.sleep(0.2)
                                continue
                            rejected = [r for r in resp.results if r.outcome == common_pb2.ItemResult.OUTCOME_REJECTED]
                            if any(r.code == grpc.StatusCode.UNAVAILABLE.value[0] for r in rejected):
                                time.sleep(0.2)  # a batch that lost a race: again, whole (idempotent)
                                continue
                            if rejected:
                                errors.append(f"client {k}: {rejected[0].key}: {rejected[0].message}")
                            with lock:
                                codes[code] = codes.get(code, 0) + 1
                                acknowledged.update(r.key for r in resp.results
                                                    if r.outcome != common_pb2.ItemResult.OUTCOME_REJECTED)
                                done[0] += 1
                            break
                        time.sleep(0.03)
            except Exception as e:  # noqa: BLE001
                errors.append(f"client {k}: {e!r}")

        def wait_done(n):
            deadline = time.time() + 120
            while done[0] < n and time.time() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        wait_done(len(batches) // 4)
        before_restart = done[0]
        print(f"restarting the primary after {before_restart} batches", flush=True)
        # (-l: the new postmaster must not hold this script's pipe open.)
        as_pg([f"{PGBIN}/pg_ctl", "-D", primary, "-l", os.path.join(pgdir, "primary.log"), "-m", "fast", "-w",
               "restart"])
        wait_done(before_restart + 10)
        check("writes go on after the primary restarted", done[0] >= before_restart + 10,
              f"{done[0]} batches acknowledged, {before_restart} before the restart")
        wait_done(len(batches) // 2)
        before_failover = done[0]
        print(f"killing the primary after {before_failover} batches", flush=True)
        kill_cluster(primary)
        time.sleep(1)  # calls meanwhile find no primary
        as_pg([f"{PGBIN}/pg_ctl", "-D", standby, "-w", "promote"])
        print(f"promoted the standby after {done[0]} batches", flush=True)
        for t in threads:
            t.join()
        check("every batch was acknowledged in the end, none refused", not errors and done[0] == len(batches),
              "; ".join(errors[:5]) or f"{done[0]} of {len(batches)}")
        check("writes went on after the failover", done[0] > before_failover, f"{before_failover} -> {done[0]}")
        check("calls during the outages got only UNAVAILABLE", set(codes) <= {"OK", "UNAVAILABLE"}, str(codes))
        check("the outages were seen (some calls got UNAVAILABLE)", codes.get("UNAVAILABLE", 0) > 0, str(codes))
        check("UNAVAILABLE says it is the database",
              all("database" in d or "upstream" in d.lower() or "connect" in d.lower() for d in unavailable),
              str(unavailable[:3]))
        check("the replicas never restarted", all(s.poll() is None for s in servers),
              str([s.poll() for s in servers]))

        new_primary = f"postgresql://postgres@127.0.0.1:{p2}/pstrack"
        stored = subprocess.run(["psql", new_primary, "-Atc", "SELECT event_id FROM filing_events UNION ALL "
                                 "SELECT event_id FROM event_log"], check=True, capture_output=True, text=True)
        stored_ids = stored.stdout.split()
        check("every acknowledged event is on the new primary, once",
              acknowledged <= set(stored_ids) and len(stored_ids) == len(set(stored_ids)),
              f"{len(acknowledged - set(stored_ids))} acknowledged missing; {len(stored_ids)} rows, "
              f"{len(set(stored_ids))} distinct")
        check("every event sent was acknowledged", len(acknowledged) == len(events),
              f"{len(acknowledged)} of {len(events)}")
        with grpc.insecure_channel(lb) as ch:
            metrics = metrics_pb2_grpc.MetricsServiceStub(ch)
            req = metrics_pb2.GetIndicatorsRequest(
                scope=metrics_pb2.Scope(agency_code="P22"), period=metrics_pb2.Period(label="2025"),
                indicator_ids=["received", "online_submission_rate", "on_time_rate", "late_rate"])
            deadline = time.time() + 30
            while True:
                answer = metrics.GetIndicators(req, timeout=30, metadata=as_admin)
                if answer.log.pending_events == 0 or time.time() > deadline:
                    break
                time.sleep(0.1)
            check("the projection catches up (log.pending_events reaches 0)", answer.log.pending_events == 0,
                  answer.log)
            values = {v.indicator_id: v for v in answer.values}
            got = (values["received"].numerator, values["online_submission_rate"].numerator,
                   values["on_time_rate"].numerator, values["late_rate"].numerator)
            want = (expected["received"], expected["online"], expected["early"], expected["late"])
            check("indicators equal the recomputation from the events sent", got == want, f"got {got}, want {want}")
            rebuilt = metrics.RebuildAggregates(metrics_pb2.RebuildAggregatesRequest(), timeout=120,
                                                metadata=as_admin)
            check("aggregates equal a rebuild from the stored events",
                  rebuilt.rows_differing == 0 and rebuilt.dossiers == 400, str(rebuilt))
        reconnects = sum(open(os.path.join(work, f"replica{i}.log")).read().count("reconnected to the database")
                         for i in range(2))
        check("the replicas reconnected by themselves", reconnects > 0, f"{reconnects} reconnections logged")
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        failed += 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if proc.args[0] != nginx else signal.SIGQUIT)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for data in (primary, standby):
            if os.path.exists(os.path.join(data, "postmaster.pid")):
                try:
                    as_pg([f"{PGBIN}/pg_ctl", "-D", data, "-m", "immediate", "stop"])
                except subprocess.CalledProcessError:
                    pass
        if failed:
            for name in ("replica0.log", "replica1.log", "pg/primary.log", "pg/standby.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    print(f"--- {name} (last lines)")
                    print("".join(open(path, errors="replace").readlines()[-25:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
