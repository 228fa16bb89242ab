#!/usr/bin/env python3
"""End-to-end test of the shipped binaries: pstrack-server on a SQLite file in a
temporary directory (authentication on, the first admin key made by
pstrack-admin), driven by the pstrack CLI and by an independent Python gRPC
client (health, reflection, an error path, keys and scopes). Exits non-zero on
failure and prints 'N passed, N failed'."""

import argparse
import csv
import io
import json
import random
import os
import calendar
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import grpc

from e2e_common import check, free_port, python_stubs, summary

ARGS = None


class Server:
    def __init__(self, data_dir, extra_args=()):
        os.makedirs(data_dir, exist_ok=True)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = os.path.join(data_dir, f"server-{self.port}.log")
        self.log = open(self.log_path, "w")
        db = []
        if os.environ.get("PSTRACK_TEST_BACKEND") == "postgresql":
            base = os.environ["PSTRACK_TEST_POSTGRES_URL"]  # a KeyError fails the run: never skip
            name = "e2e_" + os.path.basename(os.path.dirname(data_dir)).replace("-", "_").lower()
            if not os.path.exists(os.path.join(data_dir, "pg-created")):
                subprocess.run(["psql", base, "-qc", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"],
                               check=True, capture_output=True)
                open(os.path.join(data_dir, "pg-created"), "w").close()
            db = [f"--db={base.rsplit('/', 1)[0]}/{name}"]
        self.db_url = db[0][len("--db="):] if db else f"sqlite:{data_dir}/pstrack.db"
        # The first admin key, made offline as an operator would (once).
        self.key_file = os.path.join(data_dir, "admin.key")
        if not os.path.exists(self.key_file):
            url = db[0][len("--db="):] if db else f"sqlite:{data_dir}/pstrack.db"
            subprocess.run([ARGS.admin_bin, "create-key", f"--db={url}", "--role=admin", "--name=e2e operator",
                            f"--out={self.key_file}"], check=True, capture_output=True)
        with open(self.key_file) as f:
            self.token = f.read().strip()
        self.proc = subprocess.Popen(
            [ARGS.server_bin, f"--listen={self.address}", f"--data_dir={data_dir}", *db,
             f"--calendar_dir={os.path.join(ARGS.source_dir, 'data/calendar')}",
             f"--methodology_dir={os.path.join(ARGS.source_dir, 'data/methodologies')}", *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_serving(self.address, self)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.log.close()
        return rc

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()


def wait_serving(address, server, timeout=20):
    from health import health_pb2, health_pb2_grpc
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError("server exited early:\n" + server.log_text())
        try:
            with grpc.insecure_channel(address) as ch:
                resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.RpcError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become SERVING:\n" + server.log_text())


def cli(server, *args, expect_rc=0, token=None):
    """Runs the CLI as the server's admin (or with `token`; "" for none)."""
    env = dict(os.environ)
    env.pop("PSTRACK_API_KEY", None)
    key = token if token is not None else getattr(server, "token", "")
    if key:
        env["PSTRACK_API_KEY"] = key
    proc = subprocess.run([ARGS.cli_bin, f"--server={server.address}", *args], capture_output=True, text=True,
                          timeout=60, env=env)
    if expect_rc is not None and proc.returncode != expect_rc:
        raise AssertionError(f"pstrack {' '.join(args)} exited {proc.returncode}, expected {expect_rc}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def expected_procedures_for(agency_code, agency_level):
    """Independent recomputation from the CSV of which procedures an agency carries out."""
    path = os.path.join(ARGS.source_dir, "data/sample/procedures.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = set()
    for r in rows:
        levels = [x.strip() for x in r["levels"].split(";") if x.strip()]
        agencies = [x.strip() for x in r["agency_codes"].split(";") if x.strip()]
        if agency_level in levels or agency_code in agencies:
            out.add(r["code"])
    return out, len(rows)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--cli-bin", required=True)
    parser.add_argument("--admin-bin", required=True)
    parser.add_argument("--source-dir", required=True)
    ARGS = parser.parse_args()

    work = tempfile.mkdtemp(prefix="pstrack-e2e-")
    try:
        python_stubs(ARGS.source_dir, os.path.join(work, "gen"), reflection=True)
        data_dir = os.path.join(work, "data")
        ref = [os.path.join(ARGS.source_dir, "data/agencies/vn_provinces.csv"),
               os.path.join(ARGS.source_dir, "data/sample/agencies_quang_ninh.csv")]
        server = Server(data_dir, [f"--agencies={','.join(ref)}"])

        def reflection_lists_whole_api():
            from reflection import reflection_pb2, reflection_pb2_grpc
            with grpc.insecure_channel(server.address) as ch:
                stub = reflection_pb2_grpc.ServerReflectionStub(ch)
                responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                      timeout=5)
                names = {s.name for r in responses for s in r.list_services_response.service}
            for want in ("pstrack.v1.AgencyService", "pstrack.v1.CatalogService", "pstrack.v1.FilingService",
                         "pstrack.v1.MetricsService", "pstrack.v1.ReportingService", "grpc.health.v1.Health"):
                assert want in names, f"{want} not in {names}"
        check("reflection lists the whole v1 API and health", reflection_lists_whole_api)

        def server_help_lists_its_flags():
            out = subprocess.run([ARGS.server_bin, "--help"], capture_output=True, text=True, timeout=30)
            text = out.stdout + out.stderr
            for flag in ("--listen", "--db", "--data_dir", "--read_connections"):
                assert flag in text, f"{flag} not in pstrack-server --help:\n{text[:2000]}"
        check("pstrack-server --help lists its flags", server_help_lists_its_flags)

        def procedure_import_then_reimport():
            csv_path = os.path.join(ARGS.source_dir, "data/sample/procedures.csv")
            _, n = expected_procedures_for("", "")
            out = cli(server, "procedure", "import", csv_path).stdout
            assert f"procedures: {n} applied, 0 unchanged, 0 rejected" in out, out
            out = cli(server, "procedure", "import", csv_path).stdout
            assert f"procedures: 0 applied, {n} unchanged, 0 rejected" in out, out
        check("procedure import is idempotent", procedure_import_then_reimport)

        def province_counts_both_trees():
            for date, want in (("2025-06-30", 63), ("2025-07-01", 34)):
                out = cli(server, "agency", "list", "--level=province", f"--as_of={date}", "--json").stdout
                got = len(json.loads(out).get("agencies", []))
                assert got == want, f"{date}: {got} provinces, expected {want}"
        check("63 provinces before 2025-07-01, 34 from then", province_counts_both_trees)

        def procedures_of_a_ward_match_recomputation():
            want, _ = expected_procedures_for("P22.HALONG", "commune")
            out = cli(server, "procedure", "list", "--agency=P22.HALONG", "--json").stdout
            got = {p["code"] for p in json.loads(out).get("procedures", [])}
            assert got == want, f"missing {want - got}, extra {got - want}"
        check("procedures carried out by a ward equal an independent recomputation",
              procedures_of_a_ward_match_recomputation)

        def agency_get_table():
            out = cli(server, "agency", "get", "P22").stdout
            assert "Tỉnh Quảng Ninh" in out and "VN/P22" in out, out
            out = cli(server, "agency", "resolve", "F30", "--as_of=2025-07-01").stdout
            assert "F30 -> P31" in out, out
        check("agency get and resolve print tables", agency_get_table)

        def bad_import_reports_lines():
            bad = os.path.join(work, "bad_agencies.csv")
            with open(bad, "w", encoding="utf-8") as f:
                f.write("code,name,level,parent_code,admin_code,valid_from,valid_until,successor_code\n")
                f.write("P22.NEW1,Phường Mới,commune,P22,,2025-07-01,,\n")        # line 2: good
                f.write("P22.NEW2,Phường Hỏng,commune,P99,,,,\n")                 # line 3: unknown parent
                f.write("P22.NEW3,Phường Lỗi,village,P22,,,,\n")                  # line 4: bad level
                f.write("P22.NEW4,Phường Sai Ngày,commune,P22,,2025-02-30,,\n")    # line 5: bad date
            proc = cli(server, "agency", "import", bad, expect_rc=1)
            out = proc.stdout
            assert "line 3: agency.parent_code: agency 'P99' does not exist" in out, out
            assert "line 4: level:" in out, out
            assert "line 5: valid_from:" in out, out
            assert "agencies: 1 applied, 0 unchanged, 3 rejected" in out, out
            cli(server, "agency", "get", "P22.NEW1")
            missing = cli(server, "agency", "get", "P22.NEW2", expect_rc=1)
            assert "NOT_FOUND" in missing.stderr, missing.stderr
        check("a bad import keeps good rows and reports each bad line", bad_import_reports_lines)

        def events_from_jsonl_and_csv():
            jsonl = os.path.join(work, "events.jsonl")
            d1 = "P22.HALONG-250707-0001"
            with open(jsonl, "w", encoding="utf-8") as f:
                # Out of order: the resolution comes before the receipt.
                f.write(json.dumps({"event_id": "j2", "dossier_code": d1, "agency_code": "P22.HALONG",
                                    "occurred_at": "2025-07-10T09:00:00+07:00", "resolved": {"electronic_result": True}}) + "\n")
                f.write(json.dumps({"event_id": "j1", "dossier_code": d1, "agency_code": "P22.HALONG",
                                    "procedure_code": "1.000689", "occurred_at": "2025-07-07T10:00:00+07:00",
                                    "received": {"channel": "CHANNEL_ONLINE",
                                                 "declared_appointment_date": {"year": 2025, "month": 7, "day": 8}}}) + "\n")
                f.write("this is not json\n")
                f.write(json.dumps({"event_id": "j3", "dossier_code": d1, "agency_code": "P22.HALONG",
                                    "occurred_at": "2025-07-06T09:00:00+07:00", "processing_started": {}}) + "\n")
            proc = cli(server, "event", "send", jsonl, expect_rc=1)
            out = proc.stdout
            assert "line 3: not a FilingEvent in JSON" in out, out
            # j3 (processing before the receipt) is kept; the replay sets it aside.
            assert "events: 3 accepted, 0 duplicate, 1 rejected" in out, out
            again = cli(server, "event", "send", jsonl, expect_rc=1).stdout
            assert "events: 0 accepted, 3 duplicate, 1 rejected" in again, again
            csv_path = os.path.join(work, "events.csv")
            d2 = "P22.HALONG-250707-0002"
            with open(csv_path, "w", encoding="utf-8") as f:
                f.write("event_id,dossier_code,agency_code,procedure_code,occurred_at,kind,channel,rating\n")
                f.write(f"c1,{d2},P22.HALONG,1.000689,2025-07-07 16:00,received,in_person,\n")
                f.write(f"c2,{d2},P22.HALONG,,2025-07-08 09:00,supplement_requested,,\n")
                f.write(f"c3,{d2},P22.HALONG,,2025-07-09 09:00,feedback,,satisfied\n")
                f.write(f"c4,{d2},P22.HALONG,,2025-07-09,feedback,,satisfied\n")
            out = cli(server, "event", "send", csv_path, expect_rc=1).stdout
            assert "line 5: occurred_at:" in out, out
            assert "events: 3 accepted, 0 duplicate, 1 rejected" in out, out
            # The dossier's timeline and outcome, computed independently here:
            # Procedure 1.000689 takes 3 working days (data/sample/procedures.csv):
            # 3 working days from Monday 7 July 2025 10:00 is Thursday 10 July;
            # resolved on 10 July is on time; the centre declared 8 July.
            out = cli(server, "dossier", "get", d1).stdout
            assert "2025-07-10 (computed)" in out, out
            assert "2025-07-08  ≠ computed" in out, out
            assert "on_time (rule), on_time (portal)" in out, out
            timeline = out[out.index("TIME "):]
            assert timeline.index(" received ") < timeline.index(" resolved "), out
            assert "[set aside: after_receipt]" in timeline and "j3: rule after_receipt:" in out, out
            d = json.loads(cli(server, "dossier", "get", d2, "--json").stdout)
            # Received after 15:00: the clock starts Tuesday 8 July, so 11 July.
            assert d["computed_appointment_date"] == {"year": 2025, "month": 7, "day": 11}, d
            assert d["status"] == "DOSSIER_STATUS_SUPPLEMENT_REQUESTED", d
            listed = json.loads(cli(server, "dossier", "list", "--agency=P22", "--json").stdout)
            assert {x["code"] for x in listed["dossiers"]} == {d1, d2}, listed
        check("events from JSON lines and CSV; dossier timeline and outcome", events_from_jsonl_and_csv)

        def every_binary_prints_its_version():
            # Before: "Debug build (NDEBUG not #defined)" and no version.
            tools = os.path.dirname(os.path.dirname(ARGS.cli_bin))
            binaries = {"pstrack-server": ARGS.server_bin, "pstrack": ARGS.cli_bin, "pstrack-admin": ARGS.admin_bin,
                        "pstrack-gen": os.path.join(tools, "gen", "pstrack-gen")}
            bench = os.path.join(tools, "bench", "pstrack-bench")
            if os.path.exists(bench):
                binaries["pstrack-bench"] = bench
            with open(os.path.join(ARGS.source_dir, "CMakeLists.txt")) as f:
                version = re.search(r"project\(pstrack VERSION ([0-9.]+)", f.read()).group(1)
            head = subprocess.run(["git", "-C", ARGS.source_dir, "rev-parse", "--short=12", "HEAD"],
                                  capture_output=True, text=True) if shutil.which("git") else None
            for name, path in binaries.items():
                out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
                text = (out.stdout + out.stderr).strip()
                assert out.returncode == 0, f"{name} --version exited {out.returncode}: {text}"
                assert text.startswith(f"{name} {version} (commit "), f"{name}: {text}"
                assert "NDEBUG" not in text, f"{name}: {text}"
                if head is not None and head.returncode == 0:
                    assert f"(commit {head.stdout.strip()}" in text, f"{name}: {text} (HEAD {head.stdout.strip()})"
        check("every binary prints its version and commit", every_binary_prints_its_version)

        def malformed_requests_are_invalid_argument():
            # Raw bytes, as a broken client would send them: before, INTERNAL
            # with an empty message and a libprotobuf ERROR line per call.
            with grpc.insecure_channel(server.address) as ch:
                raw = ch.unary_unary("/pstrack.v1.CatalogService/GetProcedure")
                for body in (b"\x0a\x02\xff\xfe", b"\xff\xff\xff\xff", b"\x0b"):
                    for _ in range(20):
                        try:
                            raw(body, timeout=5)
                            raise AssertionError(f"{body!r} accepted")
                        except grpc.RpcError as e:
                            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, (body, e.code(), e.details())
                            assert "pstrack.v1.GetProcedureRequest" in e.details(), e.details()
            time.sleep(0.2)
            utf8_lines = [l for l in server.log_text().splitlines() if "UTF-8" in l]
            assert 1 <= len(utf8_lines) <= 3, f"{len(utf8_lines)} log lines for 20 bad calls:\n" + "\n".join(utf8_lines[:5])
        check("a request that does not parse is INVALID_ARGUMENT naming its type; its log line is rate-limited",
              malformed_requests_are_invalid_argument)

        def stream_reports_an_unparseable_message_and_goes_on():
            # Before: [good, bad, good, good] answered OK with 1 applied and
            # the last two events silently dropped.
            from pstrack.v1 import filing_pb2
            from google.protobuf import timestamp_pb2
            def event(n):
                e = filing_pb2.FilingEvent(event_id=f"stream-{n}", dossier_code=f"P22.HALONG-260105-{9000 + n}",
                                           agency_code="P22.HALONG", procedure_code="1.001193")
                e.occurred_at.CopyFrom(timestamp_pb2.Timestamp(seconds=calendar.timegm((2026, 1, 5, 2, 0, 0))))
                e.received.channel = filing_pb2.CHANNEL_ONLINE
                return e.SerializeToString()
            # Invalid UTF-8 in a string field, random bytes, an invalid wire type (7).
            messages = [event(1), b"\x0a\x03\xff\xfe\xfd", event(2), bytes(random.Random(5).randrange(256) for _ in range(40)),
                        event(3), b"\x0f\x01\x02"]
            with grpc.insecure_channel(server.address) as ch:
                stream = ch.stream_unary("/pstrack.v1.FilingService/StreamEvents",
                                         response_deserializer=filing_pb2.StreamEventsResponse.FromString)
                out = stream(iter(messages), timeout=20, metadata=(("authorization", "Bearer " + server.token),))
            assert out.summary.applied == 3, out
            assert [r.index for r in out.rejected] == [1, 3, 5], out
            for r in out.rejected:
                assert r.code == 3 and f"message {r.index} of the stream" in r.message, out
        check("a stream reports a message that does not parse by position and records the rest",
              stream_reports_an_unparseable_message_and_goes_on)

        def independent_client_gets_field_errors():
            from pstrack.v1 import agency_pb2, agency_pb2_grpc
            with grpc.insecure_channel(server.address) as ch:
                stub = agency_pb2_grpc.AgencyServiceStub(ch)
                try:
                    stub.CreateAgency(agency_pb2.CreateAgencyRequest(
                        agency=agency_pb2.Agency(code="p 1", name="x", level=agency_pb2.AGENCY_LEVEL_PROVINCE,
                                                 parent_code="VN")), timeout=5,
                        metadata=(("authorization", "Bearer " + server.token),))
                    raise AssertionError("bad code accepted")
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
                    assert "agency.code" in e.details(), e.details()
        check("an independent Python client gets INVALID_ARGUMENT naming the field",
              independent_client_gets_field_errors)

        def indicators_score_and_csv_match_the_events_sent():
            # Recomputed from the files events_from_jsonl_and_csv sent: every
            # receipt in them was accepted (the lines it rejected are not
            # receipts), and all are at agencies of P22 in 2025.
            receipts = []  # (agency, channel, year)
            with open(os.path.join(work, "events.jsonl"), encoding="utf-8") as f:
                for line in f:
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    if "received" in e:
                        receipts.append((e["agency_code"], e["received"].get("channel", ""), e["occurred_at"][:4]))
            with open(os.path.join(work, "events.csv"), newline="", encoding="utf-8") as f:
                for r in csv.DictReader(f):
                    if r["kind"] == "received":
                        receipts.append((r["agency_code"], "CHANNEL_" + r["channel"].upper(), r["occurred_at"][:4]))
            in_scope = [r for r in receipts if (r[0] == "P22" or r[0].startswith("P22.")) and r[2] == "2025"]
            want_received = len(in_scope)
            want_online = sum(1 for r in in_scope if r[1] == "CHANNEL_ONLINE")
            assert (want_received, want_online) == (2, 1), in_scope  # what the earlier check sent

            got = json.loads(cli(server, "indicators", "--scope", "P22", "--period", "2025", "--json").stdout)
            values = {v["indicator_id"]: v for v in got["values"]}
            received = values["received"]
            assert received.get("available") and received.get("numerator", 0) == want_received, received
            rate = values["online_submission_rate"]
            assert rate.get("available"), rate
            assert (rate.get("numerator", 0), rate.get("denominator", 0)) == (want_online, want_received), rate
            assert abs(rate["value"] - want_online / want_received) < 1e-9, rate

            out = cli(server, "score", "--scope", "P22", "--period", "2025").stdout
            total = re.search(r"^total: ([0-9.]+) of 100 points$", out, re.M)
            assert total, out
            # No external input was submitted: those points are listed as
            # unavailable, never scored as 0.
            unavailable = re.search(r"^unavailable: ([0-9.]+) points .*: (.*)$", out, re.M)
            assert unavailable and float(unavailable.group(1)) > 0, out
            for indicator in ("1.1", "1.2", "1.3", "5.2", "5.3"):
                assert f"{indicator} (" in unavailable.group(2), out
            score = json.loads(cli(server, "score", "--scope", "P22", "--period", "2025", "--json").stdout)
            assert abs(score.get("unavailable_points", 0) - float(unavailable.group(1))) < 1e-9, score
            assert abs(score.get("total_points", 0) - float(total.group(1))) < 0.01, score

            out = cli(server, "indicators", "--scope", "P22", "--period", "2025", "--csv").stdout
            rows = list(csv.DictReader(io.StringIO(out)))
            by_id = {r["indicator_id"]: r for r in rows}
            assert set(by_id) == set(values), (set(by_id) ^ set(values))
            assert (by_id["online_submission_rate"]["numerator"], by_id["online_submission_rate"]["denominator"]) == \
                (str(want_online), str(want_received)), by_id["online_submission_rate"]
            assert by_id["received"]["value"] == str(want_received), by_id["received"]
            not_available = [r for r in rows if r["available"] == "false"]
            assert not_available, rows  # sync_completeness at least
            for r in not_available:
                assert r["value"] == "n/a" and r["note"], r

            proc = cli(server, "indicators", "--scope", "P22", "--period", "2025", "--ids", "no_such_indicator",
                       expect_rc=1)
            assert "indicator_ids" in proc.stderr and "no_such_indicator" in proc.stderr, proc.stderr
        check("indicators, score and CSV agree with the events sent; unknown indicator ids are refused",
              indicators_score_and_csv_match_the_events_sent)

        def output_formats_stdin_and_semicolons():
            import openpyxl
            # -o xlsx: a workbook whose numbers are numbers, rates percentages.
            want = {v["indicator_id"]: v for v in json.loads(
                cli(server, "indicators", "--scope", "P22", "--period", "2025", "-o", "json").stdout)["values"]}
            path = os.path.join(work, "indicators.xlsx")
            with open(path, "wb") as f:
                proc = subprocess.run([ARGS.cli_bin, f"--server={server.address}", "indicators", "--scope", "P22",
                                       "--period", "2025", "-o", "xlsx"], stdout=f, stderr=subprocess.PIPE,
                                      env=dict(os.environ, PSTRACK_API_KEY=server.token), timeout=60)
            assert proc.returncode == 0, proc.stderr
            sheet = openpyxl.load_workbook(path).active
            rows = list(sheet.iter_rows(values_only=True))
            header = list(rows[0])
            got = {r[header.index("indicator_id")]: (r, i + 2) for i, r in enumerate(rows[1:])}
            assert set(got) == set(want), set(got) ^ set(want)
            for iid, v in want.items():
                row, excel_row = got[iid]
                if not v.get("available"):
                    assert row[header.index("value")] == "n/a", row
                    continue
                assert abs(row[header.index("value")] - v.get("value", 0)) < 1e-12, (row, v)
                assert row[header.index("numerator")] == v.get("numerator", 0), (row, v)
                fmt = sheet.cell(row=excel_row, column=header.index("value") + 1).number_format
                assert (fmt == "0.0%") == (row[header.index("unit")] == "ratio"), (iid, fmt)
            # agency list and dossier list export (they took only --json before)
            listed = list(csv.DictReader(io.StringIO(
                cli(server, "agency", "list", "--root", "P22", "--depth", "1", "-o", "csv").stdout)))
            as_json = json.loads(cli(server, "agency", "list", "--root", "P22", "--depth", "1", "--json").stdout)
            assert [r["CODE"] for r in listed] == [a["code"] for a in as_json["agencies"]], listed
            dossiers = list(csv.DictReader(io.StringIO(cli(server, "dossier", "list", "--agency", "P22", "--csv").stdout)))
            assert dossiers and all(d["DOSSIER"].startswith("P22") for d in dossiers), dossiers
            proc = cli(server, "agency", "list", "-o", "yaml", expect_rc=2)
            assert "-o: 'yaml' is not a format" in proc.stderr, proc.stderr
            # "-" reads standard input; a ';'-separated CSV is read as such.
            event = {"event_id": "stdin-1", "dossier_code": "P22.HALONG-251104-0901", "agency_code": "P22.HALONG",
                     "procedure_code": "1.000689", "occurred_at": "2025-11-04T09:00:00+07:00",
                     "received": {"channel": "CHANNEL_ONLINE"}}
            env = dict(os.environ, PSTRACK_API_KEY=server.token)
            proc = subprocess.run([ARGS.cli_bin, f"--server={server.address}", "event", "send", "-"],
                                  input=json.dumps(event) + "\n", capture_output=True, text=True, env=env, timeout=60)
            assert proc.returncode == 0 and "1 accepted" in proc.stdout, proc.stdout + proc.stderr
            assert "100% (1/1 events" in proc.stderr, proc.stderr  # a plain progress line off a terminal
            semi = os.path.join(work, "agencies_semicolon.csv")
            with open(semi, "w", encoding="utf-8-sig", newline="") as f:
                f.write("code;name;level;parent_code;admin_code;valid_from;valid_until;successor_code\r\n"
                        "P22.SEMI;\"Phường Thử; Dấu chấm phẩy\";commune;P22;;2025-07-01;;\r\n")
            proc = cli(server, "agency", "import", semi)
            assert "separated by ';'" in proc.stderr, proc.stderr
            got_agency = json.loads(cli(server, "agency", "get", "P22.SEMI", "--json").stdout)
            assert got_agency["name"] == "Phường Thử; Dấu chấm phẩy", got_agency
            script = cli(server, "completion", "bash").stdout
            done = subprocess.run(["bash", "-c", script + "\nCOMP_WORDS=(pstrack agency l); COMP_CWORD=2; _pstrack; "
                                   "echo ${COMPREPLY[@]}"], capture_output=True, text=True)
            assert done.stdout.split() == ["list"], done.stdout + done.stderr
        check("-o xlsx/csv/json on list and table commands (XLSX read back), '-' reads stdin, ';' CSV is read, "
              "progress lines off a terminal, bash completion", output_formats_stdin_and_semicolons)

        def keys_roles_scopes_and_audit_through_the_cli():
            proc = cli(server, "agency", "list", expect_rc=1, token="")
            assert "UNAUTHENTICATED" in proc.stderr and "--api_key" in proc.stderr, proc.stderr
            proc = cli(server, "agency", "list", expect_rc=1, token="pst_0123456789abcdef.not-the-secret-at-all")
            assert "UNAUTHENTICATED" in proc.stderr, proc.stderr
            who = json.loads(cli(server, "whoami", "--json").stdout)
            assert who["role"] == "ROLE_ADMIN" and who["name"] == "e2e operator", who
            made = cli(server, "key", "create", "--name=Trung tâm PVHCC Quảng Ninh", "--role=centre",
                       "--scope=P22").stdout
            token = re.search(r"(pst_[0-9a-f]{16}\.\S+)", made).group(1)
            key_id = token[4:20]
            who = json.loads(cli(server, "whoami", "--json", token=token).stdout)
            assert who["role"] == "ROLE_CENTRE" and who["scope_agency_code"] == "P22", who
            # In scope: lands; another province: refused for that line only.
            path = os.path.join(work, "centre.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write("event_id,dossier_code,agency_code,procedure_code,occurred_at,kind,channel\n")
                f.write("k1,P22.HALONG-250903-0001,P22.HALONG,1.000689,2025-09-03 09:00,received,online\n")
                f.write("k2,P01-250303-0001,P01,1.000689,2025-03-03 09:00,received,online\n")
            out = cli(server, "event", "send", path, expect_rc=1, token=token).stdout
            assert "events: 1 accepted, 0 duplicate, 1 rejected" in out, out
            assert "line 3: k2:" in out and "outside the scope" in out, out
            proc = cli(server, "indicators", "--scope", "P22", "--period", "2025", expect_rc=1, token=token)
            assert "PERMISSION_DENIED" in proc.stderr and "centre" in proc.stderr, proc.stderr
            listed = cli(server, "key", "list").stdout
            assert key_id in listed and token not in listed, listed
            audit = json.loads(cli(server, "audit", "list", f"--principal={key_id}", "--json").stdout)
            sends = [r for r in audit["records"] if r["method"].endswith("RecordEvents")]
            assert sends and sends[0].get("applied") == 1 and sends[0].get("rejected") == 1, audit
            refused = [r for r in audit["records"] if r["method"].endswith("GetIndicators")]
            assert not refused, "reads are not audited"
            cli(server, "key", "revoke", key_id)
            proc = cli(server, "whoami", expect_rc=1, token=token)
            assert "UNAUTHENTICATED" in proc.stderr, proc.stderr
            proc = cli(server, "key", "revoke", key_id, expect_rc=1)
            assert "FAILED_PRECONDITION" in proc.stderr, proc.stderr
        check("keys: no key and wrong keys refused, a centre writes only its province, audit, revocation",
              keys_roles_scopes_and_audit_through_the_cli)

        def periodic_reports_through_the_cli():
            # Móng Cái 1 sends no events: its yearly report counts; a bad row
            # is refused with its line and field; the same id corrects.
            before = json.loads(cli(server, "indicators", "--scope", "P22", "--period", "2025", "--json").stdout)
            received_before = {v["indicator_id"]: v for v in before["values"]}["received"].get("numerator", 0)
            path = os.path.join(work, "reports.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write("report_id,agency_code,period,received,received_online,finished,finished_late,source\n")
                f.write("mc1-2025,P22.MONGCAI1,2025,50,20,40,4,Hệ thống báo cáo\n")
                f.write("mc1-bad,P22.MONGCAI1,2025-02,5,9,1,,Hệ thống báo cáo\n")
            proc = cli(server, "report", "submit", path, expect_rc=1)
            assert "line 3: reports[1].received_online" in proc.stdout, proc.stdout
            assert "1 applied, 0 unchanged, 1 rejected" in proc.stdout, proc.stdout
            got = json.loads(cli(server, "indicators", "--scope", "P22", "--period", "2025", "--json").stdout)
            values = {v["indicator_id"]: v for v in got["values"]}
            assert values["received"]["numerator"] == received_before + 50, values["received"]
            assert "reports" in values["received"]["sources"], values["received"]
            parts = got.get("parts", [])
            assert [(p["report_id"], p["role"]) for p in parts] == [("mc1-2025", "counted")], parts
            assert values["sync_completeness"].get("available"), values["sync_completeness"]
            assert abs(values["sync_completeness"]["denominator"] - (received_before + 50)) < 1e-9, values
            with open(path, "w", encoding="utf-8") as f:
                f.write("report_id,agency_code,period,received,received_online,finished,finished_late,source\n")
                f.write("mc1-2025,P22.MONGCAI1,2025,52,20,40,4,Hệ thống báo cáo\n")
            assert "1 applied" in cli(server, "report", "submit", path).stdout
            history = json.loads(cli(server, "report", "get", "mc1-2025", "--json").stdout)
            assert history["report"]["revision"] == 2 and history["report"]["received"] == "52", history
            assert history["history"][0]["received"] == "50", history
            out = cli(server, "report", "list", "--agency", "P22").stdout
            assert "mc1-2025" in out and "1 reports" in out, out
            rows = list(csv.DictReader(io.StringIO(
                cli(server, "reconcile", "--scope", "P22", "--period", "2025", "--csv").stdout)))
            missing = {r["part"]: int(r["missing"]) for r in rows if r["report_id"] == "mc1-2025"}
            assert missing == {"received": 52, "received_online": 20, "finished": 40, "finished_late": 4}, rows
            rows = list(csv.DictReader(io.StringIO(
                cli(server, "quality", "--scope", "P22", "--period", "2025", "--csv", "--sort", "code").stdout)))
            assert rows and [r["agency_code"] for r in rows] == sorted(r["agency_code"] for r in rows), rows
            assert sum(int(r["events_accepted"]) for r in rows) > 0, rows
            assert "silent agencies" in cli(server, "silent", "--scope", "P22").stdout
            proc = cli(server, "quality", "--scope", "P22", "--period", "2025", "--sort", "worst", expect_rc=1)
            assert "--sort" in proc.stderr, proc.stderr
        check("periodic reports: submit with line errors, indicators with parts, correction, reconcile, quality",
              periodic_reports_through_the_cli)

        def aggregate_check_finds_a_hand_edit_and_repair_fixes_it():
            out = cli(server, "aggregates", "check").stdout
            assert "the aggregates match the events" in out, out
            # A counter changed behind the server's back, with the database's
            # own client (sqlite3 or psql).
            sql = ("UPDATE aggregates SET received = received + 7 WHERE node_code = 'P22' AND basis = 1 "
                   "AND dim = 0 AND day = (SELECT MIN(day) FROM aggregates WHERE node_code = 'P22' AND basis = 1 "
                   "AND dim = 0 AND received > 0)")
            if server.db_url.startswith("sqlite:"):
                import sqlite3
                with sqlite3.connect(server.db_url[len("sqlite:"):]) as db:
                    assert db.execute(sql).rowcount == 1
            else:
                subprocess.run(["psql", server.db_url, "-qc", sql], check=True, capture_output=True)
            found = cli(server, "aggregates", "check", expect_rc=1).stdout
            assert "rows differing from the events: 1 (0 missing, 0 not expected, 1 with other counts)" in found, found
            assert re.search(r"^P22\s+1$", found, re.M), found
            assert re.search(r"^P22\s+receipt\s+total\s+\d{4}-\d\d-\d\d\s+received\s+(\d+)\s+(\d+)$", found, re.M), found
            events, stored = map(int, re.search(r"received\s+(\d+)\s+(\d+)$", found, re.M).groups())
            assert stored == events + 7, found
            repaired = cli(server, "aggregates", "repair").stdout
            assert "repaired: 1 rows set to what the events give" in repaired, repaired
            assert "the aggregates match the events" in cli(server, "aggregates", "check").stdout
            as_json = json.loads(cli(server, "--json", "aggregates", "check").stdout)
            assert int(as_json.get("rowsDiffering", 0)) == 0 and int(as_json["dossiers"]) > 0, as_json
        check("aggregates check names a hand-edited row (node, day, counter, both values); repair fixes it",
              aggregate_check_finds_a_hand_edit_and_repair_fixes_it)

        def sigterm_shuts_down_cleanly_and_data_persists():
            nonlocal server
            rc = server.stop()
            assert rc == 0, f"exit code {rc}"
            log = server.log_text()
            for line in ("received SIGTERM", "health NOT_SERVING", "stopped: database closed"):
                assert line in log, log
            assert not os.path.exists(os.path.join(data_dir, "pstrack.db-wal")) or \
                os.path.getsize(os.path.join(data_dir, "pstrack.db-wal")) == 0
            server = Server(data_dir)  # no reference files this time
            out = cli(server, "agency", "get", "P22.NEW1").stdout
            assert "Phường Mới" in out, out
        check("SIGTERM shuts down cleanly; data survives a restart", sigterm_shuts_down_cleanly_and_data_persists)

        def server_down_message():
            port = free_port()

            class Down:
                address = f"127.0.0.1:{port}"
            proc = cli(Down, "--timeout=5", "agency", "list", expect_rc=2)
            assert "cannot reach the pstrack server at 127.0.0.1:" in proc.stderr, proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        check("the CLI explains an unreachable server in one line", server_down_message)

        def usage_errors():
            proc = cli(server, "agency", "frobnicate", expect_rc=2)
            assert "unknown command" in proc.stderr, proc.stderr
            proc = cli(server, "agency", "list", "--as_of=2025-13-01", expect_rc=1)
            assert "--as_of" in proc.stderr, proc.stderr
        check("the CLI rejects bad commands and flags clearly", usage_errors)

        server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
