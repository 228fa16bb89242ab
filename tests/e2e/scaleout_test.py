#!/usr/bin/env python3
"""Scale-out test: PostgreSQL (started by tools/test.sh), two pstrack-server
replicas and nginx as gRPC load balancer (the shipped deploy/nginx/pstrack.conf),
all on loopback. Four concurrent
clients send overlapping event sets with duplicates through nginx; afterwards
every event is stored exactly once, both replicas served traffic, the
aggregates match a rebuild from the events, and the indicators equal a
recomputation from what was sent. Prints 'N passed, N failed'."""

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

from e2e_common import free_port, python_stubs  # noqa: E402

ARGS = None


def gen_stubs(out):
    python_stubs(ARGS.source_dir, out)


def wait_serving(address, proc, log, timeout=30):
    from health import health_pb2, health_pb2_grpc
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited early:\n" + open(log).read())
        try:
            with grpc.insecure_channel(address) as ch:
                if health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
        except grpc.RpcError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{address} did not become SERVING:\n" + open(log).read())


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--server-bin", required=True)
    p.add_argument("--cli-bin", required=True)
    p.add_argument("--admin-bin", required=True)
    p.add_argument("--source-dir", required=True)
    ARGS = p.parse_args()
    base = os.environ["PSTRACK_TEST_POSTGRES_URL"]  # a KeyError fails the run: never skip
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    work = tempfile.mkdtemp(prefix="pstrack-scaleout-")
    procs = []
    passed = failed = 0
    try:
        python_stubs(ARGS.source_dir, os.path.join(work, "gen"))
        from pstrack.v1 import filing_pb2, filing_pb2_grpc, metrics_pb2, metrics_pb2_grpc, common_pb2
        from pstrack.v1 import admin_pb2, admin_pb2_grpc
        db = "scaleout_" + os.path.basename(work).split("-")[-1].lower()
        subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {db}"], check=True, capture_output=True)
        db_url = base.rsplit("/", 1)[0] + "/" + db
        admin_token = subprocess.run([ARGS.admin_bin, "create-key", f"--db={db_url}", "--role=admin", "--name=ops"],
                                     check=True, capture_output=True, text=True).stdout.strip()
        as_admin = (("authorization", "Bearer " + admin_token),)
        ref = ",".join(os.path.join(ARGS.source_dir, f) for f in
                       ("data/agencies/vn_provinces.csv", "data/sample/agencies_quang_ninh.csv"))
        replicas = []
        for i in range(2):
            port = free_port()
            log = os.path.join(work, f"replica{i}.log")
            proc = subprocess.Popen(
                [ARGS.server_bin, f"--listen=127.0.0.1:{port}", f"--db={db_url}",
                 f"--calendar_dir={ARGS.source_dir}/data/calendar",
                 f"--methodology_dir={ARGS.source_dir}/data/methodologies",
                 f"--agencies={ref}", f"--procedures={ARGS.source_dir}/data/sample/procedures.csv"],
                stdout=open(log, "w"), stderr=subprocess.STDOUT)
            procs.append(proc)
            replicas.append(f"127.0.0.1:{port}")
            wait_serving(replicas[-1], proc, log)
        lb_port = free_port()
        os.makedirs(os.path.join(work, "nginx", "logs"))
        # The shipped deploy/nginx/pstrack.conf, pointed at the two replicas
        # and a free loopback port; everything else as shipped.
        site = os.path.join(work, "nginx", "pstrack.conf")
        with open(site, "w") as f:
            f.write(deploy_kit.nginx_site(ARGS.source_dir, replicas, f"127.0.0.1:{lb_port}"))
        conf = os.path.join(work, "nginx", "nginx.conf")
        with open(conf, "w") as f:
            f.write(deploy_kit.nginx_main_conf(os.path.join(work, "nginx"), site, "$upstream_addr $status"))
        nlog = os.path.join(work, "nginx", "logs", "stdout.log")
        nproc = subprocess.Popen([nginx, "-p", os.path.join(work, "nginx"), "-c", conf],
                                 stdout=open(nlog, "w"), stderr=subprocess.STDOUT)
        procs.append(nproc)
        lb = f"127.0.0.1:{lb_port}"
        wait_serving(lb, nproc, nlog)

        # The centres write with a key scoped to Quảng Ninh, made through one
        # replica and used through the balancer.
        with grpc.insecure_channel(replicas[0]) as ch:
            made = admin_pb2_grpc.AdminServiceStub(ch).CreateApiKey(admin_pb2.CreateApiKeyRequest(
                key=admin_pb2.ApiKey(name="Trung tâm PVHCC Quảng Ninh", role=admin_pb2.ROLE_CENTRE,
                                     scope_agency_code="P22", rate_limit_per_second=1000)), metadata=as_admin, timeout=10)
        as_centre = (("authorization", "Bearer " + made.token),)

        # The dossiers: 300 at wards of Quảng Ninh, procedure 1.000689 (3 working
        # days), received on working days of October 2025 at 09:00 (the wards
        # begin on 2025-07-01), resolved one day
        # later (early) or 30 days later (late); a third online.
        rng = random.Random(20251126)
        wards = ["P22.HALONG", "P22.BAICHAY", "P22.CAMPHA", "P22.UONGBI"]
        days = [d for d in range(6, 32) if (d - 6) % 7 < 5]  # Mon 6 October 2025 ...
        events, expected = [], {"received": 0, "online": 0, "early": 0, "late": 0}
        for n in range(300):
            day = days[n % len(days)]
            ward = wards[n % len(wards)]
            code = f"{ward}-2510{day:02d}-{n:04d}"
            online = n % 3 == 0
            late = n % 10 == 0
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
        errors = []

        def client(k):
            try:
                mine = [e for i, e in enumerate(events) if i % 4 == k or rng.random() < 0.4]
                mine += rng.sample(mine, len(mine) // 5)  # duplicates
                random.Random(k).shuffle(mine)
                with grpc.insecure_channel(lb) as ch:
                    stub = filing_pb2_grpc.FilingServiceStub(ch)
                    for b in range(0, len(mine), 20):
                        req = filing_pb2.RecordEventsRequest(events=mine[b:b + 20])
                        for attempt in range(5):
                            try:
                                resp = stub.RecordEvents(req, timeout=30, metadata=as_centre)
                                break
                            except grpc.RpcError as e:
                                if e.code() != grpc.StatusCode.UNAVAILABLE or attempt == 4:
                                    raise
                                time.sleep(0.2)
                        bad = [r for r in resp.results if r.outcome == common_pb2.ItemResult.OUTCOME_REJECTED]
                        # A batch that lost a race is retried whole (idempotent).
                        if any(r.code == grpc.StatusCode.UNAVAILABLE.value[0] for r in bad):
                            resp = stub.RecordEvents(req, timeout=30, metadata=as_centre)
                            bad = [r for r in resp.results if r.outcome == common_pb2.ItemResult.OUTCOME_REJECTED]
                        if bad:
                            errors.append(f"client {k}: {bad[0].key}: {bad[0].message}")
            except Exception as e:  # noqa: BLE001
                errors.append(f"client {k}: {e!r}")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        def check(name, ok, detail=""):
            nonlocal passed, failed
            if ok:
                passed += 1
                print(f"[ OK ] {name}")
            else:
                failed += 1
                print(f"[FAIL] {name}: {detail}")

        check("every client batch was accepted", not errors, "; ".join(errors[:5]))
        stored = subprocess.run(["psql", db_url, "-Atc", "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM "
                                 "(SELECT event_id FROM filing_events UNION ALL SELECT event_id FROM event_log) AS stored"],
                                check=True, capture_output=True, text=True).stdout.strip()
        check("every event stored exactly once", stored == f"{len(events)}|{len(events)}", stored)
        upstreams = {line.split()[0] for line in open(os.path.join(work, "nginx", "logs", "access.log")) if line.strip()}
        check("both replicas served traffic", len(upstreams) >= 2, str(upstreams))
        with grpc.insecure_channel(lb) as ch:
            metrics = metrics_pb2_grpc.MetricsServiceStub(ch)
            req = metrics_pb2.GetIndicatorsRequest(
                scope=metrics_pb2.Scope(agency_code="P22"), period=metrics_pb2.Period(label="2025"),
                indicator_ids=["received", "online_submission_rate", "on_time_rate", "late_rate"])
            # A read waits for the projection of what its own replica
            # acknowledged; events the other replica acknowledged are in it
            # once its log position says nothing is pending (docs/api.md).
            deadline = time.time() + 30
            while True:
                answer = metrics.GetIndicators(req, timeout=30, metadata=as_admin)
                if answer.log.pending_events == 0 or time.time() > deadline:
                    break
                time.sleep(0.1)
            check("the figures come to contain every acknowledged event (log.pending_events reaches 0)",
                  answer.log.pending_events == 0, answer.log)
            values = {v.indicator_id: v for v in answer.values}
            got = (values["received"].numerator, values["online_submission_rate"].numerator,
                   values["on_time_rate"].numerator, values["on_time_rate"].denominator, values["late_rate"].numerator)
            want = (expected["received"], expected["online"], expected["early"], expected["received"], expected["late"])
            check("indicators equal the recomputation from the events sent", got == want, f"got {got}, want {want}")
            rebuilt = metrics.RebuildAggregates(metrics_pb2.RebuildAggregatesRequest(), timeout=120, metadata=as_admin)
            check("aggregates equal a rebuild from the raw events", rebuilt.rows_differing == 0 and rebuilt.dossiers == 300,
                  str(rebuilt))
        # Revoked through replica 0: replica 1 refuses the key on its next call.
        probe = filing_pb2.GetDossierRequest(code=events[0].dossier_code, omit_events=True)
        with grpc.insecure_channel(replicas[1]) as ch:
            filing_pb2_grpc.FilingServiceStub(ch).GetDossier(probe, timeout=10, metadata=as_centre)
        with grpc.insecure_channel(replicas[0]) as ch:
            admin_pb2_grpc.AdminServiceStub(ch).RevokeApiKey(admin_pb2.RevokeApiKeyRequest(key_id=made.key.key_id),
                                                             metadata=as_admin, timeout=10)
        refused = None
        with grpc.insecure_channel(replicas[1]) as ch:
            try:
                filing_pb2_grpc.FilingServiceStub(ch).GetDossier(probe, timeout=10, metadata=as_centre)
            except grpc.RpcError as e:
                refused = e.code()
        check("a key revoked on one replica is refused by the other at once",
              refused == grpc.StatusCode.UNAUTHENTICATED, str(refused))
        audited = subprocess.run(["psql", db_url, "-Atc", "SELECT COUNT(*), SUM(applied) FROM audit_log "
                                  f"WHERE principal = '{made.key.key_id}' AND method LIKE '%/RecordEvents'"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        check("every batch of every replica is in the shared audit log with its counts",
              audited.split("|")[1] == str(len(events)) if "|" in audited else False, audited)
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
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
