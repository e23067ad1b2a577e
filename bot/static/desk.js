// Bàn làm việc cán bộ: tiếp nhận hồ sơ mới tại quầy, danh sách hồ sơ, chi tiết, chuyển tình trạng, đính kèm, in giấy tiếp nhận.
// Data from the server is always put in the page with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const NOTE_STATUSES = new Set(["supplement_requested", "rejected"]);
const SUBMISSION = { truc_tiep: "Trực tiếp", truc_tuyen: "Trực tuyến", buu_chinh: "Dịch vụ bưu chính" };
const CHANNELS = { counter: "Tại quầy", kiosk: "Kiosk", web: "Trang web", widget: "Trang web", telegram: "Telegram",
  zalo: "Zalo", portal: "Cổng Dịch vụ công" };
const DATE_TYPES = new Set(["date", "birth_date", "birth_date_or_year"]);
let current = null;      // the dossier shown
let pendingStatus = null; // the status waiting for its note

// --- who is working (the staff sign-in cookie goes with every request), the staff menu ----------
const LOGIN = "/staff/login?next=" + encodeURIComponent("/staff/dossiers");

async function loadMe() {
  let me;
  try {
    me = await Staff.header("/staff/dossiers");
  } catch (err) { return; /* signed out: Staff.api already sends the page to the sign-in page */ }
  if (me.role === "admin") loadCentres();  // an admin files at the centre they choose; staff at their own
}

async function loadCentres() {
  let centres;
  try {
    centres = await api("/api/v1/admin/centers");
  } catch (err) { return; }
  const select = $("f-center");
  const chosen = select.value;
  select.replaceChildren(...centres.map((c) => {
    const option = el("option", c.name + (c.agency_code ? ` (${c.agency_code})` : ""));
    option.value = c.code;
    return option;
  }));
  if (chosen) select.value = chosen;
  $("f-center-field").hidden = centres.length < 2;
}

// --- messages and formatting ---------------------------------------------------------------
function show(text, ok) {
  const box = $("message");
  box.textContent = text;
  box.className = ok ? "message ok" : "message";
  box.hidden = !text;
  if (ok) setTimeout(() => { if (box.textContent === text) box.hidden = true; }, 4000);
}

// Dates dd/mm/yyyy; moments dd/mm/yyyy HH:MM, in Vietnam time (staff.js), whatever the computer's clock zone.
function day(iso) {
  return iso ? Staff.day(iso) : "—";
}

function moment(iso) {
  return iso ? Staff.when(iso) : "—";
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fields(dl, pairs) {
  dl.replaceChildren();
  for (const [label, value] of pairs) {
    dl.append(el("dt", label), el("dd", value === undefined || value === null || value === "" ? "—" : value));
  }
}

// --- the electronic forms' labels: a declaration shows «Họ, chữ đệm và tên», never birth_child_name ----
let formsLoaded = null;
function loadForms() {
  if (!formsLoaded) formsLoaded = api("/api/v1/kb/forms").catch(() => { formsLoaded = null; return []; });
  return formsLoaded;
}

function shownValue(value, type) {
  if (value === undefined || value === null || value === "") return "—";
  if (typeof value === "boolean") return value ? "Có" : "Không";
  if (Array.isArray(value)) return value.map((v) => shownValue(v, type)).join("; ");
  if (typeof value === "object") return Object.values(value).map((v) => shownValue(v)).join(", ");
  const text = String(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) || (DATE_TYPES.has(type) && /^\d{4}-\d{2}-\d{2}T/.test(text))) {
    return day(text.slice(0, 10));
  }
  return text;
}

