#!/usr/bin/env python3
"""The HTTP/JSON API from other stacks (issue 24): pstrack-server with
--http_listen on a SQLite file (authentication on), called with Python
`requests`, curl and a PHP client (tests/e2e/php/pstrack_client.php), each
result compared with the same call through the gRPC API (an independent
client: Python gRPC stubs). Also: the documented errors and their HTTP
statuses, NDJSON uploads, Server-Sent Events, health, the OpenAPI document
against docs/openapi.json, request ids, the audit's caller address, and TLS.
Prints 'N passed, N failed'; exits non-zero on failure."""

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import requests
from google.protobuf import json_format

from e2e_common import HttpServer, check, python_stubs, summary

ARGS = None
WARD, OTHER_WARD, PROVINCE, OTHER_PROVINCE = "P22.HALONG", "P22.BAICHAY", "P22", "P01"


def Server(work, name, extra=()):
    """pstrack-server with gRPC and HTTP on free loopback ports."""
    src = ARGS.source_dir
    return HttpServer(work, name, server_bin=ARGS.server_bin, admin_bin=ARGS.admin_bin, source_dir=src,
                      agencies=f"{src}/data/agencies/vn_provinces.csv,{src}/data/sample/agencies_quang_ninh.csv",
                      procedures=f"{src}/data/sample/procedures.csv", extra=extra, key_name="http e2e")


def wait_ready(url, server, verify=True, timeout=30):
    server.wait_ready(url, verify=verify, timeout=timeout)


def same(http_json, grpc_message):
    """The HTTP JSON, parsed as the gRPC response's type, equals it."""
    parsed = type(grpc_message)()
    json_format.Parse(json.dumps(http_json), parsed)
    assert parsed == grpc_message, f"HTTP:\n{parsed}\ngRPC:\n{grpc_message}"


def status_error(resp, http_status, code, *words):
    assert resp.status_code == http_status, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code, body
    for w in words:
        assert w in body["message"], (w, body["message"])
    return body


