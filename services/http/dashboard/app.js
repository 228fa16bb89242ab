// pstrack dashboard: one page, no libraries, no build step. It calls the
// HTTP/JSON API of the server that serves it (same origin) with the API key
// the user typed, kept in sessionStorage and sent as a Bearer header only.
"use strict";

// ---------------------------------------------------------------- text ---

const TEXT = {
  vi: {
    skip: "Bỏ qua đến nội dung", lang: "Ngôn ngữ", signout: "Đăng xuất",
    "nav.country": "Cả nước", "nav.agency": "Cơ quan", "nav.dossiers": "Hồ sơ", "nav.quality": "Chất lượng dữ liệu",
    "signin.title": "Đăng nhập", "signin.key": "Khoá API", "signin.submit": "Đăng nhập",
    "signin.hint": "Khoá do quản trị viên cấp (pstrack-admin create-key). Khoá chỉ được giữ trong phiên trình duyệt này.",
    "signin.bad": "Khoá không hợp lệ hoặc đã bị thu hồi.",
    "period": "Kỳ", "period.year": "Năm", "period.quarter": "Quý", "period.month": "Tháng", "period.range": "Khoảng ngày",
    "period.from": "Từ ngày", "period.to": "Đến ngày (không gồm)",
    "rankBy": "Xếp hạng theo", "minSample": "Cỡ mẫu tối thiểu (hồ sơ)", "mapBy": "Tô màu bản đồ theo",
    "country.title": "Xếp hạng các tỉnh, thành phố", "map.title": "Bản đồ ô",
    "col.rank": "Hạng", "col.agency": "Cơ quan", "col.code": "Mã", "col.score": "Điểm", "col.value": "Giá trị",
    "col.numerator": "Tử số", "col.denominator": "Mẫu số", "col.sample": "Hồ sơ tiếp nhận", "col.max": "Tối đa",
    "notRanked": "không xếp hạng", "belowSample": "dưới cỡ mẫu", "notAssessed": "chưa đánh giá được",
    "unassessedPoints": "điểm chưa đánh giá được",
    "export.csv": "Tải CSV", "export.xlsx": "Tải Excel",
    "agency.children": "Đơn vị trực thuộc", "agency.series": "Diễn biến theo tháng", "agency.indicators": "Chỉ tiêu",
    "agency.lineage": "Sáp nhập", "agency.lineageText": "Số liệu gồm cả đơn vị đã sáp nhập vào:",
    "agency.pick": "Mã cơ quan", "agency.open": "Xem", "agency.dossiers": "Hồ sơ của cơ quan",
    "agency.quality": "Chất lượng dữ liệu", "indicator": "Chỉ tiêu", "month": "Tháng",
    "live": "● trực tiếp", "updated": "Đã cập nhật",
    "dossiers.title": "Hồ sơ", "dossiers.kind": "Danh sách", "dossiers.overdue": "Quá hạn",
    "dossiers.dueSoon": "Sắp đến hạn", "dossiers.open": "Đang giải quyết", "dossiers.all": "Tất cả",
    "dossiers.within": "Trong (ngày làm việc)", "dossiers.procedure": "Thủ tục", "dossiers.agency": "Cơ quan",
    "dossiers.more": "Xem thêm", "dossiers.none": "Không có hồ sơ nào.",
    "col.dossier": "Mã hồ sơ", "col.procedure": "Thủ tục", "col.status": "Trạng thái", "col.received": "Tiếp nhận",
    "col.appointment": "Hẹn trả", "col.due": "Hạn", "col.finished": "Hoàn thành", "col.timeliness": "Đúng hạn",
    "dossier.title": "Hồ sơ", "dossier.timeline": "Diễn biến", "dossier.outcome": "Kết quả",
    "dossier.aside": "không tính (quy tắc {0})",
    "quality.title": "Chất lượng dữ liệu và đối soát", "quality.reconcile": "Đối soát với báo cáo",
    "filter": "Lọc", "load": "Xem", "error": "Lỗi", "loading": "Đang tải…",
    "yes": "có", "no": "không",
  },
  en: {
    skip: "Skip to content", lang: "Language", signout: "Sign out",
    "nav.country": "Country", "nav.agency": "Agency", "nav.dossiers": "Dossiers", "nav.quality": "Data quality",
    "signin.title": "Sign in", "signin.key": "API key", "signin.submit": "Sign in",
    "signin.hint": "A key from your administrator (pstrack-admin create-key). It is kept in this browser tab's session only.",
    "signin.bad": "The key is not valid or was revoked.",
    "period": "Period", "period.year": "Year", "period.quarter": "Quarter", "period.month": "Month",
    "period.range": "Date range", "period.from": "From", "period.to": "To (exclusive)",
    "rankBy": "Rank by", "minSample": "Minimum sample (dossiers)", "mapBy": "Colour the map by",
    "country.title": "Provinces ranked", "map.title": "Tile map",
    "col.rank": "Rank", "col.agency": "Agency", "col.code": "Code", "col.score": "Score", "col.value": "Value",
    "col.numerator": "Numerator", "col.denominator": "Denominator", "col.sample": "Dossiers received", "col.max": "Max",
    "notRanked": "not ranked", "belowSample": "below the sample size", "notAssessed": "not assessed",
    "unassessedPoints": "points not assessed",
    "export.csv": "Download CSV", "export.xlsx": "Download Excel",
    "agency.children": "Units below", "agency.series": "Month by month", "agency.indicators": "Indicators",
    "agency.lineage": "Mergers", "agency.lineageText": "Figures include the agencies merged into it:",
    "agency.pick": "Agency code", "agency.open": "Open", "agency.dossiers": "This agency's dossiers",
    "agency.quality": "Data quality", "indicator": "Indicator", "month": "Month",
    "live": "● live", "updated": "Updated",
    "dossiers.title": "Dossiers", "dossiers.kind": "List", "dossiers.overdue": "Overdue",
    "dossiers.dueSoon": "Due soon", "dossiers.open": "Open", "dossiers.all": "All",
    "dossiers.within": "Within (working days)", "dossiers.procedure": "Procedure", "dossiers.agency": "Agency",
    "dossiers.more": "More", "dossiers.none": "No dossiers.",
    "col.dossier": "Dossier", "col.procedure": "Procedure", "col.status": "Status", "col.received": "Received",
    "col.appointment": "Appointment", "col.due": "Due", "col.finished": "Finished", "col.timeliness": "Timeliness",
    "dossier.title": "Dossier", "dossier.timeline": "Timeline", "dossier.outcome": "Outcome",
    "dossier.aside": "set aside (rule {0})",
    "quality.title": "Data quality and reconciliation", "quality.reconcile": "Reconciliation with reports",
    "filter": "Filter", "load": "Show", "error": "Error", "loading": "Loading…",
    "yes": "yes", "no": "no",
  },
};