function renderValues(box, values, forms, formId) {
  box.replaceChildren();
  const entries = Object.entries(values || {});
  if (!entries.length) {
    box.append(el("p", "Hồ sơ này không khai bằng tờ khai điện tử.", "hint"));
    return;
  }
  const left = new Map(entries);
  const form = forms.find((f) => f.id === formId)
    || forms.find((f) => f.sections.some((sec) => sec.fields.some((fld) => left.has(fld.name))));
  for (const section of form ? form.sections : []) {
    const pairs = section.fields.filter((f) => left.has(f.name)).map((f) => {
      const value = left.get(f.name);
      left.delete(f.name);
      return [f.label, shownValue(value, f.type)];
    });
    if (!pairs.length) continue;
    const dl = el("dl", undefined, "fields");
    fields(dl, pairs);
    box.append(el("h4", section.title, "section"), dl);
  }
  if (left.size) {  // values of fields no form names any more: shown, under a plain heading
    const dl = el("dl", undefined, "fields");
    fields(dl, [...left].map(([k, v]) => [k.replace(/_/g, " "), shownValue(v)]));
    box.append(el("h4", "Thông tin khác", "section"), dl);
  }
}

// --- talking to the server ---------------------------------------------------------------
// Mã chống giả mạo (CSRF): cookie motcua_csrf đặt lúc đăng nhập, gửi lại trong X-CSRF-Token.
function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("motcua_csrf="));
  return found ? decodeURIComponent(found.slice("motcua_csrf=".length)) : "";
}

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin" }, options || {});
  if (opts.method && opts.method !== "GET") opts.headers = Object.assign({ "X-CSRF-Token": csrfToken() }, opts.headers || {});
  let response;
  try {
    response = await fetch(path, opts);
  } catch (err) {
    throw new Error("Không kết nối được máy chủ. Xin kiểm tra mạng rồi thử lại.");
  }
  if (response.status === 401) {
    window.location = LOGIN;
    throw new Error("Phiên đăng nhập đã hết. Xin đăng nhập lại.");
  }
  if (!response.ok) {
    let detail = `Lỗi ${response.status}`;
    try {
      const body = await response.json();
      if (typeof body.detail === "string") detail = body.detail;
      else if (Array.isArray(body.detail)) detail = "Dữ liệu gửi lên chưa đúng: " + body.detail.map((d) => d.msg).join("; ");
    } catch (err) { /* not JSON */ }
    throw new Error(detail);
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("application/json") ? response.json() : response.blob();
}

const path = (code) => `/api/v1/staff/dossiers/${encodeURIComponent(code)}`;

// --- the list --------------------------------------------------------------------------------
async function loadList() {
  const params = new URLSearchParams();
  if ($("status-filter").value) params.set("status", $("status-filter").value);
  if ($("search").value.trim()) params.set("q", $("search").value.trim());
  let rows;
  try {
    rows = await api(`/api/v1/staff/dossiers?${params}`);
  } catch (err) {
    show(err.message);
    return;
  }
  const body = $("dossiers").tBodies[0];
  body.replaceChildren();
  for (const d of rows) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.code = d.code;
    if (current && current.code === d.code) tr.classList.add("selected");
    const due = el("td", day(d.due_date));
    if (d.overdue) due.append(el("span", "Quá hạn", "overdue"));
    const status = el("td");
    status.append(el("span", d.status_label, `badge ${d.status}`));
    tr.append(el("td", d.code, "code"), el("td", d.procedure_name), el("td", d.applicant_name),
      el("td", moment(d.received_at)), due, status);
    const heads = [...$("dossiers").tHead.rows[0].cells].map((th) => th.textContent);
    [...tr.cells].forEach((td, i) => { td.dataset.label = heads[i]; });
    tr.addEventListener("click", () => openDossier(d.code));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openDossier(d.code); } });
    body.append(tr);
  }
  $("list-empty").hidden = rows.length > 0;
}

$("filters").addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
$("status-filter").addEventListener("change", loadList);

// --- one dossier ----------------------------------------------------------------------------
async function openDossier(code) {
  try {
    const [d, forms] = await Promise.all([api(path(code)), loadForms()]);
    render(d, forms);
  } catch (err) {
    show(err.message);
  }
}