def metric(text, name, **labels):
    """A sample's value from a Prometheus exposition; 0 when absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == name + (f"{{{want}}}" if want else ""):
            return float(value)
    return 0.0


def event(code, eid, kind, day=6, **fields):
    e = {"eventId": eid, "dossierCode": code, "agencyCode": code.split("-")[0],
         "occurredAt": f"2025-10-{day:02d}T0{2 + len(eid) % 5}:00:00Z"}
    if kind == "received":
        e["procedureCode"] = "1.001193"
    e[kind] = fields
    return e


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--admin-bin", required=True)
    parser.add_argument("--source-dir", required=True)
    ARGS = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pstrack-http-")
    servers = []
    try:
        python_stubs(ARGS.source_dir, os.path.join(work, "stubs"))
        from pstrack.v1 import (admin_pb2, admin_pb2_grpc, agency_pb2, agency_pb2_grpc, catalog_pb2,
                                catalog_pb2_grpc, filing_pb2, filing_pb2_grpc, metrics_pb2, metrics_pb2_grpc)

        server = Server(work, "main", ["--max_message_mb=1", "--log_format=json"])
        servers.append(server)
        base = f"http://127.0.0.1:{server.http_port}"
        wait_ready(base, server)
        admin = {"Authorization": f"Bearer {server.token}"}
        md = [("authorization", f"Bearer {server.token}")]
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        agencies = agency_pb2_grpc.AgencyServiceStub(channel)
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        filing = filing_pb2_grpc.FilingServiceStub(channel)
        metrics = metrics_pb2_grpc.MetricsServiceStub(channel)
        admin_stub = admin_pb2_grpc.AdminServiceStub(channel)
        session = requests.Session()

        def make_key(role, scope, rate=0.0):
            resp = session.post(f"{base}/v1/apiKeys", headers=admin, json={
                "key": {"name": f"{role} {scope}", "role": role, "scopeAgencyCode": scope,
                        "rateLimitPerSecond": rate}})
            assert resp.status_code == 200, resp.text
            return resp.json()["token"]
        centre = make_key("ROLE_CENTRE", WARD)
        analyst = make_key("ROLE_ANALYST", PROVINCE)

        def health():
            r = session.get(f"{base}/healthz")
            assert r.status_code == 200 and r.json() == {"status": "SERVING"}, r.text
            r = session.get(f"{base}/readyz")
            assert r.status_code == 200 and r.json() == {"status": "SERVING"}, r.text
        check("/healthz and /readyz answer SERVING without a key", health)

        def openapi():
            r = session.get(f"{base}/openapi.json")
            assert r.status_code == 200, r.status_code
            with open(os.path.join(ARGS.source_dir, "docs/openapi.json"), "rb") as f:
                committed = f.read()
            assert r.content == committed, "docs/openapi.json differs from what the server serves: " \
                                           "run tools/update_openapi.sh"
            doc = r.json()
            ops = {(m.upper(), p): op["operationId"] for p, item in doc["paths"].items() for m, op in item.items()}
            assert ops[("POST", "/v1/events:batch")] == "FilingService_RecordEvents", ops
            assert ops[("GET", "/v1/agencies/{scope.agency_code}/indicators:watch")] == \
                "MetricsService_WatchIndicators"
            # Every RPC of every service has a route (Debian's Python protobuf
            # cannot load reporting.proto, with its proto3 'optional': count
            # the rpc lines of the files).
            proto_dir = os.path.join(ARGS.source_dir, "proto/pstrack/v1")
            n = sum(len(re.findall(r"^\s*rpc \w+\(", open(os.path.join(proto_dir, f)).read(), re.M))
                    for f in os.listdir(proto_dir))
            assert len(ops) == n, (len(ops), n)
        check("/openapi.json is docs/openapi.json and routes every RPC", openapi)

        def reads_equal_grpc():
            pairs = [
                (f"/v1/agencies/{PROVINCE}", agencies.GetAgency(agency_pb2.GetAgencyRequest(code=PROVINCE), metadata=md)),
                (f"/v1/agencies?rootCode={PROVINCE}&maxDepth=1&pageSize=5",
                 agencies.ListAgencies(agency_pb2.ListAgenciesRequest(root_code=PROVINCE, max_depth=1, page_size=5),
                                       metadata=md)),
                # the protos' own names are accepted too, and enums by name
                (f"/v1/agencies?root_code={PROVINCE}&level=AGENCY_LEVEL_COMMUNE&page_size=3",
                 agencies.ListAgencies(agency_pb2.ListAgenciesRequest(root_code=PROVINCE, page_size=3,
                                                                      level=agency_pb2.AGENCY_LEVEL_COMMUNE),
                                       metadata=md)),
                ("/v1/procedures/1.001193",
                 catalog.GetProcedure(catalog_pb2.GetProcedureRequest(code="1.001193"), metadata=md)),
                ("/v1/procedures?pageSize=4", catalog.ListProcedures(catalog_pb2.ListProceduresRequest(page_size=4),
                                                                     metadata=md)),
                ("/v1/whoami", admin_stub.WhoAmI(admin_pb2.WhoAmIRequest(), metadata=md)),
            ]
            for path, want in pairs:
                r = session.get(base + path, headers=admin)
                assert r.status_code == 200, (path, r.text)
                same(r.json(), want)
        check("reads over HTTP equal the gRPC API's (lowerCamel and snake_case names)", reads_equal_grpc)

        # Events through HTTP, by a centre key: a batch, one event, an upload.
        centre_h = {"Authorization": f"Bearer {centre}"}
        codes = [f"{WARD}-251006-{i:06d}" for i in range(1, 31)]

        def batch_and_single():
            events = [event(c, f"h-{c}-r", "received", channel="CHANNEL_ONLINE" if i % 3 else "CHANNEL_IN_PERSON")
                      for i, c in enumerate(codes[:20])]
            events += [event(c, f"h-{c}-s", "supplementRequested", day=7, reason="Thiếu bản sao giấy khai sinh")
                       for c in codes[:5]]
            events.append(event(f"{OTHER_WARD}-251006-000001", "h-out", "received", channel="CHANNEL_ONLINE"))
            r = session.post(f"{base}/v1/events:batch", headers=centre_h, json={"events": events})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["summary"] == {"applied": 25, "unchanged": 0, "rejected": 1}, body["summary"]
            rejected = [x for x in body["results"] if x["outcome"] == "OUTCOME_REJECTED"]
            assert rejected[0]["key"] == "h-out" and rejected[0]["code"] == 7, rejected
            # The same batch again: every event unchanged (idempotent).
            r = session.post(f"{base}/v1/events:batch", headers=centre_h, json={"events": events[:-1]})
            assert r.json()["summary"] == {"applied": 0, "unchanged": 25, "rejected": 0}, r.text
            r = session.post(f"{base}/v1/events", headers=centre_h,
                             json=event(codes[20], f"h-{codes[20]}-r", "received", channel="CHANNEL_ONLINE"))
            assert r.status_code == 200, r.text
            for c in (codes[0], codes[20]):
                want = filing.GetDossier(filing_pb2.GetDossierRequest(code=c), metadata=md)
                got = session.get(f"{base}/v1/dossiers/{c}", headers=centre_h,
                                  params={"asOf": json_format.MessageToDict(want)["asOf"]})
                assert got.status_code == 200, got.text
                same(got.json(), want)
            assert "Thiếu bản sao giấy khai sinh" in session.get(f"{base}/v1/dossiers/{codes[0]}",
                                                                 headers=centre_h).text
        check("a batch and an event over HTTP: per-item outcomes, idempotent, dossiers equal gRPC's", batch_and_single)

        def ndjson_upload():
            lines = [json.dumps(event(c, f"u-{c}-r", "received", channel="CHANNEL_ONLINE")) for c in codes[21:]]
            lines.insert(3, "")  # blank lines are skipped
            lines.append(json.dumps(event(f"{OTHER_WARD}-251006-000009", "u-out", "received", channel="CHANNEL_ONLINE")))
            r = session.post(f"{base}/v1/events:stream", headers={**centre_h, "Content-Type": "application/x-ndjson"},
                             data="\n".join(lines).encode())
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["summary"] == {"applied": 9, "unchanged": 0, "rejected": 1}, body
            # A generator body: chunked transfer encoding, sent as it is made.
            def gen():
                for c in codes[21:]:
                    yield (json.dumps(event(c, f"u-{c}-r", "received", channel="CHANNEL_ONLINE")) + "\n").encode()
            r = session.post(f"{base}/v1/events:stream", headers=centre_h, data=gen())
            assert r.status_code == 200 and r.json()["summary"]["unchanged"] == 9, r.text
            # A line that is not JSON: 400 naming the line; the events before it are stored.
            bad = [json.dumps(event(f"{WARD}-251008-000001", "u-bad-1", "received", channel="CHANNEL_ONLINE")),
                   '{"eventId": 12']
            r = session.post(f"{base}/v1/events:stream", headers=centre_h, data="\n".join(bad).encode())
            status_error(r, 400, 3, "line 2", "send the file again")
        check("an NDJSON upload streams events (also chunked); a bad line is named", ndjson_upload)

        def indicators_equal_grpc():
            analyst_h = {"Authorization": f"Bearer {analyst}"}
            amd = [("authorization", f"Bearer {analyst}")]
            q = "period.label=2025&indicatorIds=received&indicatorIds=online_submission_rate&asOf=2026-01-01T00:00:00Z"
            want = metrics.GetIndicators(metrics_pb2.GetIndicatorsRequest(
                scope=metrics_pb2.Scope(agency_code=PROVINCE), period=metrics_pb2.Period(label="2025"),
                indicator_ids=["received", "online_submission_rate"],
                as_of=json_format.Parse('"2026-01-01T00:00:00Z"', metrics_pb2.GetIndicatorsRequest().as_of)),
                metadata=amd)
            r = session.get(f"{base}/v1/agencies/{PROVINCE}/indicators?{q}", headers=analyst_h)
            assert r.status_code == 200, r.text
            same(r.json(), want)
            received = {v["indicatorId"]: v for v in r.json()["values"]}["received"]
            assert received["numerator"] == 30, received  # 20 + 1 + 9 received through HTTP
            want = metrics.RankAgencies(metrics_pb2.RankAgenciesRequest(
                parent=metrics_pb2.Scope(agency_code=PROVINCE), period=metrics_pb2.Period(label="2025"),
                indicator_id="received"), metadata=amd)
            r = session.get(f"{base}/v1/agencies/{PROVINCE}/rankings?period.label=2025&indicatorId=received",
                            headers=analyst_h)
            assert r.status_code == 200, r.text
            same(r.json(), want)
        check("indicators and rankings over HTTP equal the gRPC API's", indicators_equal_grpc)

        def errors():
            status_error(session.get(f"{base}/v1/agencies/{PROVINCE}"), 401, 16, "no credentials")
            r = session.get(f"{base}/v1/agencies/{PROVINCE}")
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
            status_error(session.get(f"{base}/v1/agencies/{PROVINCE}", headers={"Authorization": "Bearer pst_0.x"}),
                         401, 16)
            analyst_h = {"Authorization": f"Bearer {analyst}"}
            status_error(session.get(f"{base}/v1/agencies/{OTHER_PROVINCE}/indicators?period.label=2025",
                                     headers=analyst_h), 403, 7, OTHER_PROVINCE)
            status_error(session.post(f"{base}/v1/apiKeys", headers=analyst_h, json={}), 403, 7)
            status_error(session.get(f"{base}/v1/agencies/NOPE", headers=admin), 404, 5, "NOPE")
            status_error(session.post(f"{base}/v1/events:batch", headers=admin, data=b'{"events": [{"eventId": 7'),
                         400, 3, "body")
            status_error(session.post(f"{base}/v1/events:batch", headers=admin, json={"events": [{"colour": 1}]}),
                         400, 3, "colour")
            status_error(session.get(f"{base}/v1/agencies?level=LEVEL_NONSENSE", headers=admin), 400, 3,
                         "level", "AGENCY_LEVEL_PROVINCE")
            status_error(session.get(f"{base}/v1/agencies?maxDepth=deep", headers=admin), 400, 3, "maxDepth")
            status_error(session.get(f"{base}/v1/agencies/{PROVINCE}/indicators?period.label=2025-13",
                                     headers=admin), 400, 3, "period")
            status_error(session.get(f"{base}/v1/nothing", headers=admin), 404, 5, "/openapi.json")
            r = session.delete(f"{base}/v1/agencies/{PROVINCE}", headers=admin)
            status_error(r, 405, 3)
            assert set(r.headers["Allow"].split(", ")) == {"GET", "PATCH"}, r.headers
            # ALREADY_EXISTS: an event id reused with other content.
            e = event(codes[0], f"h-{codes[0]}-r", "received", channel="CHANNEL_IN_PERSON", day=9)
            status_error(session.post(f"{base}/v1/events", headers=centre_h, json=e), 409, 6)
            # FAILED_PRECONDITION: an update against a stale revision.
            r = session.patch(f"{base}/v1/agencies/{WARD}", headers=admin,
                              json={"agency": {"name": "x"}, "updateMask": "name", "expectedRevision": "999"})
            status_error(r, 412, 9)
            # Larger than the message limit (1 MiB here): 413, RESOURCE_EXHAUSTED, nothing stored.
            big = {"events": [event(f"{WARD}-251010-{i:06d}", f"big-{i}", "withdrawn", reason="Lý do " * 40)
                              for i in range(6000)]}
            status_error(session.post(f"{base}/v1/events:batch", headers=centre_h, json=big), 413, 8, "split")
            try:
                filing.GetDossier(filing_pb2.GetDossierRequest(code=f"{WARD}-251010-000001"), metadata=md)
                raise AssertionError("a dossier of the refused body was stored")
            except grpc.RpcError as err:
                assert err.code() == grpc.StatusCode.NOT_FOUND, err
        check("documented errors: 401, 403, 404, 400 naming the field, 405, 409, 412, 413", errors)

        def rate_limited():
            key = make_key("ROLE_ANALYST", PROVINCE, rate=1.0)
            h = {"Authorization": f"Bearer {key}"}
            seen = []
            for _ in range(8):
                r = session.get(f"{base}/v1/agencies/{PROVINCE}", headers=h)
                seen.append(r.status_code)
                if r.status_code == 429:
                    status_error(r, 429, 8, "retry after")
                    assert int(r.headers["Retry-After"]) >= 1, r.headers
                    break
            assert 429 in seen, seen
        check("a rate-limited key gets 429 with Retry-After", rate_limited)

        def prometheus_metrics():
            def scrape():
                r = session.get(f"{base}/metrics")
                assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.headers
                return r.text
            text = scrape()
            lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
            assert lint.returncode == 0, lint.stdout + lint.stderr
            for family in ("pstrack_rpc_requests_total", "pstrack_rpc_duration_seconds", "pstrack_events_total",
                           "pstrack_batch_items", "pstrack_write_queue_depth", "pstrack_write_group_size",
                           "pstrack_projection_pending_events", "pstrack_database_bytes", "pstrack_streams_open",
                           "pstrack_rate_limited_total", "pstrack_build_info", "pstrack_http_connections_open",
                           "pstrack_open_sockets", "process_resident_memory_bytes"):
                assert f"# TYPE {family} " in text, family
            get_agency = dict(method="pstrack.v1.AgencyService/GetAgency", code="OK")
            before = {"get": metric(text, "pstrack_rpc_requests_total", **get_agency),
                      "nf": metric(text, "pstrack_rpc_requests_total", method="pstrack.v1.AgencyService/GetAgency",
                                   code="NOT_FOUND"),
                      "applied": metric(text, "pstrack_events_total", outcome="applied"),
                      "dup": metric(text, "pstrack_events_total", outcome="duplicate"),
                      "refused": metric(text, "pstrack_events_total", outcome="refused"),
                      "limited": metric(text, "pstrack_rate_limited_total"),
                      "404": metric(text, "pstrack_http_responses_total", status="404")}
            for _ in range(5):
                assert session.get(f"{base}/v1/agencies/{PROVINCE}", headers=admin).status_code == 200
            assert session.get(f"{base}/v1/agencies/NOPE2", headers=admin).status_code == 404
            assert session.get(f"{base}/v1/nowhere", headers=admin).status_code == 404
            events = [event(f"{WARD}-251020-{i:06d}", f"m-{i}", "received", channel="CHANNEL_ONLINE")
                      for i in range(1, 8)]
            events.append(event(f"{OTHER_WARD}-251020-000001", "m-out", "received", channel="CHANNEL_ONLINE"))
            assert session.post(f"{base}/v1/events:batch", headers=centre_h, json={"events": events}).status_code == 200
            assert session.post(f"{base}/v1/events:batch", headers=centre_h,
                                json={"events": events[:3]}).status_code == 200
            key = make_key("ROLE_ANALYST", PROVINCE, rate=0.5)
            codes = [session.get(f"{base}/v1/agencies/{PROVINCE}", headers={"Authorization": f"Bearer {key}"})
                     .status_code for _ in range(4)]
            limited = codes.count(429)
            assert limited >= 1, codes
            after = scrape()
            assert metric(after, "pstrack_rpc_requests_total", **get_agency) - before["get"] == 5 + codes.count(200)
            assert metric(after, "pstrack_rpc_requests_total", method="pstrack.v1.AgencyService/GetAgency",
                          code="NOT_FOUND") - before["nf"] == 1
            assert metric(after, "pstrack_events_total", outcome="applied") - before["applied"] == 7
            assert metric(after, "pstrack_events_total", outcome="duplicate") - before["dup"] == 3
            assert metric(after, "pstrack_events_total", outcome="refused") - before["refused"] == 1
            assert metric(after, "pstrack_rate_limited_total") - before["limited"] == limited
            # 404s: NOPE2 and the unknown path (scrapes are 200s)
            assert metric(after, "pstrack_http_responses_total", status="404") - before["404"] == 2
            assert metric(after, "pstrack_database_bytes", file="database") > 0
            info = [line for line in after.splitlines() if line.startswith("pstrack_build_info{")]
            assert len(info) == 1 and info[0].endswith(" 1") and 'backend="sqlite"' in info[0], info
        check("/metrics: promtool accepts it; requests, events, rate limits and HTTP statuses count what was done",
              prometheus_metrics)

        def request_id_and_audit():
            r = session.get(f"{base}/v1/agencies/{PROVINCE}", headers={**admin, "x-request-id": "req-4711"})
            assert r.headers.get("x-request-id") == "req-4711", r.headers
            r = session.get(f"{base}/v1/auditRecords?pageSize=200", headers=admin)
            assert r.status_code == 200, r.text
            peers = {rec.get("peer", "") for rec in r.json().get("records", [])}
            assert any(p.startswith("http:ipv4:127.0.0.1:") for p in peers), peers
        check("x-request-id comes back; the audit names the HTTP client's address", request_id_and_audit)

        def json_logs_with_request_ids():
            key_id = session.get(f"{base}/v1/whoami", headers=admin).json()["principal"]
            # HTTP: the caller's id, one made when it has none or an unusable one.
            given = session.get(f"{base}/v1/agencies/{PROVINCE}", headers={**admin, "x-request-id": "http-ok-1"})
            made = session.get(f"{base}/v1/agencies/99999", headers=admin)
            assert made.status_code == 404, made.text
            bad = session.get(f"{base}/v1/agencies/{PROVINCE}", headers={**admin, "x-request-id": "a b\"c"})
            ids = {"http-ok-1": given, made.headers["x-request-id"]: made, bad.headers["x-request-id"]: bad}
            assert given.headers["x-request-id"] == "http-ok-1", given.headers
            for rid in list(ids)[1:]:
                assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
            assert len(ids) == 3, ids
            # gRPC: the id comes back in the initial metadata.
            _, call = agencies.GetAgency.with_call(agency_pb2.GetAgencyRequest(code=PROVINCE),
                                                   metadata=md + [("x-request-id", "grpc-ok-1")])
            assert dict(call.initial_metadata()).get("x-request-id") == "grpc-ok-1", call.initial_metadata()
            _, call = agencies.GetAgency.with_call(agency_pb2.GetAgencyRequest(code=PROVINCE), metadata=md)
            grpc_made = dict(call.initial_metadata()).get("x-request-id", "")
            assert re.fullmatch(r"[0-9a-f]{32}", grpc_made), call.initial_metadata()
            try:
                agencies.GetAgency(agency_pb2.GetAgencyRequest(code=PROVINCE), metadata=[("x-request-id", "grpc-noauth")])
                raise AssertionError("a call without a key was answered")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.UNAUTHENTICATED, e
            # Every line the server wrote is one JSON object; a call's line
            # names its method, code, duration, key and request id.
            deadline = time.time() + 10
            while True:
                lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
                by_id = {}
                for rec in lines:
                    assert {"time", "level", "message"} <= rec.keys(), rec
                    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["time"]), rec
                    if "code" in rec:
                        by_id.setdefault(rec.get("request_id"), []).append(rec)
                if all(k in by_id for k in [*ids, "grpc-ok-1", grpc_made, "grpc-noauth"]) or time.time() > deadline:
                    break
                time.sleep(0.2)
            method = "pstrack.v1.AgencyService/GetAgency"
            for rid, code in [("http-ok-1", "OK"), (list(ids)[1], "NOT_FOUND"), (list(ids)[2], "OK"),
                              ("grpc-ok-1", "OK"), (grpc_made, "OK")]:
                (rec,) = by_id.get(rid, [None])
                assert rec and rec["method"] == method and rec["code"] == code, (rid, rec)
                assert rec["key_id"] == key_id and rec["level"] == "info", rec
                assert isinstance(rec["duration_ms"], float) and 0 <= rec["duration_ms"] < 10000, rec
            assert "99999" in by_id[list(ids)[1]][0]["message"], by_id[list(ids)[1]]
            assert by_id["http-ok-1"][0]["peer"].startswith("http:ipv4:127.0.0.1:"), by_id["http-ok-1"]
            (noauth,) = by_id["grpc-noauth"]
            assert noauth["code"] == "UNAUTHENTICATED" and "key_id" not in noauth, noauth
        check("--log_format=json: one object per line; each call's line has method, code, duration, key and "
              "request id (given, or made and returned, over HTTP and gRPC)", json_logs_with_request_ids)

        def server_sent_events():
            analyst_h = {"Authorization": f"Bearer {analyst}"}
            url = f"{base}/v1/agencies/{PROVINCE}/indicators:watch?period.label=2025&indicatorIds=received"
            with requests.get(url, headers=analyst_h, stream=True, timeout=30) as r:
                assert r.status_code == 200, r.text
                assert r.headers["content-type"].startswith("text/event-stream"), r.headers
                lines = r.iter_lines(decode_unicode=True)

                deadline = time.time() + 30

                def next_set():
                    # (":" comments every 15 s keep the stream alive: the
                    # deadline is checked on every line.)
                    for line in lines:
                        if line.startswith("data: "):
                            return json.loads(line[6:])
                        assert time.time() < deadline, "no set in time"
                    raise AssertionError("the stream ended")
                first = next_set()
                while first["log"]["pendingEvents"] != "0":  # figures that await earlier writes
                    first = next_set()
                before = first["values"][0]["numerator"]
                extra = [filing_pb2.FilingEvent(event_id=f"sse-{i}", dossier_code=f"{WARD}-251014-{i:06d}",
                                                agency_code=WARD, procedure_code="1.001193",
                                                received=filing_pb2.FilingEvent.Received(
                                                    channel=filing_pb2.CHANNEL_ONLINE)) for i in range(1, 4)]
                for e in extra:
                    e.occurred_at.FromJsonString("2025-10-14T02:00:00Z")
                filing.RecordEvents(filing_pb2.RecordEventsRequest(events=extra), metadata=md)
                while True:
                    s = next_set()
                    if s["log"]["pendingEvents"] == "0" and s["values"][0]["numerator"] != before:
                        break
                assert s["values"][0]["numerator"] == before + 3, (before, s)
            # Refused before any figures: an ordinary HTTP error, not a stream.
            r = session.get(f"{base}/v1/agencies/{OTHER_PROVINCE}/indicators:watch?period.label=2025",
                            headers=analyst_h)
            status_error(r, 403, 7)
        check("WatchIndicators as Server-Sent Events: current figures, then the change", server_sent_events)

        def curl_equals():
            analyst_auth = f"Authorization: Bearer {analyst}"
            out = subprocess.run(["curl", "-sS", "--fail-with-body", "-H", analyst_auth,
                                  f"{base}/v1/agencies/{PROVINCE}/indicators?period.label=2025&indicatorIds=received"
                                  "&asOf=2026-01-01T00:00:00Z"], capture_output=True, text=True, check=True).stdout
            r = session.get(f"{base}/v1/agencies/{PROVINCE}/indicators?period.label=2025&indicatorIds=received"
                            "&asOf=2026-01-01T00:00:00Z", headers={"Authorization": f"Bearer {analyst}"})
            assert json.loads(out) == r.json(), (out, r.text)
            body = json.dumps({"events": [event(f"{WARD}-251015-000001", "curl-1", "received",
                                                channel="CHANNEL_IN_PERSON")]})
            out = subprocess.run(["curl", "-sS", "--fail-with-body", "-X", "POST", "-H", f"Authorization: Bearer {centre}",
                                  "-H", "Content-Type: application/json", "--data-binary", "@-",
                                  f"{base}/v1/events:batch"], input=body, capture_output=True, text=True,
                                 check=True).stdout
            assert json.loads(out)["summary"]["applied"] == 1, out
            out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                  f"{base}/v1/agencies/{PROVINCE}"], capture_output=True, text=True).stdout
            assert out == "401", out
        check("curl: the same answers, its writes land, 401 without a key", curl_equals)

        def php_client():
            rows = [["event_id", "dossier_code", "agency_code", "procedure_code", "occurred_at", "kind", "detail"]]
            php_codes = [f"{WARD}-251016-{i:06d}" for i in range(1, 6)]
            for i, c in enumerate(php_codes):
                rows.append([f"php-{c}-r", c, WARD, "1.001193", "2025-10-16T02:00:00Z", "received",
                             "CHANNEL_ONLINE" if i % 2 else "CHANNEL_POSTAL"])
            rows.append([f"php-{php_codes[0]}-s", php_codes[0], WARD, "", "2025-10-16T03:00:00Z",
                         "supplement_requested", "Bổ sung giấy xác nhận tình trạng hôn nhân"])
            rows.append([f"php-{php_codes[1]}-w", php_codes[1], WARD, "", "2025-10-16T04:00:00Z", "withdrawn",
                         "Công dân rút hồ sơ để điều chỉnh thông tin"])
            path = os.path.join(work, "events.csv")
            with open(path, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(rows)
            proc = subprocess.run(["php", os.path.join(ARGS.source_dir, "tests/e2e/php/pstrack_client.php"), base,
                                   centre, analyst, path, php_codes[0], PROVINCE, OTHER_PROVINCE],
                                  capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stderr
            got = json.loads(proc.stdout)
            assert got["batch"]["status"] == 200, got["batch"]
            assert got["batch"]["body"]["summary"] == {"applied": 7, "unchanged": 0, "rejected": 0}, got["batch"]
            want = filing.GetDossier(filing_pb2.GetDossierRequest(code=php_codes[0]), metadata=md)
            d = got["dossier"]["body"]
            assert got["dossier"]["status"] == 200, got["dossier"]
            d.pop("asOf"), d.pop("timeliness", None), d.pop("portalTimeliness", None)
            w = json_format.MessageToDict(want, including_default_value_fields=True)
            w.pop("asOf"), w.pop("timeliness", None), w.pop("portalTimeliness", None)
            assert d == w, (d, w)
            assert "Bổ sung giấy xác nhận tình trạng hôn nhân" in json.dumps(d, ensure_ascii=False)
            withdrawn = filing.GetDossier(filing_pb2.GetDossierRequest(code=php_codes[1]), metadata=md)
            assert withdrawn.status == filing_pb2.DOSSIER_STATUS_WITHDRAWN, withdrawn.status
            amd = [("authorization", f"Bearer {analyst}")]
            req = metrics_pb2.GetIndicatorsRequest(scope=metrics_pb2.Scope(agency_code=PROVINCE),
                                                   period=metrics_pb2.Period(label="2025"),
                                                   indicator_ids=["received", "online_submission_rate"])
            req.as_of.FromJsonString("2026-01-01T00:00:00Z")
            same(got["indicators"]["body"], metrics.GetIndicators(req, metadata=amd))
            assert got["indicators"]["status"] == 200
            assert got["bad_request"]["status"] == 400 and got["bad_request"]["body"]["code"] == 3, got["bad_request"]
            assert got["no_key"]["status"] == 401 and got["no_key"]["body"]["code"] == 16, got["no_key"]
            assert got["no_key"]["www_authenticate"].startswith("Bearer"), got["no_key"]
            assert got["out_of_scope"]["status"] == 403 and got["out_of_scope"]["body"]["code"] == 7, got
        check("a PHP client (php-curl): CSV with Vietnamese text posted, dossier and indicators equal gRPC's, "
              "errors as documented", php_client)

        def concurrent_keep_alive():
            # Many requests on a few kept-alive connections, from threads.
            errors = []

            def worker():
                s = requests.Session()
                for _ in range(50):
                    r = s.get(f"{base}/v1/agencies/{PROVINCE}", headers=admin)
                    if r.status_code != 200:
                        errors.append(r.status_code)
            threads = [threading.Thread(target=worker) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
        check("400 requests on 8 kept-alive connections at once all answered", concurrent_keep_alive)

        def sigterm_with_open_watch():
            analyst_h = {"Authorization": f"Bearer {analyst}"}
            url = f"{base}/v1/agencies/{PROVINCE}/indicators:watch?period.label=2025&indicatorIds=received"
            r = requests.get(url, headers=analyst_h, stream=True, timeout=30)
            lines = r.iter_lines(decode_unicode=True)
            next(line for line in lines if line.startswith("data: "))
            start = time.time()
            rc = server.stop()
            assert rc == 0, (rc, server.log()[-2000:])
            assert time.time() - start < 15, time.time() - start
            rest = list(lines)
            assert "event: error" in rest, rest
            err = json.loads(rest[rest.index("event: error") + 1][6:])
            assert err["code"] == 14, err  # UNAVAILABLE: reconnect
        check("SIGTERM with an open watch: the stream ends with UNAVAILABLE, the server exits 0", sigterm_with_open_watch)

        # TLS: the HTTP port uses the gRPC port's certificate.
        def tls():
            tls_dir = os.path.join(work, "tls-files")
            os.makedirs(tls_dir)
            cert, key = os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                            "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key,
                            "-out", cert], check=True, capture_output=True)
            s2 = Server(work, "tls", [f"--tls_cert={cert}", f"--tls_key={key}"])
            servers.append(s2)
            tls_base = f"https://127.0.0.1:{s2.http_port}"
            wait_ready(tls_base, s2, verify=cert)
            r = requests.get(f"{tls_base}/v1/agencies/{PROVINCE}", headers={"Authorization": f"Bearer {s2.token}"},
                             verify=cert)
            assert r.status_code == 200 and r.json()["code"] == PROVINCE, r.text
            try:
                requests.get(f"http://127.0.0.1:{s2.http_port}/healthz", timeout=5)
                raise AssertionError("plaintext HTTP was answered on the TLS port")
            except requests.RequestException:
                pass
            assert s2.stop() == 0
        check("TLS: the HTTP port serves with the gRPC port's certificate, never plaintext", tls)
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