// Indicator names in Vietnamese (the API's names are English).
const INDICATOR_VI = {
  online_service_coverage: "Tỷ lệ TTHC cung cấp trực tuyến",
  full_online_share_eligible: "Tỷ lệ DVC trực tuyến toàn trình (trên số đủ điều kiện)",
  full_online_share_online: "Tỷ lệ DVC trực tuyến toàn trình (trên số trực tuyến)",
  online_submission_rate: "Tỷ lệ hồ sơ nộp trực tuyến",
  on_time_rate: "Tỷ lệ hồ sơ giải quyết đúng hạn",
  on_time_rate_portal: "Tỷ lệ đúng hạn (cách tính của Cổng)",
  early_rate: "Tỷ lệ hồ sơ giải quyết trước hạn",
  late_rate: "Tỷ lệ hồ sơ giải quyết quá hạn",
  overdue_open: "Hồ sơ đang quá hạn",
  apology_rate: "Tỷ lệ hồ sơ có thư xin lỗi",
  online_payment_rate: "Tỷ lệ thanh toán trực tuyến",
  electronic_result_rate: "Tỷ lệ trả kết quả điện tử",
  digitisation_rate: "Tỷ lệ số hoá hồ sơ, kết quả",
  digitised_components_rate: "Tỷ lệ hồ sơ có thành phần được số hoá",
  data_reuse_rate: "Tỷ lệ tái sử dụng dữ liệu số hoá",
  shared_for_reuse_rate: "Tỷ lệ dữ liệu số hoá được chia sẻ",
  satisfaction_rate: "Tỷ lệ hài lòng",
  population_db_use_rate: "Tỷ lệ khai thác CSDL quốc gia về dân cư",
  satisfaction_766: "Mức độ hài lòng trong tiếp nhận, giải quyết hồ sơ (766)",
  fully_electronic_rate: "Tỷ lệ hồ sơ điện tử toàn trình",
  average_processing_days: "Thời gian giải quyết trung bình (ngày làm việc)",
  full_online_dossier_rate: "Tỷ lệ hồ sơ trực tuyến toàn trình (766)",
  population_db_connected_rate: "Tỷ lệ TTHC kết nối CSDL quốc gia về dân cư",
  fee_procedures_online_payment_rate: "Tỷ lệ TTHC có phí cung cấp thanh toán trực tuyến",
  fee_procedures_with_online_payment_rate: "Tỷ lệ TTHC có phí phát sinh thanh toán trực tuyến",
  procedures_with_online_dossiers_rate: "Tỷ lệ DVC trực tuyến phát sinh hồ sơ trực tuyến",
  sync_completeness: "Tỷ lệ hồ sơ đồng bộ lên Cổng DVC quốc gia",
  received: "Số hồ sơ tiếp nhận",
  finished: "Số hồ sơ đã giải quyết",
};

// Enum values and event kinds as people say them (the proto's comments).
const ENUM_TEXT = {
  vi: {
    REGISTERED_ONLINE: "Mới đăng ký", RECEIVED: "Đã tiếp nhận", NOT_ACCEPTED: "Không được tiếp nhận",
    PROCESSING: "Đang xử lý", SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung", FINANCIAL_OBLIGATION: "Nghĩa vụ tài chính",
    WITHDRAWN: "Công dân rút hồ sơ", STOPPED: "Dừng xử lý", RESOLVED: "Đã xử lý xong", RESULT_RETURNED: "Đã trả kết quả",
    EARLY: "Trước hạn", ON_TIME: "Đúng hạn", LATE: "Quá hạn", WITHIN_TIME: "Trong hạn", OVERDUE: "Đang quá hạn",
    NOT_APPLICABLE: "Không áp dụng",
    registeredOnline: "Đăng ký trực tuyến", received: "Tiếp nhận", notAccepted: "Từ chối tiếp nhận",
    processingStarted: "Bắt đầu xử lý", supplementRequested: "Yêu cầu bổ sung", supplementReceived: "Nhận bổ sung",
    financialObligationRequested: "Yêu cầu nghĩa vụ tài chính", withdrawn: "Rút hồ sơ", stopped: "Dừng xử lý",
    resolved: "Có kết quả", resultReturned: "Trả kết quả", reappointed: "Hẹn lại (thư xin lỗi)", payment: "Thanh toán",
    digitised: "Số hoá", feedback: "Phản ánh, đánh giá",
  },
  en: {
    REGISTERED_ONLINE: "Registered online", RECEIVED: "Received", NOT_ACCEPTED: "Not accepted", PROCESSING: "Processing",
    SUPPLEMENT_REQUESTED: "Supplement requested", FINANCIAL_OBLIGATION: "Financial obligation", WITHDRAWN: "Withdrawn",
    STOPPED: "Stopped", RESOLVED: "Resolved", RESULT_RETURNED: "Result returned", EARLY: "Early", ON_TIME: "On time",
    LATE: "Late", WITHIN_TIME: "Within time", OVERDUE: "Overdue", NOT_APPLICABLE: "Not applicable",
    registeredOnline: "Registered online", received: "Received", notAccepted: "Not accepted",
    processingStarted: "Processing started", supplementRequested: "Supplement requested",
    supplementReceived: "Supplement received", financialObligationRequested: "Financial obligation requested",
    withdrawn: "Withdrawn", stopped: "Stopped", resolved: "Resolved", resultReturned: "Result returned",
    reappointed: "Re-appointed (apology letter)", payment: "Payment", digitised: "Digitised", feedback: "Feedback",
  },
};
function enumText(value, prefix) {
  const key = (value || "").replace(prefix, "");
  return (ENUM_TEXT[lang] || {})[key] || key;
}

let lang = sessionStorage.getItem("pstrack.lang") || "vi";
function t(key, ...args) {
  let s = (TEXT[lang] && TEXT[lang][key]) || TEXT.en[key] || key;
  args.forEach((a, i) => { s = s.replace(`{${i}}`, a); });
  return s;
}

// ------------------------------------------------------------- helpers ---

// Builds an element; children are nodes or text (never parsed as HTML).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// Replaces `node`'s children, skipping empty parts.
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children.flat(Infinity)) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

