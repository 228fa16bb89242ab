#!/usr/bin/env python3
"""Soak: mixed load for --minutes through nginx to two pstrack-server replicas
on one PostgreSQL (issue: availability, point 5). tools/soak.sh runs it for
30 minutes; CI (ctest soak_postgresql_nginx) for 3.

Load, bounded in count and time:
  - 4 centre integrations (keys scoped to Quảng Ninh) write dossiers in
    bursts of RecordEvents batches (shuffled, out of order), resend a tenth
    of their batches (duplicates), resend on UNAVAILABLE and, after the
    advertised retry-after-ms, on RESOURCE_EXHAUSTED, and now and then send
    a batch as a StreamEvents stream;
  - 2 analysts read: indicators, dossiers, lists, rankings;
  - a watcher opens WatchIndicators streams, reads a few sets, leaves;
  - midway, replica 1 is stopped (SIGTERM) and started again.

Checks at the end: every acknowledged event is stored; no call got a code
outside the expected ones; replica 0's memory after warm-up stays within
10% (max RSS over the last tenth vs the max over the tenth after warm-up);
the indicators equal a recomputation from the events acknowledged, and the
aggregates a rebuild. Prints the figures and 'N passed, N failed'."""

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

WARDS = ["P22.HALONG", "P22.BAICHAY", "P22.CAMPHA", "P22.UONGBI"]
DAYS = [d for d in range(6, 32) if (d - 6) % 7 < 5]  # working days of October 2025 from Monday the 6th


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server-bin", required=True)
    p.add_argument("--cli-bin", required=True)
    p.add_argument("--admin-bin", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--minutes", type=float, default=3)
    p.add_argument("--seed", type=int, default=20261205)
    # The binaries are built with AddressSanitizer (the asan preset): calls
    # are several times slower and freed memory is held in quarantine, so
    # the waits are longer and memory growth is not a finding.
    p.add_argument("--sanitized", action="store_true")
    args = p.parse_args()
    scaleout_test.ARGS = args
    base = os.environ["PSTRACK_TEST_POSTGRES_URL"]  # a KeyError fails the run: never skip
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    work = tempfile.mkdtemp(prefix="pstrack-soak-")
    duration = args.minutes * 60
    procs, replicas, replica_procs = [], [], [None, None]
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"[ OK ] {name}" + (f": {detail}" if detail else ""), flush=True)
        else:
            failed += 1
            print(f"[FAIL] {name}: {detail}", flush=True)

    try:
        scaleout_test.gen_stubs(os.path.join(work, "gen"))
        from pstrack.v1 import filing_pb2, filing_pb2_grpc, metrics_pb2, metrics_pb2_grpc, common_pb2
        from pstrack.v1 import admin_pb2, admin_pb2_grpc
        db = "soak_" + os.path.basename(work).split("-")[-1].lower()
        subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {db}"], check=True, capture_output=True)
        db_url = base.rsplit("/", 1)[0] + "/" + db
        admin_token = subprocess.run([args.admin_bin, "create-key", f"--db={db_url}", "--role=admin", "--name=ops"],
                                     check=True, capture_output=True, text=True).stdout.strip()
        as_admin = (("authorization", "Bearer " + admin_token),)
        ref = ",".join(os.path.join(args.source_dir, f) for f in
                       ("data/agencies/vn_provinces.csv", "data/sample/agencies_quang_ninh.csv"))
        ports = [scaleout_test.free_port(), scaleout_test.free_port()]

        def start_replica(i):
            log = os.path.join(work, f"replica{i}.log")
            proc = subprocess.Popen(
                [args.server_bin, f"--listen=127.0.0.1:{ports[i]}", f"--db={db_url}",
                 f"--calendar_dir={args.source_dir}/data/calendar",
                 f"--methodology_dir={args.source_dir}/data/methodologies",
                 f"--agencies={ref}", f"--procedures={args.source_dir}/data/sample/procedures.csv"],
                stdout=open(log, "a"), stderr=subprocess.STDOUT)
            replica_procs[i] = proc
            procs.append(proc)
            scaleout_test.wait_serving(f"127.0.0.1:{ports[i]}", proc, log)

        for i in range(2):
            start_replica(i)
            replicas.append(f"127.0.0.1:{ports[i]}")
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

        def make_key(name, role, scope="", rate=0):
            with grpc.insecure_channel(replicas[0]) as ch:
                made = admin_pb2_grpc.AdminServiceStub(ch).CreateApiKey(admin_pb2.CreateApiKeyRequest(
                    key=admin_pb2.ApiKey(name=name, role=role, scope_agency_code=scope, rate_limit_per_second=rate)),
                    metadata=as_admin, timeout=10)
            return (("authorization", "Bearer " + made.token),)

        # Low enough that the bursts meet it now and then: RESOURCE_EXHAUSTED
        # with retry-after-ms is part of the load.
        centre_keys = [make_key(f"Trung tâm PVHCC Quảng Ninh {k}", admin_pb2.ROLE_CENTRE, "P22", 40) for k in range(4)]
        analyst = make_key("Phân tích", admin_pb2.ROLE_ANALYST)

        lock = threading.Lock()
        stop = threading.Event()
        acknowledged = {}  # event id -> (ward, online, late) of its dossier, for receipts
        acked_ids = set()
        codes = {}
        unexpected = []
        counts = {"batches": 0, "streams": 0, "reads": 0, "watch_sets": 0, "watches": 0, "events_sent": 0}

        def count_code(code, where, detail=""):
            with lock:
                codes[code] = codes.get(code, 0) + 1
                if code not in ("OK", "UNAVAILABLE", "RESOURCE_EXHAUSTED", "CANCELLED"):
                    unexpected.append(f"{where}: {code} {detail}")

        def dossier(n, rng):
            day, ward = DAYS[n % len(DAYS)], WARDS[n % len(WARDS)]
            code = f"{ward}-2510{day:02d}-{n:06d}"
            online, late = rng.random() < 0.4, rng.random() < 0.1
            received = filing_pb2.FilingEvent(event_id=f"{code}/r", dossier_code=code, agency_code=ward,
                                              procedure_code="1.000689")
            received.occurred_at.FromJsonString(f"2025-10-{day:02d}T02:00:00Z")
            received.received.channel = filing_pb2.CHANNEL_ONLINE if online else filing_pb2.CHANNEL_IN_PERSON
            resolved = filing_pb2.FilingEvent(event_id=f"{code}/x", dossier_code=code, agency_code=ward)
            finish = calendar.timegm(time.strptime(f"2025-10-{day:02d}", "%Y-%m-%d")) + (30 if late else 1) * 86400
            resolved.occurred_at.FromSeconds(int(finish) + 3 * 3600)
            resolved.resolved.electronic_result = True
            return [received, resolved], (ward, online, late)

        def send(stub, batch, key, use_stream, where):
            """Sends until acknowledged (or the run is over); returns the results."""
            give_up = time.time() + 120
            while True:
                try:
                    if use_stream:
                        resp = stub.StreamEvents(iter(batch), timeout=30, metadata=key)
                        count_code("OK", where)
                        rejected = list(resp.rejected)
                        return [e.event_id for e in batch], rejected
                    resp = stub.RecordEvents(filing_pb2.RecordEventsRequest(events=batch), timeout=30, metadata=key)
                    count_code("OK", where)
                    rejected = [r for r in resp.results if r.outcome == common_pb2.ItemResult.OUTCOME_REJECTED]
                    if any(r.code == grpc.StatusCode.UNAVAILABLE.value[0] for r in rejected):
                        time.sleep(0.1)  # a batch that lost a race: again, whole
                        continue
                    return [r.key for r in resp.results if r.outcome != common_pb2.ItemResult.OUTCOME_REJECTED], rejected
                except grpc.RpcError as e:
                    count_code(e.code().name, where, e.details())
                    if time.time() > give_up or e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                                                 grpc.StatusCode.RESOURCE_EXHAUSTED):
                        raise
                    wait = 0.2
                    for k, v in (e.trailing_metadata() or ()):
                        if k == "retry-after-ms":
                            wait = int(v) / 1000
                    time.sleep(wait)

        def centre(k):
            rng = random.Random(args.seed + k)
            key = centre_keys[k]
            sent_batches = []
            n = k
            try:
                with grpc.insecure_channel(lb) as ch:
                    stub = filing_pb2_grpc.FilingServiceStub(ch)
                    while not stop.is_set():
                        # A burst: 3-12 batches of 5-40 dossiers, events shuffled.
                        for _ in range(rng.randint(3, 12)):
                            if stop.is_set():
                                break
                            events, info = [], {}
                            for _ in range(rng.randint(5, 40)):
                                evs, inf = dossier(n, rng)
                                n += 4
                                events += evs
                                info[evs[0].event_id] = inf
                            rng.shuffle(events)
                            if sent_batches and rng.random() < 0.1:
                                events += rng.choice(sent_batches)[:5]  # duplicates of an earlier batch
                            use_stream = rng.random() < 0.1
                            ids, rejected = send(stub, events, key, use_stream, "centre")
                            if rejected:
                                unexpected.append(f"centre {k}: rejected {rejected[0]}")
                            with lock:
                                counts["streams" if use_stream else "batches"] += 1
                                counts["events_sent"] += len(events)
                                acked_ids.update(ids)
                                for i in ids:
                                    if i in info:
                                        acknowledged[i] = info[i]
                            sent_batches.append(events)
                            if len(sent_batches) > 20:
                                sent_batches.pop(0)
                        stop.wait(rng.uniform(0.2, 1.5))
            except Exception as e:  # noqa: BLE001
                unexpected.append(f"centre {k}: {e!r}")

        def reader(k):
            rng = random.Random(args.seed + 100 + k)
            try:
                with grpc.insecure_channel(lb) as ch:
                    metrics = metrics_pb2_grpc.MetricsServiceStub(ch)
                    filing = filing_pb2_grpc.FilingServiceStub(ch)
                    while not stop.is_set():
                        what = rng.randrange(4)
                        try:
                            if what == 0:
                                metrics.GetIndicators(metrics_pb2.GetIndicatorsRequest(
                                    scope=metrics_pb2.Scope(agency_code=rng.choice(["P22"] + WARDS)),
                                    period=metrics_pb2.Period(label=rng.choice(["2025", "2025-10", "2025-Q4"]))),
                                    timeout=30, metadata=analyst)
                            elif what == 1:
                                with lock:
                                    some = rng.choice(list(acknowledged)) if acknowledged else None
                                if some:
                                    filing.GetDossier(filing_pb2.GetDossierRequest(code=some.split("/")[0]),
                                                      timeout=30, metadata=analyst)
                            elif what == 2:
                                filing.ListDossiers(filing_pb2.ListDossiersRequest(agency_code=rng.choice(WARDS),
                                                                                   page_size=50),
                                                    timeout=30, metadata=analyst)
                            else:
                                metrics.RankAgencies(metrics_pb2.RankAgenciesRequest(
                                    parent=metrics_pb2.Scope(agency_code="P22"),
                                    period=metrics_pb2.Period(label="2025"), indicator_id="on_time_rate"),
                                    timeout=30, metadata=analyst)
                            count_code("OK", "reader")
                            with lock:
                                counts["reads"] += 1
                        except grpc.RpcError as e:
                            count_code(e.code().name, "reader", e.details())
                            time.sleep(0.2)
                        stop.wait(rng.uniform(0.01, 0.1))
            except Exception as e:  # noqa: BLE001
                unexpected.append(f"reader {k}: {e!r}")

        open_watch = [None]  # the watcher's open call, cancelled when the load stops

        def watcher():
            rng = random.Random(args.seed + 200)
            try:
                with grpc.insecure_channel(lb) as ch:
                    metrics = metrics_pb2_grpc.MetricsServiceStub(ch)
                    while not stop.is_set():
                        call = metrics.WatchIndicators(metrics_pb2.WatchIndicatorsRequest(
                            scope=metrics_pb2.Scope(agency_code=rng.choice(["P22"] + WARDS)),
                            period=metrics_pb2.Period(label="2025"), indicator_ids=["received", "on_time_rate"]),
                            timeout=180 if args.sanitized else 60, metadata=analyst)
                        with lock:
                            open_watch[0] = call
                        if stop.is_set():
                            call.cancel()
                        try:
                            for i, _ in enumerate(call):
                                with lock:
                                    counts["watch_sets"] += 1
                                if i >= rng.randint(0, 3) or stop.is_set():
                                    break
                            call.cancel()
                            count_code("OK", "watcher")
                            with lock:
                                counts["watches"] += 1
                        except grpc.RpcError as e:
                            if stop.is_set() and e.code() == grpc.StatusCode.CANCELLED:
                                break  # the load stopped: no more changes will come to end this watch
                            count_code(e.code().name, "watcher", e.details())
                            time.sleep(0.2)
            except Exception as e:  # noqa: BLE001
                unexpected.append(f"watcher: {e!r}")

        memory = []  # (seconds since start, replica 0's RSS in KiB)
        threads = [threading.Thread(target=centre, args=(k,)) for k in range(4)]
        threads += [threading.Thread(target=reader, args=(k,)) for k in range(2)]
        threads += [threading.Thread(target=watcher)]
        start = time.time()
        for t in threads:
            t.start()
        restarted = False
        while time.time() - start < duration:
            memory.append((time.time() - start, rss_kib(replica_procs[0].pid)))
            if not restarted and time.time() - start >= duration / 2:
                restarted = True
                print(f"restarting replica 1 at {time.time() - start:.0f} s", flush=True)
                replica_procs[1].send_signal(signal.SIGTERM)
                # The grace for calls is 10 s; then the projection's round
                # in progress ends (under ASan, with a backlog, that can
                # take tens of seconds).
                stopping = time.time()
                try:
                    replica_procs[1].wait(timeout=120 if args.sanitized else 30)
                except subprocess.TimeoutExpired:
                    stop.set()  # the load threads end; the check below fails the run
                    unexpected.append(f"replica 1 did not exit within {time.time() - stopping:.0f} s of SIGTERM")
                    replica_procs[1].kill()
                    replica_procs[1].wait()
                print(f"replica 1 stopped in {time.time() - stopping:.1f} s", flush=True)
                time.sleep(2)
                start_replica(1)
            time.sleep(min(5, duration / 60))
        stop.set()
        with lock:
            if open_watch[0] is not None:
                open_watch[0].cancel()  # writers have stopped: the watch would only wait for its deadline
        for t in threads:
            t.join(timeout=180)
        elapsed = time.time() - start
        print(f"{elapsed:.0f} s: {counts}; codes {codes}", flush=True)

        check("the load ran (batches, streams, reads, watches)",
              counts["batches"] > 0 and counts["streams"] > 0 and counts["reads"] > 0 and counts["watches"] > 0,
              str(counts))
        check("no unexpected error code or rejection", not unexpected, "; ".join(unexpected[:5]))
        check("a replica was restarted midway", restarted)

        stored = subprocess.run(["psql", db_url, "-Atc", "SELECT event_id FROM filing_events UNION ALL "
                                 "SELECT event_id FROM event_log"], check=True, capture_output=True, text=True)
        stored_ids = stored.stdout.split()
        check("every acknowledged event is stored, once",
              acked_ids <= set(stored_ids) and len(stored_ids) == len(set(stored_ids)),
              f"{len(acked_ids - set(stored_ids))} of {len(acked_ids)} missing; {len(stored_ids)} rows")

        step = max(1, len(memory) // 20)
        print("replica 0 RSS (s: MiB): " + ", ".join(f"{t:.0f}: {m / 1024:.0f}" for t, m in memory[::step]),
              flush=True)
        warm = [m for t, m in memory if duration / 3 <= t < duration / 3 + duration / 10]
        last = [m for t, m in memory if t >= duration * 0.9]
        if args.sanitized:
            print("[ -- ] memory growth is not judged under AddressSanitizer (its quarantine keeps freed memory); "
                  "the release build's run judges it", flush=True)
        elif warm and last:
            growth = max(last) / max(warm) - 1
            check("replica 0's memory after warm-up stays within 10%", growth <= 0.10,
                  f"{max(warm) / 1024:.0f} MiB after warm-up, {max(last) / 1024:.0f} MiB at the end "
                  f"({100 * growth:+.1f}%)")
        else:
            check("memory was sampled", False, str(memory[:5]))

        expected = {"received": 0, "online": 0, "early": 0, "late": 0}
        for ward, online, late in acknowledged.values():
            expected["received"] += 1
            expected["online"] += online
            expected["late" if late else "early"] += 1
        with grpc.insecure_channel(lb) as ch:
            metrics = metrics_pb2_grpc.MetricsServiceStub(ch)
            req = metrics_pb2.GetIndicatorsRequest(
                scope=metrics_pb2.Scope(agency_code="P22"), period=metrics_pb2.Period(label="2025"),
                indicator_ids=["received", "online_submission_rate", "on_time_rate", "late_rate"])
            deadline = time.time() + (300 if args.sanitized else 60)
            while True:
                answer = metrics.GetIndicators(req, timeout=30, metadata=as_admin)
                if answer.log.pending_events == 0 or time.time() > deadline:
                    break
                time.sleep(0.2)
            values = {v.indicator_id: v for v in answer.values}
            got = (values["received"].numerator, values["online_submission_rate"].numerator,
                   values["on_time_rate"].numerator, values["late_rate"].numerator)
            want = (expected["received"], expected["online"], expected["early"], expected["late"])
            check("indicators equal the recomputation from the acknowledged events", got == want,
                  f"got {got}, want {want}")
            rebuilt = metrics.RebuildAggregates(metrics_pb2.RebuildAggregatesRequest(), timeout=300,
                                                metadata=as_admin)
            check("aggregates equal a rebuild from the stored events", rebuilt.rows_differing == 0,
                  f"{rebuilt.dossiers} dossiers, {rebuilt.rows_compared} rows compared, "
                  f"{rebuilt.rows_differing} differing")
        print(f"figures: {elapsed / 60:.1f} min, {len(acked_ids)} events acknowledged "
              f"({counts['events_sent']} sent with duplicates), {counts['batches']} batches, "
              f"{counts['streams']} streams, {counts['reads']} reads, {counts['watches']} watches "
              f"({counts['watch_sets']} sets), codes {codes}", flush=True)
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
        if failed:
            for name in ("replica0.log", "replica1.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    print(f"--- {name} (last lines)")
                    print("".join(open(path, errors="replace").readlines()[-20:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