function render(d, forms) {
  current = d;
  $("detail").hidden = false;
  $("d-code").textContent = `Hồ sơ ${d.code}`;
  $("d-status").textContent = d.status_label;
  $("d-status").className = `badge ${d.status}`;
  $("d-overdue").hidden = !d.overdue;
  fields($("d-fields"), [
    ["Thủ tục", `${d.procedure_name} (${d.procedure_code})`],
    ["Người nộp", d.applicant_name],
    ["Số căn cước", d.applicant_cccd],
    ["Số điện thoại", d.applicant_phone],
    ["Hình thức nộp", SUBMISSION[d.submission_kind] || d.submission_kind],
    ["Kênh", CHANNELS[d.channel] || d.channel],
    ["Tiếp nhận lúc", moment(d.received_at)],
    ["Thời hạn", d.processing_time],
    ["Hẹn trả kết quả", day(d.due_date)],
    ["Nội dung cần bổ sung", d.supplement_note],
  ]);
  renderValues($("d-values"), d.values, forms || [], d.form_id);

  const actions = $("d-actions");
  actions.replaceChildren();
  for (const next of d.next_statuses) {
    const button = el("button", next.label, next.status === "rejected" ? "" : "primary");
    button.type = "button";
    button.addEventListener("click", () => choose(next));
    actions.append(button);
  }
  if (!d.next_statuses.length) actions.append(el("p", "Hồ sơ đã kết thúc, không còn bước xử lý nào.", "hint"));
  const statuses = $("note-status");
  statuses.replaceChildren(...d.next_statuses.map((next) => {
    const option = el("option", next.label);
    option.value = next.status;
    return option;
  }));
  $("note-open").hidden = !d.next_statuses.length;
  hideNote();

  const attachments = $("d-attachments");
  attachments.replaceChildren();
  for (const a of d.attachments) {
    const li = el("li");
    const link = el("button", `${a.label} — ${a.pages} trang, ${(a.size / 1024).toFixed(0)} KB`);
    link.type = "button";
    link.title = `SHA-256: ${a.sha256}`;
    link.addEventListener("click", () => openPdf(`${path(d.code)}/attachments/${a.id}`));
    li.append(link, el("span", ` nhận lúc ${moment(a.created_at)}`, "hint"));
    attachments.append(li);
  }
  if (!d.attachments.length) attachments.append(el("li", "Chưa có giấy tờ đính kèm.", "hint"));

  const history = $("d-history");
  history.replaceChildren();
  for (const h of d.history) {
    const who = h.actor === "assistant" ? "trợ lý" : h.actor === "citizen" ? "người dân" : h.actor.replace(/^staff:/, "");
    history.append(el("li", `${moment(h.at)} — ${h.status_label} (${who})${h.note ? ": " + h.note : ""}`));
  }

  const outbox = $("d-outbox");
  outbox.replaceChildren();
  for (const o of d.outbox) {
    const what = o.event === "dossier.created" ? "Hồ sơ mới" : o.event === "dossier.payment_changed" ? "Lệ phí" : "Chuyển tình trạng";
    const state = o.delivered_at ? `đã gửi lúc ${moment(o.delivered_at)}`
      : o.attempts ? `chưa gửi được (${o.attempts} lần thử; ${o.last_error})` : "đang chờ gửi";
    outbox.append(el("li", `${o.position}. ${what}: ${state}`, o.delivered_at ? "delivered" : "waiting"));
  }
  for (const tr of $("dossiers").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.code === d.code);
  if (window.DeskPayment) window.DeskPayment.show(d.code); // desk-payment.js: the fee block
}

// The note form stays hidden until asked for: «Thêm ghi chú», or a step that needs a note
// (a supplement request or a refusal says what and why to the citizen).
function choose(next) {
  if (NOTE_STATUSES.has(next.status)) {
    showNote(next.status);
    return;
  }
  change(next.status, "");
}

function showNote(status) {
  const select = $("note-status");
  if (status) select.value = status;
  pendingStatus = select.value;
  $("note-for").textContent = select.selectedOptions.length ? select.selectedOptions[0].textContent : "";
  $("note").value = "";
  $("note-form").hidden = false;
  $("note-open").setAttribute("aria-expanded", "true");
  $("note").focus();
}