function toast(message) {
  const box = document.getElementById("toast");
  const item = el("div", {}, message);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

const numberFormat = () => new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 2 });
function fmtNumber(v) { return v === undefined || v === null ? "" : numberFormat().format(v); }
function fmtPercent(v) {
  return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { style: "percent", maximumFractionDigits: 1 })
    .format(v || 0);
}
function fmtDate(d) {
  if (!d || !d.year) return "";
  return `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
}
function fmtTime(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  return d.toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", { timeZone: "Asia/Ho_Chi_Minh" });
}
function indicatorName(id, fallback) {
  if (lang === "vi" && INDICATOR_VI[id]) return INDICATOR_VI[id];
  const def = (catalog.indicators || []).find((d) => d.id === id);
  return (def && def.name) || fallback || id;
}
// Indicators where a lower value is better (the API ranks them ascending).
const LOWER_IS_BETTER = new Set(["late_rate", "overdue_open", "apology_rate", "average_processing_days"]);
function isRatio(id) {
  const def = (catalog.indicators || []).find((d) => d.id === id);
  return !def || def.unit === "ratio";
}
function shortName(name) {
  return (name || "").replace(/^(Tỉnh|Thành phố|Phường|Xã|Đặc khu) /, "");
}

// ----------------------------------------------------------------- API ---

const KEY = "pstrack.key";
function apiKey() { return sessionStorage.getItem(KEY) || ""; }

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
  }
}

// Nested parameters as the gateway reads them: {period: {label: "2025"}}
// becomes period.label=2025.
function query(params, prefix = "", out = new URLSearchParams()) {
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === "") continue;
    const name = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) v.forEach((item) => out.append(name, item));
    else if (typeof v === "object") query(v, name, out);
    else out.append(name, v);
  }
  return out;
}

// Calls in flight (streams excepted), for tests and the busy cursor:
// document.body.dataset.busy.
let inflight = 0;
function busy(delta) {
  inflight += delta;
  document.body.dataset.busy = String(inflight);
}

async function api(path, params, options = {}) {
  if (options.raw) return call(path, params, options);
  busy(+1);
  try {
    return await call(path, params, options);
  } finally {
    busy(-1);
  }
}

async function call(path, params, options) {
  const qs = query(params).toString();
  const resp = await fetch(path + (qs ? `?${qs}` : ""), {
    method: options.method || "GET",
    headers: Object.assign({ Authorization: `Bearer ${apiKey()}` },
      options.body ? { "Content-Type": "application/json" } : {}),
    body: options.body ? JSON.stringify(options.body) : undefined,
    signal: options.signal,
  });
  if (resp.status === 401 && !options.signingIn) {
    signOut();
    throw new ApiError(401, { message: t("signin.bad") });
  }
  if (!resp.ok) {
    let body = null;
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    throw new ApiError(resp.status, body);
  }
  return options.raw ? resp : resp.json();
}

// Server-Sent Events over fetch (EventSource cannot send the Bearer
// header): calls onSet with each IndicatorSet until the signal aborts.
async function watch(path, params, onSet, signal) {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      const resp = await api(path, params, { raw: true, signal });
      backoff = 1000;
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) onSet(JSON.parse(data));
        }
      }
    } catch (e) {
      if (signal.aborted || (e instanceof ApiError && e.status < 500 && e.status !== 429)) return;
    }
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 30000);
  }
}

// ------------------------------------------------------------- exports ---

// A table's columns and rows as the exports see them: numbers stay numbers.
function exportCells(columns, rows) {
  return rows.map((r) => columns.map((c) => {
    const v = c.value(r);
    return v === undefined || v === null ? "" : v;
  }));
}

function download(name, blob) {
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

// UTF-8 with a byte-order mark (Excel on Windows then reads Vietnamese),
// comma-separated, RFC 4180 quoting.
function exportCsv(name, columns, rows) {
  const quote = (v) => {
    const s = typeof v === "number" ? String(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [columns.map((c) => quote(c.label)).join(",")];
  for (const row of exportCells(columns, rows)) lines.push(row.map(quote).join(","));
  download(`${name}.csv`, new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" }));
}

// XLSX made by the server (libxlsxwriter): rates as percentages, numbers
// as numbers.
async function exportXlsx(name, columns, rows) {
  try {
    const resp = await api("/dashboard/export.xlsx", null, {
      method: "POST", raw: true,
      body: {
        sheet: name.slice(0, 31),
        columns: columns.map((c) => ({ title: c.label, type: c.type || "text" })),
        rows: exportCells(columns, rows),
      },
    });
    download(`${name}.xlsx`, await resp.blob());
  } catch (e) {
    toast(`${t("error")}: ${e.message}`);
  }
}

// --------------------------------------------------------------- table ---

// A sortable table: column headers are buttons (Enter/Space sorts); every
// table exports as CSV and XLSX with the values it shows.
// columns: {label, type: text|number|integer|percent, value(row),
//           render(row) -> node|text (default: formatted value),
//           title(row) -> hover text (numerator / denominator)}
function dataTable({ caption, columns, rows, exportName, rowClass, sortable = true }) {
  let sortIndex = -1;
  let ascending = true;
  const tbody = el("tbody");
  const headCells = columns.map((c, i) => {
    const th = el("th", { scope: "col", class: c.type && c.type !== "text" ? "num" : undefined });
    if (sortable) {
      th.append(el("button", { type: "button", onclick: () => sortBy(i) }, c.label));
      th.setAttribute("aria-sort", "none");
    } else {
      th.append(c.label);
    }
    return th;
  });
  function cell(c, r) {
    const v = c.value(r);
    let content;
    if (c.render) content = c.render(r);
    else if (v === undefined || v === null || v === "") content = "";
    else if (c.type === "percent") content = fmtPercent(v);
    else if (c.type === "number" || c.type === "integer") content = fmtNumber(v);
    else content = String(v);
    return el("td", { class: c.type && c.type !== "text" ? "num" : undefined, title: c.title ? c.title(r) : undefined },
      content);
  }
  function draw() {
    tbody.replaceChildren(...rows.map((r) => el("tr", { class: rowClass ? rowClass(r) : undefined },
      columns.map((c) => cell(c, r)))));
  }
  function sortBy(i) {
    ascending = sortIndex === i ? !ascending : true;
    sortIndex = i;
    const c = columns[i];
    const key = (r) => { const v = c.value(r); return v === undefined || v === null ? "" : v; };
    rows = rows.slice().sort((a, b) => {
      const x = key(a), y = key(b);
      const cmp = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "vi");
      return ascending ? cmp : -cmp;
    });
    headCells.forEach((th, k) => th.setAttribute("aria-sort", k === i ? (ascending ? "ascending" : "descending") : "none"));
    draw();
  }
  draw();
  const tools = exportName ? el("div", { class: "table-tools" },
    el("button", { type: "button", class: "export-csv", onclick: () => exportCsv(exportName, columns, rows) }, t("export.csv")),
    el("button", { type: "button", class: "export-xlsx", onclick: () => exportXlsx(exportName, columns, rows) }, t("export.xlsx")))
    : null;
  return el("div", { class: "table-wrap" }, tools,
    el("table", {}, caption ? el("caption", {}, caption) : null, el("thead", {}, el("tr", {}, headCells)), tbody));
}

// -------------------------------------------------------------- period ---

const now = new Date();
let state = Object.assign({
  kind: "year", year: now.getFullYear(), quarter: Math.floor(now.getMonth() / 3) + 1, month: now.getMonth() + 1,
  from: "", to: "", rankBy: "", mapBy: "on_time_rate", minSample: 10, agency: "",
}, JSON.parse(sessionStorage.getItem("pstrack.state") || "{}"));
function saveState() { sessionStorage.setItem("pstrack.state", JSON.stringify(state)); }

function periodParam() {
  const pad = (n) => String(n).padStart(2, "0");
  switch (state.kind) {
    case "quarter": return { label: `${state.year}-Q${state.quarter}` };
    case "month": return { label: `${state.year}-${pad(state.month)}` };
    case "range": {
      const [fy, fm, fd] = (state.from || "").split("-").map(Number);
      const [ty, tm, td] = (state.to || "").split("-").map(Number);
      return { range: { start: { year: fy, month: fm, day: fd }, end: { year: ty, month: tm, day: td } } };
    }
    default: return { label: String(state.year) };
  }
}
function periodText() {
  const p = periodParam();
  return p.label || `${state.from} – ${state.to}`;
}

// The period picker: year, quarter, month or a custom range.
function periodPicker(onChange) {
  const box = el("div", { class: "controls period" });
  const change = () => { saveState(); onChange(); };
  const kind = el("select", { id: "period-kind", onchange: (e) => { state.kind = e.target.value; draw(); change(); } },
    ["year", "quarter", "month", "range"].map((k) => el("option", { value: k, selected: state.kind === k }, t(`period.${k}`))));
  function field(label, input) { return el("label", {}, label, input); }
  function draw() {
    const parts = [field(t("period"), kind)];
    if (state.kind !== "range") {
      parts.push(field(t("period.year"), el("input", {
        id: "period-year", type: "number", min: 2015, max: 2100, value: state.year,
        onchange: (e) => { state.year = Number(e.target.value); change(); },
      })));
    }
    if (state.kind === "quarter") {
      parts.push(field(t("period.quarter"), el("select", { id: "period-quarter", onchange: (e) => { state.quarter = Number(e.target.value); change(); } },
        [1, 2, 3, 4].map((q) => el("option", { value: q, selected: state.quarter === q }, `Q${q}`)))));
    }
    if (state.kind === "month") {
      parts.push(field(t("period.month"), el("select", { id: "period-month", onchange: (e) => { state.month = Number(e.target.value); change(); } },
        Array.from({ length: 12 }, (_, i) => el("option", { value: i + 1, selected: state.month === i + 1 }, String(i + 1))))));
    }
    if (state.kind === "range") {
      parts.push(field(t("period.from"), el("input", { id: "period-from", type: "date", value: state.from,
        onchange: (e) => { state.from = e.target.value; if (state.to) change(); } })));
      parts.push(field(t("period.to"), el("input", { id: "period-to", type: "date", value: state.to,
        onchange: (e) => { state.to = e.target.value; if (state.from) change(); } })));
    }
    box.replaceChildren(...parts);
  }
  draw();
  return box;
}

// ------------------------------------------------------------- catalog ---

// What every page needs: the caller, the indicators, the methodologies.
const catalog = { me: null, indicators: [], methodologies: [], defaultMethodology: "" };

async function loadCatalog() {
  const [me, indicators, methodologies] = await Promise.all([
    api("/v1/whoami", null, { signingIn: true }), api("/v1/indicators"), api("/v1/methodologies"),
  ]);
  catalog.me = me;
  catalog.indicators = indicators.indicators || [];
  catalog.methodologies = methodologies.methodologies || [];
  catalog.defaultMethodology = methodologies.defaultId || (catalog.methodologies[0] || {}).id || "";
  if (!state.rankBy) state.rankBy = `m:${catalog.defaultMethodology}`;
}

function homeAgency() { return (catalog.me && catalog.me.scopeAgencyCode) || "VN"; }
function national() { return !catalog.me || !catalog.me.scopeAgencyCode; }

// ------------------------------------------------------------- sign in ---

function signOut() {
  sessionStorage.removeItem(KEY);
  catalog.me = null;
  if (pageAbort) pageAbort.abort();
  go("#/signin");
}

// Shows `hash`'s page, also when it is the one in the address bar already.
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signInPage(main) {
  const input = el("input", { id: "api-key", type: "password", autocomplete: "off", required: true, spellcheck: "false" });
  const message = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "card signin", onsubmit: async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    try {
      await loadCatalog();
      go(national() ? "#/country" : `#/agency/${homeAgency()}`);
    } catch (err) {
      sessionStorage.removeItem(KEY);
      message.textContent = err.status === 401 ? t("signin.bad") : `${t("error")}: ${err.message}`;
    }
  } },
  el("h1", {}, t("signin.title")),
  el("label", { for: "api-key" }, t("signin.key")), input,
  el("p", { class: "muted" }, t("signin.hint")), message,
  el("button", { type: "submit", class: "primary", id: "signin-submit" }, t("signin.submit")));
  main.replaceChildren(form);
  input.focus();
}

