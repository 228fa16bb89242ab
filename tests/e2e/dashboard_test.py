#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium driven by Selenium
against pstrack-server (SQLite, --http_listen) holding a generated national
data set (pstrack-gen) sent through the CLI. What the pages show is compared
with the HTTP/JSON API's answers for the same calls (and the ranking's order
with a brute-force ranking of the API's scores); the CSV and XLSX exports are
read back (csv, openpyxl) and compared with the API.

  dashboard_test.py --server-bin B --admin-bin A --cli-bin C --gen-bin G --source-dir S
                    [--screenshots DIR]   (docs/screenshots/ for the README)
"""
import argparse
import csv
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import openpyxl
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from e2e_common import HttpServer, check, summary

ARGS = None
YEAR = 2025
METHODOLOGY = "qd766@2026"


def Server(work, data):
    """pstrack-server (gRPC and HTTP) on the generated tree and catalog, ready."""
    server = HttpServer(work, "server", server_bin=ARGS.server_bin, admin_bin=ARGS.admin_bin,
                        source_dir=ARGS.source_dir, agencies=f"{data}/agencies.csv",
                        procedures=f"{data}/procedures.csv", extra=["--rate_limit=0", "--log_format=json"],
                        key_name="dashboard admin")
    server.wait_ready(timeout=60)
    return server


def browser(download_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,768",
                "--lang=vi-VN", "--disable-gpu"]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
    driver.set_page_load_timeout(30)
    return driver


def main():
    global ARGS
    p = argparse.ArgumentParser()
    for name in ["server-bin", "admin-bin", "cli-bin", "gen-bin", "source-dir"]:
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--screenshots", default="")
    p.add_argument("--dossiers", type=int, default=20000)
    ARGS = p.parse_args()
    work = tempfile.mkdtemp(prefix="pstrack-dashboard-")
    server = driver = None
    try:
        data = os.path.join(work, "data")
        subprocess.run([ARGS.gen_bin, f"--out={data}", f"--dossiers={ARGS.dossiers}", "--seed=766",
                        f"--year={YEAR}", "--procedures=300", f"--calendar_dir={ARGS.source_dir}/data/calendar"],
                       check=True, capture_output=True)
        server = Server(work, data)
        admin = {"Authorization": f"Bearer {server.token}"}
        env = dict(os.environ, PSTRACK_API_KEY_FILE=server.key_file)
        sent = subprocess.run([ARGS.cli_bin, f"--server=127.0.0.1:{server.grpc_port}", "event", "send",
                               f"{data}/events.csv"], env=env, capture_output=True, text=True)
        assert sent.returncode == 0, sent.stdout + sent.stderr

        def get(path, **params):
            r = requests.get(server.base + path, headers=admin, params=params, timeout=30)
            assert r.status_code == 200, (path, r.status_code, r.text)
            return r.json()

        agencies = list(csv.DictReader(open(f"{data}/agencies.csv", encoding="utf-8")))
        provinces = [a for a in agencies if a["level"] == "province" and not a.get("valid_until")]
        # The province and commune with the most dossiers, for the drill-down.
        ranking = get("/v1/agencies/VN/rankings", **{"period.label": str(YEAR), "indicatorId": "received"})
        province = ranking["entries"][0]["agencyCode"]
        communes = get(f"/v1/agencies/{province}/indicators:breakdown",
                       **{"period.label": str(YEAR), "dimension": "BREAKDOWN_DIMENSION_CHILD_AGENCY",
                          "indicatorIds": "received"})["rows"]
        commune = max(communes, key=lambda r: r["values"][0].get("value", 0))["key"]
        analyst = requests.post(server.base + "/v1/apiKeys", headers=admin, json={
            "key": {"name": "analyst", "role": "ROLE_ANALYST", "scopeAgencyCode": province}}).json()["token"]

        downloads = os.path.join(work, "downloads")
        os.makedirs(downloads)
        driver = browser(downloads)
        wait = WebDriverWait(driver, 30)

        def ready(page):
            # The page is drawn and no call is in flight (streams aside).
            wait.until(lambda d: d.execute_script(
                "return [document.body.dataset.ready, document.body.dataset.busy]") == [page, "0"])

        def shot(name):
            if ARGS.screenshots:
                os.makedirs(ARGS.screenshots, exist_ok=True)
                driver.save_screenshot(os.path.join(ARGS.screenshots, f"{name}.png"))

        def sign_in(token):
            driver.get(server.base + "/")
            wait.until(lambda d: d.find_elements(By.ID, "api-key"))
            box = driver.find_element(By.ID, "api-key")
            box.clear()
            box.send_keys(token, Keys.ENTER)

        def set_year():
            Select(driver.find_element(By.ID, "period-kind")).select_by_value("year")
            year = driver.find_element(By.ID, "period-year")
            if year.get_attribute("value") != str(YEAR):
                driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))",
                                      year, str(YEAR))

        def table_rows(scope="main table"):
            return driver.execute_script("""
                const t = document.querySelector(arguments[0]);
                return [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent));""", scope)

        def wait_rows(expect):
            wait.until(lambda d: len(table_rows()) == expect)

        def downloaded(suffix, before):
            deadline = time.time() + 20
            while time.time() < deadline:
                files = [f for f in glob.glob(os.path.join(downloads, f"*{suffix}")) if f not in before]
                if files and not glob.glob(os.path.join(downloads, "*.crdownload")):
                    return files[0]
                time.sleep(0.2)
            raise AssertionError(f"no {suffix} downloaded")

        api_ranking = {}

        def signin_and_ranking():
            sign_in(server.token)
            ready("country")
            assert "#/country" in driver.current_url and server.token not in driver.current_url
            key = driver.execute_script("return sessionStorage.getItem('pstrack.key')")
            assert key == server.token, "the key is kept in sessionStorage"
            set_year()
            Select(driver.find_element(By.ID, "rank-by")).select_by_value(f"m:{METHODOLOGY}")
            ready("country")
            want = get("/v1/agencies/VN/rankings", **{"period.label": str(YEAR), "methodologyId": METHODOLOGY,
                                                       "minSampleSize": "10"})
            api_ranking.update(want)
            entries = want["entries"]
            wait_rows(len(entries))
            rows = table_rows()
            for row, e in zip(rows, entries):
                assert row[1] == e["agencyCode"], (row, e)
                assert row[0] == (str(e["rank"]) if e.get("rank") else "–"), (row, e)
            # Independently: ranked entries in score order, competition ranks,
            # those under the sample size not ranked.
            ranked = [e for e in entries if e.get("rank")]
            for e in entries:
                assert bool(e.get("rank")) == (int(e.get("sampleSize", 0)) >= 10), e
            scores = [e.get("score", 0) for e in ranked]
            assert scores == sorted(scores, reverse=True), scores
            for i, e in enumerate(ranked):
                assert e["rank"] == 1 + sum(1 for s in scores if s > e.get("score", 0)), (i, e)
            assert len(entries) == len(provinces), (len(entries), len(provinces))
            tiles = driver.find_elements(By.CSS_SELECTOR, ".map a")
            assert len(tiles) == 34, len(tiles)
            shot("country")
        check("sign in with a key (kept in session storage, never in the URL); the ranking equals the API's, "
              "brute-force checked; 34 tiles", signin_and_ranking)

        def csv_export():
            before = set(glob.glob(os.path.join(downloads, "*")))
            driver.find_element(By.CSS_SELECTOR, "main .export-csv").click()
            path = downloaded(".csv", before)
            raw = open(path, "rb").read()
            assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark"
            rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
            body = rows[1:]
            entries = api_ranking["entries"]
            assert len(body) == len(entries), (len(body), len(entries))
            names = {e["agencyCode"]: e["agencyName"] for e in entries}
            for row, e in zip(body, entries):
                assert row[1] == e["agencyCode"] and row[2] == names[e["agencyCode"]], (row, e)
                assert abs(float(row[3]) - e.get("score", 0)) < 1e-9, (row, e)
                assert int(row[-1]) == int(e.get("sampleSize", 0)), (row, e)
            assert any("Quảng" in n or "Hà" in n or "Hồ" in n for n in names.values())
        check("CSV export: UTF-8 with a BOM, Vietnamese names, numbers equal the API's", csv_export)

        def xlsx_export():
            Select(driver.find_element(By.ID, "rank-by")).select_by_value("i:on_time_rate")
            ready("country")
            want = get("/v1/agencies/VN/rankings", **{"period.label": str(YEAR), "indicatorId": "on_time_rate",
                                                       "minSampleSize": "10"})["entries"]
            wait.until(lambda d: [r[1] for r in table_rows()] == [e["agencyCode"] for e in want])
            before = set(glob.glob(os.path.join(downloads, "*")))
            driver.find_element(By.CSS_SELECTOR, "main .export-xlsx").click()
            path = downloaded(".xlsx", before)
            sheet = openpyxl.load_workbook(path).active
            rows = list(sheet.iter_rows(values_only=True))
            assert len(rows) == len(want) + 1, (len(rows), len(want))
            for i, e in enumerate(want):
                row = rows[i + 1]
                assert row[1] == e["agencyCode"], (row, e)
                value = e["value"].get("value", 0) if e["value"].get("available") else None
                assert (row[3] is None and value is None) or abs(row[3] - value) < 1e-12, (row, e)
                assert row[4] == e["value"].get("numerator", 0) and row[5] == e["value"].get("denominator", 0), (row, e)
            assert sheet.cell(row=2, column=4).number_format == "0.0%", sheet.cell(row=2, column=4).number_format
            assert isinstance(rows[1][4], (int, float)), "numbers are numbers"
        check("XLSX export (libxlsxwriter): values equal the API's, rates formatted as percentages", xlsx_export)

        def drill_down():
            driver.find_element(By.CSS_SELECTOR, f'main table a[href="#/agency/{province}"]').click()
            ready("agency")
            shot("agency")
            want = get(f"/v1/agencies/{province}/indicators:breakdown",
                       **{"period.label": str(YEAR), "dimension": "BREAKDOWN_DIMENSION_CHILD_AGENCY"})["rows"]
            codes = driver.execute_script(
                "return [...document.querySelectorAll('main .table-wrap')[0].querySelectorAll('tbody tr')].map(r => r.cells[0].textContent)")
            assert sorted(codes) == sorted(r["key"] for r in want), (codes, [r["key"] for r in want])
            driver.find_element(By.CSS_SELECTOR, f'main table a[href="#/agency/{commune}"]').click()
            ready("agency")
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#indicator-tiles .tile'))
            set_values = get(f"/v1/agencies/{commune}/indicators", **{"period.label": str(YEAR)})["values"]
            tiles = driver.execute_script("""return Object.fromEntries([...document.querySelectorAll('#indicator-tiles .tile')]
                .map(t => [t.dataset.indicator, t.title]))""")
            for v in set_values:
                num, den = tiles[v["indicatorId"]].split(" / ")
                as_number = lambda s: float(s.replace(".", "").replace(",", ".").replace("\u00a0", ""))  # vi-VN
                assert abs(as_number(num) - v.get("numerator", 0)) < 0.01, (v, tiles[v["indicatorId"]])
                assert abs(as_number(den) - v.get("denominator", 0)) < 0.01, (v, tiles[v["indicatorId"]])
        check("drill down: province page lists the API's children; the commune's figures equal GetIndicators",
              drill_down)

        def receive_online(day):
            # A new dossier of the commune, received online on that day of
            # November, through the HTTP API.
            code = f"{commune}-{YEAR % 100:02d}11{day:02d}-9900{day:02d}"
            r = requests.post(server.base + "/v1/events", headers=admin, json={
                "eventId": f"{code}-r", "dossierCode": code, "agencyCode": commune,
                "procedureCode": get("/v1/dossiers", agencyCode=commune, pageSize=1)["dossiers"][0]["procedureCode"],
                "occurredAt": f"{YEAR}-11-{day:02d}T02:00:00Z",
                "received": {"channel": "CHANNEL_ONLINE"}})
            assert r.status_code == 200, r.text

        def live_update():
            # A new dossier received in the commune: the open page's tiles
            # change without a reload (Server-Sent Events).
            before = driver.execute_script(
                "return document.querySelector('#indicator-tiles .tile[data-indicator=\"received\"]').title")
            receive_online(3)
            wait.until(lambda d: d.execute_script(
                "return document.querySelector('#indicator-tiles .tile[data-indicator=\"received\"]').title") != before)
        check("the open page updates live when an event lands", live_update)

        def dossier_timeline():
            driver.get(f"{server.base}/dashboard/#/dossiers?agency={province}&kind=overdue")
            ready("dossiers")
            want = get("/v1/dossiers", agencyCode=province, overdueOnly="true", pageSize=200)["dossiers"]
            if not want:
                want = get("/v1/dossiers", agencyCode=province, pageSize=200)["dossiers"]
                driver.get(f"{server.base}/dashboard/#/dossiers?agency={province}&kind=all")
                ready("dossiers")
            wait.until(lambda d: len(table_rows()) == len(want))
            assert [r[0] for r in table_rows()] == [d["code"] for d in want]
            shot("dossiers")
            first = want[0]["code"]
            driver.find_element(By.CSS_SELECTOR, f'main table a[href="#/dossier/{first}"]').click()
            ready("dossier")
            events = get(f"/v1/dossiers/{first}")["events"]
            items = driver.find_elements(By.CSS_SELECTOR, "#timeline li")
            assert len(items) == len(events), (len(items), len(events))
            shot("dossier")
        check("dossier lists equal the API's (overdue); a dossier's timeline shows each of its events",
              dossier_timeline)

        def due_soon():
            driver.get(f"{server.base}/dashboard/#/dossiers?agency={province}&kind=dueSoon&within=5")
            ready("dossiers")
            want = get("/v1/dossiers", agencyCode=province, dueWithinWorkingDays="5", pageSize=200)["dossiers"]
            if want:
                wait.until(lambda d: len(table_rows()) == len(want))
            else:
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "main p"))
        check("due-soon list equals the API's dueWithinWorkingDays filter", due_soon)

        def quality_page():
            driver.get(f"{server.base}/dashboard/#/quality/{province}")
            ready("quality")
            shot("quality")
            assert "Lỗi" not in driver.find_element(By.TAG_NAME, "main").text
        check("data quality and reconciliation page loads for an agency", quality_page)

        def english_and_keyboard_sort():
            driver.get(f"{server.base}/dashboard/#/country")
            ready("country")
            Select(driver.find_element(By.ID, "lang")).select_by_value("en")
            ready("country")
            assert driver.find_element(By.CSS_SELECTOR, '#nav a[data-page="country"]').text == "Country"
            assert driver.execute_script("return document.documentElement.lang") == "en"
            # Sorting by keyboard: focus the code column's header, Enter.
            header = driver.find_elements(By.CSS_SELECTOR, "main table thead th button")[1]
            header.send_keys(Keys.ENTER)
            codes = [r[1] for r in table_rows()]
            assert codes == sorted(codes), codes
            header.send_keys(Keys.ENTER)
            assert [r[1] for r in table_rows()] == sorted(codes, reverse=True)
            Select(driver.find_element(By.ID, "lang")).select_by_value("vi")
            ready("country")
        check("English switch; sortable headers work from the keyboard", english_and_keyboard_sort)

        def live_follows_the_period():
            # Opened on October (ranked by dossiers received), then November
            # picked: a receipt of November re-ranks the page by itself, so
            # its live watch moved to the period shown.
            driver.get(f"{server.base}/dashboard/#/country")
            ready("country")
            Select(driver.find_element(By.ID, "period-kind")).select_by_value("month")
            ready("country")
            Select(driver.find_element(By.ID, "period-month")).select_by_value("10")
            ready("country")
            Select(driver.find_element(By.ID, "rank-by")).select_by_value("i:received")
            ready("country")
            driver.refresh()
            ready("country")
            Select(driver.find_element(By.ID, "period-month")).select_by_value("11")
            ready("country")

            def received_of(code):
                return next((r[3] for r in table_rows() if r[1] == code), None)

            before = received_of(province)
            receive_online(4)
            wait.until(lambda d: received_of(province) not in (before, None))
            set_year()
            ready("country")
            Select(driver.find_element(By.ID, "rank-by")).select_by_value(f"m:{METHODOLOGY}")
            ready("country")
        check("the country page's live updates follow the period picked", live_follows_the_period)

        def tablet():
            # A tablet held upright: nothing wider than the screen but the
            # tables, which scroll inside their frame.
            driver.set_window_size(820, 1180)
            driver.get(f"{server.base}/dashboard/#/country")
            driver.refresh()
            ready("country")
            width = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1] + 1, width
            shot("country-tablet")
            driver.set_window_size(1366, 768)
        check("usable on a tablet (820x1180): the page does not overflow its width", tablet)

        def sign_out_and_scope():
            driver.find_element(By.ID, "signout").click()
            wait.until(lambda d: d.find_elements(By.ID, "api-key"))
            assert driver.execute_script("return sessionStorage.getItem('pstrack.key')") is None
            sign_in(analyst)
            ready("agency")
            assert driver.current_url.endswith(f"#/agency/{province}"), driver.current_url
            assert not driver.find_element(By.CSS_SELECTOR, '#nav a[data-page="country"]').is_displayed()
            other = next(p["code"] for p in provinces if p["code"] != province)
            driver.get(f"{server.base}/dashboard/#/agency/{other}")
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "main .error"))
            assert "scope" in driver.find_element(By.CSS_SELECTOR, "main .error").text.lower()
            driver.find_element(By.ID, "signout").click()
            wait.until(lambda d: d.find_elements(By.ID, "api-key"))
            log = open(server.log_path).read()
            assert server.token not in log and analyst not in log, "a key reached the log"
        check("sign out clears the key; a P-scoped analyst sees its province only; keys never logged",
              sign_out_and_scope)

        def static_headers():
            r = requests.get(server.base + "/", allow_redirects=False)
            assert r.status_code == 302 and r.headers["Location"] == "/dashboard/", r.headers
            r = requests.get(server.base + "/dashboard/app.js")
            assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
            assert "script-src 'self'" in r.headers["Content-Security-Policy"]
            again = requests.get(server.base + "/dashboard/app.js", headers={"If-None-Match": r.headers["ETag"]})
            assert again.status_code == 304, again.status_code
            bad = requests.post(server.base + "/dashboard/export.xlsx", json={"columns": []}, headers=admin)
            assert bad.status_code == 400 and "columns" in bad.json()["message"], bad.text
            anon = requests.post(server.base + "/dashboard/export.xlsx", json={"columns": [{"title": "a"}]})
            assert anon.status_code == 401, anon.status_code
            for path in ["/dashboard/", "/dashboard/app.js", "/dashboard/style.css"]:
                body = requests.get(server.base + path).text
                assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", body), f"{path} loads from elsewhere"
        check("served by pstrack-server: redirect, CSP, ETag/304, no external URL; export refuses bad input and "
              "anonymous callers", static_headers)
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