function hideNote() {
  pendingStatus = null;
  $("note-form").hidden = true;
  $("note-open").setAttribute("aria-expanded", "false");
}

$("note-open").addEventListener("click", () => { if ($("note-form").hidden) showNote(""); else hideNote(); });
$("note-status").addEventListener("change", () => {
  pendingStatus = $("note-status").value;
  $("note-for").textContent = $("note-status").selectedOptions[0].textContent;
});
$("note-cancel").addEventListener("click", hideNote);
$("note-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const note = $("note").value.trim();
  if (!note) {
    show("Xin ghi rõ nội dung ghi chú (với yêu cầu bổ sung: cần bổ sung gì; với từ chối: lý do), để báo cho người dân.");
    $("note").focus();
    return;
  }
  change(pendingStatus, note);
});

async function change(status, note) {
  if (!current) return;
  try {
    const d = await api(`${path(current.code)}/status`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ status, note }),
    });
    render(d, await loadForms());
    show(`Đã chuyển hồ sơ ${d.code} sang «${d.status_label}».`, true);
    loadList();
    loadSync();
  } catch (err) {
    show(err.message);
  }
}

$("upload-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  const files = $("upload-files").files;
  if (!files.length) {
    show("Xin chọn tệp ảnh (JPEG, PNG) hoặc PDF để đính kèm.");
    return;
  }
  for (const f of files) {
    if (f.size > 10 * 1024 * 1024) {
      show(`Tệp «${f.name}» lớn hơn 10 MB. Xin quét lại với độ phân giải thấp hơn.`);
      return;
    }
  }
  const form = new FormData();
  form.append("label", $("upload-label").value.trim());
  for (const f of files) form.append("files", f, f.name);
  try {
    await api(`${path(current.code)}/attachments`, { method: "POST", body: form });
    $("upload-files").value = "";
    $("upload-label").value = "";
    show("Đã đính kèm giấy tờ.", true);
    openDossier(current.code);
  } catch (err) {
    show(err.message);
  }
});

async function openPdf(url, options) {
  const win = window.open("", "_blank");
  try {
    const blob = await api(url, options);
    const objectUrl = URL.createObjectURL(blob);
    if (win) win.location = objectUrl; else window.location = objectUrl;
    setTimeout(() => URL.revokeObjectURL(objectUrl), 60000);
  } catch (err) {
    if (win) win.close();
    show(err.message);
  }
}

// In giấy tiếp nhận = cấp mã tra cứu mới (mã cũ hết hiệu lực): chỉ máy chủ biết mã lúc tạo ra nó.
$("print-receipt").addEventListener("click", () => {
  if (current) openPdf(`${path(current.code)}/receipt.pdf`, { method: "POST" });
});

$("revoke-links").addEventListener("click", async () => {
  if (!current) return;
  if (!window.confirm("Thu hồi mọi đường dẫn tải tờ khai của hồ sơ này? Người dân sẽ không tải được nữa.")) return;
  try {
    const result = await api(`${path(current.code)}/links/revoke`, { method: "POST" });
    show(result.message, "ok");
  } catch (err) {
    show(err.message);
  }
});

// --- filing a dossier for a citizen at the counter ---------------------------------------------
// Mỗi lần mở biểu mẫu có một mã riêng (Idempotency-Key): bấm hai lần, hay gửi lại sau khi mạng chập
// chờn, máy chủ trả lại đúng hồ sơ đã tạo bằng mã đó — không bao giờ có hồ sơ thứ hai.
const picker = ProcedurePicker.create({ label: "Thủ tục", id: "f-procedure" });
$("f-procedure-box").append(picker.element);
let filingKey = "";   // the opened form's key; a new one each time the form opens
let filing = null;    // the filing request on its way

function newFilingKey() {
  // crypto.getRandomValues works on a plain-http counter computer too (randomUUID needs https)
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return "desk-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function openFiling() {
  filingKey = newFilingKey();
  picker.clear();
  for (const id of ["f-name", "f-cccd", "f-phone"]) $(id).value = "";
  $("file-form").hidden = false;
  $("file-open").setAttribute("aria-expanded", "true");
  $("filed").hidden = true;
  picker.focus();
}