// ------------------------------------------------------------- country ---

// The 34 provinces (2025) on a grid shaped like the country: [code, column, row].
const TILE_GRID = [
  ["P12", 1, 0], ["P15", 2, 0], ["P08", 3, 0], ["P04", 4, 0],
  ["P11", 0, 1], ["P14", 1, 1], ["P25", 2, 1], ["P19", 3, 1], ["P20", 4, 1],
  ["P01", 2, 2], ["P24", 3, 2], ["P22", 4, 2],
  ["P37", 2, 3], ["P33", 3, 3], ["P31", 4, 3],
  ["P38", 2, 4], ["P40", 2, 5], ["P42", 3, 6], ["P44", 3, 7], ["P46", 4, 8], ["P48", 4, 9],
  ["P51", 4, 10], ["P52", 4, 11], ["P66", 4, 12], ["P68", 3, 13], ["P56", 4, 13],
  ["P80", 1, 14], ["P79", 2, 14], ["P75", 3, 14],
  ["P91", 0, 15], ["P82", 1, 15], ["P86", 2, 15], ["P96", 0, 16], ["P92", 1, 16],
];
const SCALE = ["#d73027", "#fc8d59", "#fee08b", "#d9ef8b", "#91cf60", "#1a9850"];
function colour(fraction) {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return "#e0e0e0";
  return SCALE[Math.min(SCALE.length - 1, Math.max(0, Math.floor(fraction * SCALE.length)))];
}

function rankOptions() {
  return [
    ...catalog.methodologies.map((m) => el("option", { value: `m:${m.id}`, selected: state.rankBy === `m:${m.id}` },
      `${m.name} (${m.id})`)),
    ...catalog.indicators.map((d) => el("option", { value: `i:${d.id}`, selected: state.rankBy === `i:${d.id}` },
      indicatorName(d.id, d.name))),
  ];
}

async function countryPage(main, signal) {
  const results = el("div", {}, el("p", { class: "muted" }, t("loading")));
  const controls = el("div", { class: "controls" },
    periodPicker(load),
    el("label", {}, t("rankBy"), el("select", { id: "rank-by", onchange: (e) => { state.rankBy = e.target.value; saveState(); load(); } }, rankOptions())),
    el("label", {}, t("minSample"), el("input", { id: "min-sample", type: "number", min: 0, value: state.minSample,
      onchange: (e) => { state.minSample = Math.max(0, Number(e.target.value) || 0); saveState(); load(); } })),
    el("label", {}, t("mapBy"), el("select", { id: "map-by", onchange: (e) => { state.mapBy = e.target.value; saveState(); load(); } },
      catalog.indicators.filter((d) => d.unit === "ratio").map((d) =>
        el("option", { value: d.id, selected: state.mapBy === d.id }, indicatorName(d.id, d.name))))));
  const liveBadge = el("span", { class: "live", hidden: true }, t("live"));
  main.replaceChildren(el("h1", {}, t("country.title"), " ", liveBadge), controls, results);
  // Live: the ranking is read again (at most every 5 s) while events of
  // the period shown land; a new period gets a watch of its own.
  let pending = null;
  let watched = null;  // the period the watch follows, as JSON
  let watchAbort = null;
  signal.addEventListener("abort", () => { if (watchAbort) watchAbort.abort(); clearTimeout(pending); });
  function follow(period) {
    if (JSON.stringify(period) === watched) return;
    if (watchAbort) watchAbort.abort();
    watched = JSON.stringify(period);
    const mine = new AbortController();
    watchAbort = mine;
    let first = true;
    liveBadge.hidden = false;
    watch("/v1/agencies/VN/indicators:watch", { period, indicatorIds: ["received", "finished"] }, () => {
      if (first) { first = false; return; }  // the figures as they are now: already shown
      if (pending === null) pending = setTimeout(() => { pending = null; load(); }, 5000);
    }, mine.signal).finally(() => { if (watchAbort === mine) liveBadge.hidden = true; });
  }

  async function load() {
    follow(periodParam());
    const [kind, id] = state.rankBy.split(/:(.*)/s);
    const params = { period: periodParam(), minSampleSize: state.minSample };
    if (kind === "m") params.methodologyId = id; else params.indicatorId = id;
    try {
      const [ranking, map] = await Promise.all([
        api("/v1/agencies/VN/rankings", params, { signal }),
        api("/v1/agencies/VN/rankings", { period: periodParam(), indicatorId: state.mapBy }, { signal }),
      ]);
      results.replaceChildren(el("div", { class: "grid" },
        rankingTable(ranking, kind === "m", id), tileMap(map)));
    } catch (e) {
      if (!signal.aborted) results.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
    }
  }
  await load();
}

function rankingTable(ranking, byMethodology, id) {
  const entries = ranking.entries || [];
  const agencyCell = (r) => el("a", { href: `#/agency/${r.agencyCode}` }, r.agencyName);
  const rankCell = (r) => r.rank ? String(r.rank)
    : el("span", { class: "na", title: r.belowMinSample ? t("belowSample") : t("notAssessed") }, "–");
  const columns = [
    { label: t("col.rank"), type: "integer", value: (r) => r.rank || null, render: rankCell },
    { label: t("col.code"), value: (r) => r.agencyCode },
    { label: t("col.agency"), value: (r) => r.agencyName, render: agencyCell },
  ];
  if (byMethodology) {
    columns.push({ label: t("col.score"), type: "number", value: (r) => r.score || 0,
      title: (r) => `${fmtNumber(r.score || 0)} / ${fmtNumber((r.value || {}).denominator || 0)}` });
    const groups = ((entries.find((e) => e.index) || {}).index || {}).groups || [];
    groups.forEach((g, gi) => {
      columns.push({
        label: `${g.name} (${fmtNumber(g.maxPoints)})`, type: "number",
        value: (r) => ((((r.index || {}).groups || [])[gi]) || {}).points || 0,
        render: (r) => {
          const grp = (((r.index || {}).groups || [])[gi]) || {};
          const missing = (grp.indicators || []).filter((i) => !(i.value || {}).available);
          return el("span", {}, fmtNumber(grp.points || 0),
            missing.length ? el("span", { class: "na", title: `${t("notAssessed")}: ${missing.map((i) => i.id).join(", ")}` }, " *") : null);
        },
      });
    });
    columns.push({ label: t("unassessedPoints"), type: "number", value: (r) => (r.index || {}).unavailablePoints || 0 });
  } else {
    const ratio = isRatio(id);
    columns.push({ label: indicatorName(id), type: ratio ? "percent" : "number", value: (r) => (r.value || {}).available ? r.value.value || 0 : null,
      render: (r) => (r.value || {}).available ? (ratio ? fmtPercent(r.value.value || 0) : fmtNumber(r.value.value || 0))
        : el("span", { class: "na", title: r.value && r.value.unavailableReason }, t("notAssessed")),
      title: (r) => `${fmtNumber((r.value || {}).numerator || 0)} / ${fmtNumber((r.value || {}).denominator || 0)}` });
    columns.push({ label: t("col.numerator"), type: "number", value: (r) => (r.value || {}).numerator || 0 });
    columns.push({ label: t("col.denominator"), type: "number", value: (r) => (r.value || {}).denominator || 0 });
  }
  columns.push({ label: t("col.sample"), type: "integer", value: (r) => Number(r.sampleSize || 0) });
  return dataTable({
    caption: `${t("country.title")} — ${periodText()}`, columns, rows: entries,
    exportName: `pstrack-ranking-${periodText()}`, rowClass: (r) => r.rank ? "ranked" : "unranked",
  });
}