function closeFiling() {
  filingKey = "";
  $("file-form").hidden = true;
  $("file-open").setAttribute("aria-expanded", "false");
}

$("file-open").addEventListener("click", () => { if ($("file-form").hidden) openFiling(); else closeFiling(); });
$("file-cancel").addEventListener("click", closeFiling);
$("file-form").addEventListener("submit", (e) => { e.preventDefault(); submitFiling(); });

function filingBody() {
  return {
    procedure_code: picker.value(),
    applicant_name: $("f-name").value.trim(),
    applicant_cccd: $("f-cccd").value.trim(),
    applicant_phone: $("f-phone").value.trim(),
    submission_kind: "truc_tiep",
    center: $("f-center-field").hidden ? "" : $("f-center").value,
  };
}

function submitFiling() {
  if (filing) return filing;  // a second click while the first is on its way: nothing more is sent
  const body = filingBody();
  if (!body.procedure_code) {
    show("Xin chọn thủ tục trong danh sách gợi ý (gõ tên hoặc mã thủ tục).");
    picker.focus();
    return null;
  }
  if (!body.applicant_name) {
    show("Xin nhập họ và tên người nộp.");
    $("f-name").focus();
    return null;
  }
  if (!body.applicant_cccd && !body.applicant_phone) {
    show("Xin nhập số căn cước hoặc số điện thoại của người nộp (ít nhất một).");
    $("f-cccd").focus();
    return null;
  }
  $("file-submit").disabled = true;
  filing = fileDossier(body).finally(() => { filing = null; $("file-submit").disabled = false; });
  return filing;
}

async function fileDossier(body) {
  let d;
  try {
    // the same key on every try of this form: a retry after a lost answer gets the dossier already filed
    d = await api("/api/v1/staff/dossiers", {
      method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": filingKey },
      body: JSON.stringify(body),
    });
  } catch (err) {
    show(err.message + " Bấm «Tiếp nhận hồ sơ» lần nữa để gửi lại: không tạo thêm hồ sơ.");
    return;
  }
  closeFiling();
  showFiled(d);
  loadList();
  loadSync();
  openDossier(d.code);
}

function showFiled(d) {
  const box = $("filed");
  const lines = [el("p", `Đã tiếp nhận hồ sơ ${d.code} — ${d.procedure_name}.`)];
  if (d.lookup_pin) {
    const pin = el("p", "Mã tra cứu đưa cho người dân: ");
    pin.append(el("span", d.lookup_pin, "pin"));
    lines.push(pin);
  } else {
    lines.push(el("p", "Mã tra cứu đã cấp lúc tiếp nhận. Nếu người dân chưa nhận được, bấm «In giấy tiếp nhận hồ sơ» để cấp mã mới.", "hint"));
  }
  lines.push(el("p", d.due_date ? `Hẹn trả kết quả: ${day(d.due_date)}.` : "Thủ tục không ghi thời hạn: cán bộ hẹn ngày trả kết quả."));
  box.replaceChildren(...lines);
  box.dataset.code = d.code;
  box.hidden = false;
}

// --- portal sync -----------------------------------------------------------------------------
async function loadSync() {
  const line = $("sync");
  try {
    const s = await api("/api/v1/staff/dossiers/sync");
    line.textContent = s.portal_configured ? s.message
      : `Chưa cấu hình địa chỉ Cổng Dịch vụ công (MOTCUA_PORTAL_URL). ${s.pending} thông tin đang chờ gửi.`;
    line.className = s.pending ? "sync pending" : "sync";
  } catch (err) {
    line.textContent = err.message;
    line.className = "sync pending";
  }
}

function refreshAll() {
  loadMe();
  loadList();
  loadSync();
  if (current) openDossier(current.code);
}

refreshAll();
setInterval(() => { loadList(); loadSync(); }, 30000);