function tileMap(ranking) {
  const byCode = new Map((ranking.entries || []).map((e) => [e.agencyCode, e]));
  // Colours span the values shown (lowest red, highest green), so that
  // provinces that all score 90-99% still differ.
  const values = (ranking.entries || []).filter((e) => e.value && e.value.available).map((e) => e.value.value || 0);
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const lowerIsBetter = LOWER_IS_BETTER.has(state.mapBy);
  const fraction = (v) => {
    const f = hi > lo ? (v - lo) / (hi - lo) : 1;
    return lowerIsBetter ? 1 - f : f;
  };
  const tiles = TILE_GRID.map(([code, col, row]) => {
    const e = byCode.get(code);
    const v = e && e.value && e.value.available ? e.value.value || 0 : null;
    const label = e ? shortName(e.agencyName) : code;
    return el("a", {
      href: `#/agency/${code}`, class: "tile-map-cell", "data-code": code,
      style: `grid-column:${col + 1};grid-row:${row + 1};background:${colour(v === null ? null : fraction(v))}`,
      title: e ? `${e.agencyName}: ${v === null ? t("notAssessed") : fmtPercent(v)} (${fmtNumber(e.value.numerator || 0)} / ${fmtNumber(e.value.denominator || 0)})` : code,
    }, label);
  });
  const ends = [fmtPercent(lo), fmtPercent(hi)];
  if (lowerIsBetter) ends.reverse();
  const legend = el("div", { class: "legend" }, ends[0], SCALE.map((c) => el("span", { style: `background:${c}` })), ends[1]);
  return el("section", { class: "card", "aria-label": t("map.title") },
    el("h2", {}, `${t("map.title")}: ${indicatorName(state.mapBy)}`), el("div", { class: "map" }, tiles), legend);
}

// -------------------------------------------------------------- agency ---

async function agencyPage(main, signal, code) {
  code = code || state.agency || homeAgency();
  state.agency = code;
  saveState();
  const body = el("div", {}, el("p", { class: "muted" }, t("loading")));
  const pick = el("input", { id: "agency-code", value: code, size: 10 });
  const controls = el("div", { class: "controls" }, periodPicker(() => load()),
    el("label", {}, t("agency.pick"), pick),
    el("button", { type: "button", onclick: () => { location.hash = `#/agency/${pick.value.trim()}`; } }, t("agency.open")));
  const liveBadge = el("span", { class: "live", hidden: true }, t("live"));
  const title = el("h1", {}, code, " ", liveBadge);
  main.replaceChildren(title, controls, body);
  let watchAbort = null;
  signal.addEventListener("abort", () => watchAbort && watchAbort.abort());

  async function load() {
    if (watchAbort) watchAbort.abort();
    const period = periodParam();
    const scope = `/v1/agencies/${encodeURIComponent(code)}`;
    try {
      const agency = await api(scope, null, { signal });
      const [set, children, series, former] = await Promise.all([
        api(`${scope}/indicators`, { period }, { signal }),
        api(`${scope}/indicators:breakdown`, { period, dimension: "BREAKDOWN_DIMENSION_CHILD_AGENCY" }, { signal }),
        api(`${scope}/indicators:timeSeries`, { period, granularity: "GRANULARITY_MONTH" }, { signal }),
        agency.parentCode ? api("/v1/agencies", { rootCode: agency.parentCode, maxDepth: 1, pageSize: 1000 }, { signal })
          : Promise.resolve({ agencies: [] }),
      ]);
      title.replaceChildren(agency.name, " ", el("span", { class: "muted" }, `(${agency.code})`), " ", liveBadge);
      const merged = (former.agencies || []).filter((a) => a.successorCode === agency.code);
      const tiles = el("div", { class: "tiles", id: "indicator-tiles" });
      drawTiles(tiles, set);
      fill(body,
        crumbs(agency),
        merged.length ? el("p", { class: "lineage" }, `${t("agency.lineageText")} `,
          merged.map((a, i) => [i ? ", " : "", el("a", { href: `#/agency/${a.code}` }, a.name),
            a.validUntil ? ` (→ ${fmtDate(a.validUntil)})` : ""])) : null,
        el("p", {}, el("a", { href: `#/dossiers?agency=${encodeURIComponent(code)}` }, t("agency.dossiers")), " · ",
          el("a", { href: `#/quality/${encodeURIComponent(code)}` }, t("agency.quality"))),
        el("h2", {}, `${t("agency.indicators")} — ${periodText()}`), tiles,
        el("h2", {}, t("agency.children")), childrenTable(children, code),
        el("h2", {}, t("agency.series")), seriesView(series));
      watchAbort = new AbortController();
      liveBadge.hidden = false;
      watch(`${scope}/indicators:watch`, { period }, (fresh) => drawTiles(tiles, fresh), watchAbort.signal)
        .finally(() => { liveBadge.hidden = true; });
    } catch (e) {
      if (!signal.aborted) body.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
    }
  }
  await load();
}

function crumbs(agency) {
  // path: ".VN.P22.P22-HL." style; each code links to its page.
  const codes = (agency.path || "").split(/[./]/).filter(Boolean);
  if (codes.length < 2) return null;
  return el("nav", { class: "crumbs", "aria-label": "breadcrumb" },
    codes.map((c, i) => [i ? " › " : "", i === codes.length - 1 ? c : el("a", { href: `#/agency/${c}` }, c)]));
}

function drawTiles(box, set) {
  box.replaceChildren(...(set.values || []).map((v) => {
    const ratio = isRatio(v.indicatorId);
    return el("div", { class: "tile", "data-indicator": v.indicatorId,
      title: `${fmtNumber(v.numerator || 0)} / ${fmtNumber(v.denominator || 0)}` },
    el("div", { class: "name" }, indicatorName(v.indicatorId)),
    el("div", { class: "value" }, v.available ? (ratio ? fmtPercent(v.value || 0) : fmtNumber(v.value || 0)) : "–"),
    el("div", { class: "ratio" }, v.available ? `${fmtNumber(v.numerator || 0)} / ${fmtNumber(v.denominator || 0)}`
      : (v.unavailableReason || t("notAssessed"))));
  }));
  box.dataset.asOf = set.asOf || "";
}

const TABLE_INDICATORS = ["online_submission_rate", "on_time_rate", "late_rate", "overdue_open", "online_payment_rate",
  "digitisation_rate", "online_service_coverage"];

function childrenTable(breakdown, code) {
  const columns = [
    { label: t("col.code"), value: (r) => r.key },
    { label: t("col.agency"), value: (r) => r.label || r.key, render: (r) => el("a", { href: `#/agency/${r.key}` }, r.label || r.key) },
  ];
  for (const id of TABLE_INDICATORS) {
    const ratio = isRatio(id);
    const v = (r) => (r.values || []).find((x) => x.indicatorId === id) || {};
    columns.push({
      label: indicatorName(id), type: ratio ? "percent" : "number",
      value: (r) => v(r).available ? v(r).value || 0 : null,
      render: (r) => v(r).available ? (ratio ? fmtPercent(v(r).value || 0) : fmtNumber(v(r).value || 0)) : el("span", { class: "na" }, "–"),
      title: (r) => `${fmtNumber(v(r).numerator || 0)} / ${fmtNumber(v(r).denominator || 0)}`,
    });
  }
  return dataTable({ columns, rows: breakdown.rows || [], exportName: `pstrack-${code}-${periodText()}` });
}

// One indicator's monthly series as a line chart, and all of them as a table.
function seriesView(series) {
  const points = series.points || [];
  const box = el("div", { class: "card chart" });
  const select = el("select", { id: "series-indicator", onchange: () => draw() },
    TABLE_INDICATORS.map((id) => el("option", { value: id, selected: id === "on_time_rate" }, indicatorName(id))));
  const area = el("div");
  function draw() {
    const id = select.value;
    const ratio = isRatio(id);
    const values = points.map((p) => (p.values || []).find((v) => v.indicatorId === id) || {});
    const W = 720, H = 220, L = 46, B = 24;
    const ys = values.map((v) => (v.available ? v.value || 0 : null));
    const max = ratio ? 1 : Math.max(1, ...ys.filter((y) => y !== null));
    const x = (i) => L + (points.length <= 1 ? 0 : (i * (W - L - 10)) / (points.length - 1));
    const y = (v) => H - B - (v / max) * (H - B - 10);
    const path = ys.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
    area.replaceChildren(svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": indicatorName(id) },
      svg("line", { class: "axis", x1: L, y1: H - B, x2: W, y2: H - B }),
      svg("line", { class: "axis", x1: L, y1: 10, x2: L, y2: H - B }),
      [0, 0.5, 1].map((f) => svg("text", { x: 4, y: y(f * max) + 4 }, ratio ? fmtPercent(f) : fmtNumber(f * max))),
      points.map((p, i) => svg("text", { x: x(i) - 10, y: H - 6 }, `${(p.period.start || {}).month}/${String((p.period.start || {}).year).slice(2)}`)),
      path.length ? svg("polyline", { class: "line", points: path.join(" ") }) : null,
      ys.map((v, i) => (v === null ? null : svg("circle", { cx: x(i), cy: y(v), r: 3, fill: "#0b5cad" },
        svg("title", {}, `${fmtDate(points[i].period.start)}: ${ratio ? fmtPercent(v) : fmtNumber(v)} (${fmtNumber(values[i].numerator || 0)} / ${fmtNumber(values[i].denominator || 0)})`))))));
  }
  draw();
  box.append(el("label", {}, `${t("indicator")} `, select), area);
  const columns = [{ label: t("month"), value: (p) => fmtDate(p.period.start).slice(0, 7) }];
  for (const id of TABLE_INDICATORS) {
    const v = (p) => (p.values || []).find((x) => x.indicatorId === id) || {};
    columns.push({ label: indicatorName(id), type: isRatio(id) ? "percent" : "number", value: (p) => v(p).available ? v(p).value || 0 : null,
      title: (p) => `${fmtNumber(v(p).numerator || 0)} / ${fmtNumber(v(p).denominator || 0)}` });
  }
  return el("div", {}, box, dataTable({ columns, rows: points, exportName: `pstrack-series-${state.agency}-${periodText()}` }));
}

// ------------------------------------------------------------ dossiers ---

async function dossiersPage(main, signal, params) {
  const agency = el("input", { id: "dossier-agency", value: params.get("agency") || state.agency || homeAgency(), size: 10 });
  const procedure = el("input", { id: "dossier-procedure", value: params.get("procedure") || "", size: 12 });
  const kind = el("select", { id: "dossier-kind" },
    ["overdue", "dueSoon", "all"].map((k) => el("option", { value: k, selected: (params.get("kind") || "overdue") === k }, t(`dossiers.${k}`))));
  const within = el("input", { id: "dossier-within", type: "number", min: 1, max: 60, value: params.get("within") || 3, size: 4 });
  const results = el("div");
  const form = el("form", { class: "controls", onsubmit: (e) => { e.preventDefault(); load(); } },
    el("label", {}, t("dossiers.agency"), agency), el("label", {}, t("dossiers.procedure"), procedure),
    el("label", {}, t("dossiers.kind"), kind), el("label", {}, t("dossiers.within"), within),
    el("button", { type: "submit", class: "primary", id: "dossier-load" }, t("load")));
  main.replaceChildren(el("h1", {}, t("dossiers.title")), form, results);

  async function load() {
    const q = { agencyCode: agency.value.trim(), procedureCode: procedure.value.trim(), pageSize: 200 };
    if (kind.value === "overdue") q.overdueOnly = true;
    if (kind.value === "dueSoon") q.dueWithinWorkingDays = Number(within.value) || 3;
    let rows = [];
    let token = "";
    const more = el("button", { type: "button", id: "dossier-more", hidden: true, onclick: () => page() }, t("dossiers.more"));
    async function page() {
      try {
        const resp = await api("/v1/dossiers", Object.assign({}, q, { pageToken: token }), { signal });
        rows = rows.concat(resp.dossiers || []);
        token = resp.nextPageToken || "";
        more.hidden = !token;
        draw();
      } catch (e) {
        if (!signal.aborted) results.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
      }
    }
    function draw() {
      if (!rows.length) return results.replaceChildren(el("p", {}, t("dossiers.none")));
      const columns = [
        { label: t("col.dossier"), value: (d) => d.code, render: (d) => el("a", { href: `#/dossier/${encodeURIComponent(d.code)}` }, d.code) },
        { label: t("col.procedure"), value: (d) => d.procedureCode },
        { label: t("col.agency"), value: (d) => d.agencyCode },
        { label: t("col.status"), value: (d) => enumText(d.status, "DOSSIER_STATUS_") },
        { label: t("col.received"), value: (d) => (d.receivedTime || "").slice(0, 10) },
        { label: t("col.appointment"), value: (d) => fmtDate(d.reappointedDate || d.computedAppointmentDate) },
        { label: t("col.due"), value: (d) => d.dueTime || "", render: (d) => fmtTime(d.dueTime) },
        { label: t("col.timeliness"), value: (d) => enumText(d.timeliness, "TIMELINESS_") },
      ];
      results.replaceChildren(dataTable({ columns, rows, exportName: `pstrack-dossiers-${kind.value}`,
        rowClass: (d) => /LATE|OVERDUE/.test(d.timeliness || "") ? "late" : undefined }), more);
    }
    await page();
  }
  await load();
}

async function dossierPage(main, signal, code) {
  main.replaceChildren(el("p", { class: "muted" }, t("loading")));
  try {
    const d = await api(`/v1/dossiers/${encodeURIComponent(code)}`, null, { signal });
    const fact = (k, v) => (v === undefined || v === null || v === "" ? [] : [el("dt", {}, k), el("dd", {}, v)]);
    const asides = new Map((d.setAside || []).map((s) => [s.eventId, s]));
    const timeline = el("ol", { class: "timeline", id: "timeline" }, (d.events || []).map((ev) => {
      const kind = Object.keys(ev).find((k) => !["eventId", "dossierCode", "occurredAt", "agencyCode", "procedureCode", "recordedAt"].includes(k) && typeof ev[k] === "object") || "";
      const aside = asides.get(ev.eventId);
      return el("li", { class: aside ? "aside" : undefined }, el("time", {}, fmtTime(ev.occurredAt)),
        el("strong", {}, enumText(kind, "")), " ", el("span", { class: "muted" }, ev.eventId),
        aside ? el("div", { class: "soon" }, t("dossier.aside", aside.rule), ": ", aside.reason) : null);
    }));
    main.replaceChildren(
      el("h1", {}, `${t("dossier.title")} ${d.code}`),
      el("div", { class: "card" }, el("dl", { class: "facts" },
        fact(t("col.agency"), el("a", { href: `#/agency/${d.agencyCode}` }, d.agencyCode)),
        fact(t("col.procedure"), d.procedureCode), fact(t("col.status"), enumText(d.status, "DOSSIER_STATUS_")),
        fact(t("col.received"), fmtTime(d.receivedTime)),
        fact(t("col.appointment"), fmtDate(d.reappointedDate || d.computedAppointmentDate)),
        fact(t("col.due"), fmtTime(d.dueTime)), fact(t("col.finished"), fmtTime(d.finishTime)),
        fact(t("dossier.outcome"), enumText(d.timeliness, "TIMELINESS_")))),
      el("h2", {}, t("dossier.timeline")), timeline);
  } catch (e) {
    if (!signal.aborted) main.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
  }
}

// ------------------------------------------------------------- quality ---

async function qualityPage(main, signal, code) {
  code = code || state.agency || homeAgency();
  const results = el("div");
  main.replaceChildren(el("h1", {}, `${t("quality.title")}: ${code}`),
    el("div", { class: "controls" }, periodPicker(() => load())), results);
  async function load() {
    const scope = `/v1/agencies/${encodeURIComponent(code)}`;
    try {
      const [quality, reconcile] = await Promise.all([
        api(`${scope}/dataQuality`, { period: periodParam() }, { signal }),
        api(`${scope}/reconciliation`, { period: periodParam() }, { signal }),
      ]);
      results.replaceChildren(el("h2", {}, t("quality.title")), flatTable(quality, "agencies", `pstrack-quality-${code}`),
        el("h2", {}, t("quality.reconcile")), flatTable(reconcile, "rows", `pstrack-reconcile-${code}`));
    } catch (e) {
      if (!signal.aborted) results.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
    }
  }
  await load();
}

// The rows of a response as a table, one column per scalar field.
function flatTable(response, field, exportName) {
  const rows = response[field] || Object.values(response).find(Array.isArray) || [];
  if (!rows.length) return el("p", {}, t("dossiers.none"));
  const keys = [];
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v !== "object" && !keys.includes(k)) keys.push(k);
  const columns = keys.map((k) => {
    const numeric = rows.every((r) => r[k] === undefined || typeof r[k] === "number" || /^-?\d+(\.\d+)?$/.test(String(r[k])));
    return { label: k, type: numeric ? "number" : "text", value: (r) => (numeric && r[k] !== undefined ? Number(r[k]) : r[k]) };
  });
  return dataTable({ columns, rows, exportName });
}

// -------------------------------------------------------------- router ---

let pageAbort = null;

function applyText() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
}

async function route() {
  if (pageAbort) pageAbort.abort();
  pageAbort = new AbortController();
  const signal = pageAbort.signal;
  const main = document.getElementById("main");
  const [path, search] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(search || "");
  const parts = (path || "/").split("/").filter(Boolean).map(decodeURIComponent);
  const signedIn = Boolean(apiKey());
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  if (!signedIn) {
    document.getElementById("who").textContent = "";
    return signInPage(main);
  }
  if (!catalog.me) {
    try {
      await loadCatalog();
    } catch (e) {
      sessionStorage.removeItem(KEY);
      return route();
    }
  }
  const me = catalog.me;
  document.getElementById("who").textContent =
    `${me.name || me.principal} · ${(me.role || "").replace("ROLE_", "").toLowerCase()} · ${me.scopeAgencyCode || "VN"}`;
  document.querySelector('#nav a[data-page="country"]').hidden = !national();
  const page = parts[0] || (national() ? "country" : "agency");
  document.querySelectorAll("#nav a").forEach((a) => {
    if (a.dataset.page === page || (page === "dossier" && a.dataset.page === "dossiers")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  document.title = `pstrack — ${t(`nav.${page === "dossier" ? "dossiers" : page}`)}`;
  try {
    if (page === "country") await countryPage(main, signal);
    else if (page === "agency") await agencyPage(main, signal, parts[1]);
    else if (page === "dossiers") await dossiersPage(main, signal, params);
    else if (page === "dossier") await dossierPage(main, signal, parts[1]);
    else if (page === "quality") await qualityPage(main, signal, parts[1]);
    else if (page === "signin") { go("#/"); return; }
    else main.replaceChildren(el("p", {}, "404"));
  } catch (e) {
    if (!signal.aborted) main.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${e.message}`));
  }
  if (!signal.aborted) {
    document.body.dataset.ready = page;
    // When the page became usable, from the navigation's start (for
    // tools/bench_dashboard.py).
    document.body.dataset.readyAt = String(Math.round(performance.now()));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  busy(0);
  const select = document.getElementById("lang");
  select.value = lang;
  select.addEventListener("change", () => {
    lang = select.value;
    sessionStorage.setItem("pstrack.lang", lang);
    applyText();
    route();
  });
  document.getElementById("signout").addEventListener("click", signOut);
  applyText();
  window.addEventListener("hashchange", () => { delete document.body.dataset.ready; route(); });
  route();
});
