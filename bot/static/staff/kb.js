// Trang cơ sở tri thức của cán bộ: tìm và sửa thủ tục, lịch sử phiên bản và khôi phục,
// từ đồng nghĩa, hỏi đáp, tải lên văn bản pháp luật. Không dùng thư viện ngoài.
"use strict";
(async function () {
  const { api, el, when } = Staff;
  const $ = (id) => document.getElementById(id);
  const errorBox = $("error"), notice = $("notice");

  const LABELS = {
    code: "Mã", name: "Tên", aliases: "Tên gọi khác", field: "Lĩnh vực", levels: "Cấp thực hiện",
    applicants: "Đối tượng", competent_agency: "Cơ quan có thẩm quyền", receiving_agency: "Nơi tiếp nhận",
    steps: "Các bước", channels: "Cách nộp, thời hạn, lệ phí", documents: "Giấy tờ", conditions: "Điều kiện",
    result: "Kết quả", legal_basis: "Căn cứ pháp lý", related: "Thủ tục liên quan", source: "Nguồn",
    updated: "Ngày cập nhật", phrase: "Cụm từ", canonical: "Tên gọi chuẩn", question: "Câu hỏi", answer: "Câu trả lời",
    procedures: "Thủ tục", number: "Số hiệu", doc_type: "Loại văn bản", title: "Tên văn bản", issuer: "Cơ quan ban hành",
    issued: "Ngày ban hành", effective: "Ngày hiệu lực", replaced_by: "Thay thế bởi", replaced_from: "Thay thế từ ngày",
    status_note: "Ghi chú hiệu lực", amount: "Số tiền", amount_truc_tiep: "Số tiền khi nộp trực tiếp",
    amount_truc_tuyen: "Số tiền khi nộp trực tuyến", amount_buu_chinh: "Số tiền khi nộp qua bưu chính"
  };
  const KINDS = { procedure: "Thủ tục", synonym: "Từ đồng nghĩa", faq: "Hỏi đáp", legal: "Văn bản", fee: "Lệ phí" };
  const COLLECTION = { procedure: "procedures", synonym: "synonyms", faq: "faq", legal: "legal", fee: "fees" };
  const CHANNELS = [["truc_tiep", "Trực tiếp"], ["truc_tuyen", "Trực tuyến"], ["buu_chinh", "Bưu chính"]];
  const UNITS = [["ngay_lam_viec", "ngày làm việc"], ["ngay", "ngày"], ["gio", "giờ"], ["thang", "tháng"], ["khong_ro", "không rõ"]];

  function say(message) { errorBox.textContent = ""; notice.textContent = message || ""; }
  function fail(e) { notice.textContent = ""; errorBox.textContent = e && e.message ? e.message : String(e); }
  async function guarded(work) { errorBox.textContent = ""; try { return await work(); } catch (e) { fail(e); return null; } }
  function changeMessage(result, what) {
    if (!result.changed) return "Không có gì thay đổi.";
    return what + " (phiên bản " + result.version + "). " + (result.index ? result.index.message : "");
  }
  function options(list, selected) {
    return list.map(([value, label]) => el("option", value === selected ? { value: value, selected: "selected" } : { value: value }, label));
  }
  function lines(text) { return text.split("\n").map((s) => s.trim()).filter(Boolean); }

  // --- tabs ---------------------------------------------------------------------------------
  const tabs = document.querySelectorAll("[data-tab]");
  const loaders = {};
  function showTab(name) {
    tabs.forEach((b) => b.setAttribute("aria-selected", b.dataset.tab === name ? "true" : "false"));
    tabs.forEach((b) => { $("tab-" + b.dataset.tab).hidden = b.dataset.tab !== name; });
    errorBox.textContent = ""; notice.textContent = "";
    if (loaders[name]) guarded(loaders[name]);
  }
  tabs.forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

  // --- showing a change ---------------------------------------------------------------------
  function short(value) {
    if (value === null || value === undefined || value === "") return "(trống)";
    if (typeof value === "string") return value;
    if (Number.isInteger(value)) return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, "."); // 8000 → 8.000, as the server writes it
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join("; ") || "(trống)";
    return JSON.stringify(value);
  }
  const plain = (v) => v === null || v === undefined || typeof v !== "object" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
  function renderChange(change, readable) {
    const before = change.before, after = change.after;
    // Lists of channels, documents or references: the server's sentence («Trực tiếp, 1 ngày làm việc,
    // 15.000 đồng»), the stored values only behind «Chi tiết» — never JSON on the page.
    if (!(plain(before) && plain(after)) && readable) {
      return el("div", { class: "change" }, Staff.changeLines([readable.line], { before: before, after: after }));
    }
    const box = el("div", { class: "change" }, el("b", {}, (LABELS[change.field] || change.field) + ": "));
    const stringList = (v) => Array.isArray(v) && v.every((x) => typeof x === "string");
    if ((before === null || stringList(before)) && (after === null || stringList(after)) && (stringList(before) || stringList(after))) {
      const b = before || [], a = after || [];
      const removed = b.filter((x) => a.indexOf(x) < 0), added = a.filter((x) => b.indexOf(x) < 0);
      removed.forEach((x) => box.append(el("del", {}, x), " "));
      added.forEach((x) => box.append(el("ins", {}, x), " "));
      if (!removed.length && !added.length) box.append("(đổi thứ tự)");
      return box;
    }
    box.append(el("del", {}, short(before)), " → ", el("ins", {}, short(after)));
    return box;
  }
  function describeState(state) {
    return Object.keys(state).filter((k) => state[k] !== "" && state[k] !== null && !(Array.isArray(state[k]) && !state[k].length))
      .map((k) => el("div", { class: "change" }, el("b", {}, (LABELS[k] || k) + ": "), el("ins", {}, short(state[k]))));
  }
  function describeRevision(r) {
    if (r.action === "restore") return [el("div", { class: "muted" }, "Khôi phục mục đã xóa"), ...describeState(r.after)];
    if (r.action === "create") return [el("div", { class: "muted" }, "Tạo mới"), ...(r.kind === "procedure" ? [] : describeState(r.after))];
    if (r.action === "delete") return [el("div", { class: "muted" }, "Đã xóa: " + short(r.before && (r.before.phrase || r.before.question)))];
    const readable = {};
    (r.readable || []).forEach((c) => { readable[c.field] = c; });
    return r.changes.length ? r.changes.map((c) => renderChange(c, readable[c.field])) : [el("span", { class: "muted" }, "Không đổi nội dung")];
  }
  function revertButtons(r, current, done) {
    const collection = COLLECTION[r.kind];
    const base = "/api/v1/kb/" + collection + "/" + encodeURIComponent(r.key) + "/revisions/" + r.id + "/revert";
    const run = (to) => guarded(async () => { const result = await api("POST", base + "?to=" + to); say(changeMessage(result, "Đã khôi phục")); await done(); });
    const buttons = [];
    if (r.before !== null || r.kind === "synonym" || r.kind === "faq") {
      buttons.push(el("button", { class: "act secondary", type: "button", title: "Hoàn tác thay đổi này", onclick: () => run("before") },
        r.before === null ? "Khôi phục (xóa mục này)" : "Khôi phục bản trước"));
    }
    if (current !== null && r.version !== current && r.after !== null) {
      buttons.push(el("button", { class: "act secondary", type: "button", title: "Đưa về đúng phiên bản này", onclick: () => run("after") }, "Khôi phục bản này"));
    }
    return buttons;
  }
  function historyRows(revisions, current, done, withKind) {
    if (!revisions.length) return [el("tr", {}, el("td", { colspan: "4", class: "empty" }, "Chưa có thay đổi nào."))];
    return revisions.map((r) => el("tr", { "data-version": r.version, "data-kind": r.kind },
      el("td", {}, withKind ? KINDS[r.kind] + " #" + r.key : "", withKind ? el("br") : null, "Phiên bản " + r.version),
      el("td", {}, when(r.created_at), el("div", { class: "muted" }, r.actor + (r.reason ? " — " + r.reason : ""))),
      el("td", {}, describeRevision(r)),
      el("td", {}, revertButtons(r, current, done))));
  }
  async function showHistory(container, kind, key, title, done) {
    const revisions = await api("GET", "/api/v1/kb/" + COLLECTION[kind] + "/" + encodeURIComponent(key) + "/revisions");
    const current = revisions.length ? revisions[0].version : null;
    const refresh = async () => { await done(); await showHistory(container, kind, key, title, done); };
    container.replaceChildren(el("div", { class: "history-box" },
      el("h3", {}, "Lịch sử: " + title),
      el("table", {}, el("tbody", {}, historyRows(revisions, current, refresh, false))),
      el("button", { class: "act secondary", type: "button", onclick: () => container.replaceChildren() }, "Đóng")));
    if (container.scrollIntoView) container.scrollIntoView({ block: "nearest" });
  }

  // --- procedures ---------------------------------------------------------------------------
  let current = null; // { procedure, version, ... }

  async function search() {
    const q = $("q").value.trim();
    const rows = await api("GET", "/api/v1/kb/procedures?q=" + encodeURIComponent(q));
    const body = $("results");
    if (!rows.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "4", class: "empty" }, "Không tìm thấy thủ tục nào."))); return; }
    body.replaceChildren(...rows.map((p) => el("tr", { "data-code": p.code, tabindex: "0",
      onclick: () => guarded(() => openProcedure(p.code)),
      onkeydown: (e) => { if (e.key === "Enter") guarded(() => openProcedure(p.code)); } },
      el("td", {}, p.code), el("td", {}, p.name, p.staff_edited ? el("span", { class: "tag staff" }, " đã sửa ") : null),
      el("td", {}, p.field), el("td", {}, String(p.version)))));
  }
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(search); });

  function channelRow(channel) {
    const time = channel.time || {}, fee = channel.fee || {};
    const row = el("tr", {},
      el("td", {}, el("select", { "aria-label": "Hình thức nộp", class: "c-kind" }, options(CHANNELS, channel.kind))),
      el("td", {}, el("input", { type: "number", min: "0", step: "0.5", class: "c-time", "aria-label": "Thời hạn", value: channel.time ? String(time.value) : "" })),
      el("td", {}, el("select", { class: "c-unit", "aria-label": "Đơn vị thời hạn" }, options(UNITS, time.unit || "ngay_lam_viec"))),
      el("td", {}, el("input", { type: "number", min: "0", step: "1000", class: "c-fee", "aria-label": "Lệ phí", value: fee.amount === null || fee.amount === undefined ? "" : String(fee.amount) })),
      el("td", {}, el("input", Object.assign({ type: "checkbox", class: "c-free", "aria-label": "Miễn phí" }, fee.free ? { checked: "checked" } : {}))),
      el("td", {}, el("input", { class: "c-note", "aria-label": "Ghi chú lệ phí", value: fee.note || "" })),
      el("td", {}, el("button", { class: "act secondary", type: "button", onclick: () => row.remove() }, "Bỏ")));
    row.original = channel;
    return row;
  }
  function documentRow(doc) {
    const original = doc.original === true ? "chinh" : doc.original === false ? "sao" : "";
    const row = el("tr", {},
      el("td", {}, el("input", { class: "d-name", "aria-label": "Tên giấy tờ", value: doc.name || "" })),
      el("td", {}, el("input", { type: "number", min: "1", class: "d-copies", "aria-label": "Số bản", value: String(doc.copies || 1) })),
      el("td", {}, el("select", { class: "d-original", "aria-label": "Loại bản" }, options([["", "không nói rõ"], ["chinh", "bản chính"], ["sao", "bản sao"]], original))),
      el("td", {}, el("input", { class: "d-form", "aria-label": "Mẫu đơn", value: doc.form || "" })),
      el("td", {}, el("button", { class: "act secondary", type: "button", onclick: () => row.remove() }, "Bỏ")));
    row.original = doc;
    return row;
  }
  $("add-channel").addEventListener("click", () => $("f-channels").append(channelRow({ kind: "truc_tiep" })));
  $("add-document").addEventListener("click", () => $("f-documents").append(documentRow({ name: "", copies: 1 })));

  function fillForm(detail) {
    const p = detail.procedure;
    $("p-title").textContent = p.name + " (" + p.code + ")";
    $("p-meta").textContent = "Phiên bản " + detail.version + " · nguồn: " + (detail.source || "—") +
      (detail.staff_edited ? " · đã được cán bộ sửa (nhập lại dữ liệu không ghi đè)" : "") + " · cập nhật " + when(detail.updated_at);
    $("f-name").value = p.name;
    $("f-aliases").value = (p.aliases || []).join("\n");
    $("f-field").value = p.field || "";
    $("f-levels").value = (p.levels || []).join(", ");
    $("f-applicants").value = p.applicants || "";
    $("f-competent").value = p.competent_agency || "";
    $("f-receiving").value = p.receiving_agency || "";
    $("f-steps").value = (p.steps || []).join("\n");
    $("f-conditions").value = p.conditions || "";
    $("f-result").value = p.result || "";
    $("f-channels").replaceChildren(...(p.channels || []).map(channelRow));
    $("f-documents").replaceChildren(...(p.documents || []).map(documentRow));
    $("f-json").value = JSON.stringify(p, null, 2);
    $("f-reason").value = "";
  }

  function readForm() {
    let data;
    try { data = JSON.parse($("f-json").value); } catch (e) { throw new Error("Ô JSON không hợp lệ: " + e.message); }
    data.name = $("f-name").value.trim();
    data.aliases = lines($("f-aliases").value);
    data.field = $("f-field").value.trim();
    data.levels = $("f-levels").value.split(",").map((s) => s.trim()).filter(Boolean);
    data.applicants = $("f-applicants").value.trim();
    data.competent_agency = $("f-competent").value.trim();
    data.receiving_agency = $("f-receiving").value.trim();
    data.steps = lines($("f-steps").value);
    data.conditions = $("f-conditions").value.trim();
    data.result = $("f-result").value.trim();
    data.channels = Array.from($("f-channels").children).map((row) => {
      const original = row.original || {};
      const time = row.querySelector(".c-time").value, fee = row.querySelector(".c-fee").value;
      const free = row.querySelector(".c-free").checked, note = row.querySelector(".c-note").value.trim();
      return Object.assign({}, original, {
        kind: row.querySelector(".c-kind").value,
        time: time === "" ? null : Object.assign({ note: "" }, original.time || {}, { value: Number(time), unit: row.querySelector(".c-unit").value }),
        fee: fee === "" && !free && !note ? null : Object.assign({ currency: "VND" }, original.fee || {}, { amount: fee === "" ? null : Number(fee), free: free, note: note })
      });
    });
    data.documents = Array.from($("f-documents").children).map((row) => {
      const original = row.querySelector(".d-original").value;
      return Object.assign({}, row.original || {}, {
        name: row.querySelector(".d-name").value.trim(), copies: Number(row.querySelector(".d-copies").value || 1),
        original: original === "chinh" ? true : original === "sao" ? false : null, form: row.querySelector(".d-form").value.trim()
      });
    }).filter((d) => d.name);
    return data;
  }

  async function loadHistory() {
    const revisions = await api("GET", "/api/v1/kb/procedures/" + encodeURIComponent(current.procedure.code) + "/revisions");
    $("history").replaceChildren(...historyRows(revisions, current.version, () => openProcedure(current.procedure.code), false));
  }
  async function openProcedure(code) {
    current = await api("GET", "/api/v1/kb/procedures/" + encodeURIComponent(code));
    fillForm(current);
    $("editor").hidden = false;
    document.querySelectorAll("#results tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.code === code));
    await loadHistory();
  }
  $("procedure-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const data = readForm();
      $("save").disabled = true;
      $("save-status").textContent = "Đang lưu…";
      try {
        const result = await api("PUT", "/api/v1/kb/procedures/" + encodeURIComponent(current.procedure.code),
          { procedure: data, version: current.version, reason: $("f-reason").value.trim() });
        say(changeMessage(result, "Đã lưu thủ tục"));
        await openProcedure(current.procedure.code);
        await search();
      } finally { $("save").disabled = false; $("save-status").textContent = ""; }
    });
  });

  // --- synonyms -----------------------------------------------------------------------------
  async function loadSynonyms() {
    const rows = await api("GET", "/api/v1/kb/synonyms?q=" + encodeURIComponent($("syn-filter").value.trim()));
    const body = $("syn-rows");
    if (!rows.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "3", class: "empty" }, "Không có từ đồng nghĩa nào."))); return; }
    body.replaceChildren(...rows.map((s) => synonymRow(s)));
  }
  function synonymRow(s) {
    const row = el("tr", { "data-id": s.id });
    const view = () => row.replaceChildren(
      el("td", {}, s.phrase, s.staff_edited ? el("span", { class: "tag staff" }, " đã sửa ") : null), el("td", {}, s.canonical),
      el("td", {},
        el("button", { class: "act secondary", type: "button", onclick: edit }, "Sửa"),
        el("button", { class: "act danger", type: "button", onclick: () => guarded(async () => {
          const result = await api("DELETE", "/api/v1/kb/synonyms/" + s.id); say(changeMessage(result, "Đã xóa «" + s.phrase + "»")); await loadSynonyms(); }) }, "Xóa"),
        el("button", { class: "act secondary", type: "button", onclick: () => guarded(() => showHistory($("syn-history"), "synonym", s.id, "«" + s.phrase + "»", loadSynonyms)) }, "Lịch sử")));
    const edit = () => {
      const phrase = el("input", { value: s.phrase, "aria-label": "Cụm từ" }), canonical = el("input", { value: s.canonical, "aria-label": "Tên gọi chuẩn" });
      row.replaceChildren(el("td", {}, phrase), el("td", {}, canonical), el("td", {},
        el("button", { class: "act", type: "button", onclick: () => guarded(async () => {
          const result = await api("PUT", "/api/v1/kb/synonyms/" + s.id, { phrase: phrase.value, canonical: canonical.value });
          say(changeMessage(result, "Đã lưu")); await loadSynonyms(); }) }, "Lưu"),
        el("button", { class: "act secondary", type: "button", onclick: view }, "Hủy")));
    };
    view();
    return row;
  }
  $("syn-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const result = await api("POST", "/api/v1/kb/synonyms", { phrase: $("syn-phrase").value, canonical: $("syn-canonical").value });
      say(changeMessage(result, "Đã thêm «" + result.current.phrase + "»"));
      $("syn-phrase").value = ""; $("syn-canonical").value = "";
      await loadSynonyms();
    });
  });
  let synTimer = null;
  $("syn-filter").addEventListener("input", () => { clearTimeout(synTimer); synTimer = setTimeout(() => guarded(loadSynonyms), 250); });
  loaders.synonyms = loadSynonyms;

  // --- FAQ ----------------------------------------------------------------------------------
  const faqProcedures = ProcedurePicker.create({ label: "Thủ tục liên quan", multiple: true, id: "faq-procedures-input" });
  $("faq-procedures").replaceWith(faqProcedures.element);
  faqProcedures.element.id = "faq-procedures";
  async function loadFaq() {
    const rows = await api("GET", "/api/v1/kb/faq?q=" + encodeURIComponent($("faq-filter").value.trim()));
    const body = $("faq-rows");
    if (!rows.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "4", class: "empty" }, "Chưa có câu hỏi nào."))); return; }
    body.replaceChildren(...rows.map(faqRow));
  }
  function faqRow(f) {
    const row = el("tr", { "data-id": f.id });
    const view = () => row.replaceChildren(
      el("td", {}, f.question), el("td", {}, f.answer), el("td", {}, f.procedures.join(", ")),
      el("td", {},
        el("button", { class: "act secondary", type: "button", onclick: edit }, "Sửa"),
        el("button", { class: "act danger", type: "button", onclick: () => guarded(async () => {
          const result = await api("DELETE", "/api/v1/kb/faq/" + f.id); say(changeMessage(result, "Đã xóa câu hỏi")); await loadFaq(); }) }, "Xóa"),
        el("button", { class: "act secondary", type: "button", onclick: () => guarded(() => showHistory($("faq-history"), "faq", f.id, "«" + f.question + "»", loadFaq)) }, "Lịch sử")));
    const edit = () => {
      const question = el("input", { value: f.question, "aria-label": "Câu hỏi" });
      const answer = el("textarea", { rows: "3", "aria-label": "Câu trả lời" }, f.answer);
      const procedures = ProcedurePicker.create({ label: "Thủ tục liên quan", multiple: true });
      procedures.set(f.procedures);
      row.replaceChildren(el("td", {}, question), el("td", {}, answer), el("td", {}, procedures.element), el("td", {},
        el("button", { class: "act", type: "button", onclick: () => guarded(async () => {
          const result = await api("PUT", "/api/v1/kb/faq/" + f.id, { question: question.value, answer: answer.value, procedures: procedures.values() });
          say(changeMessage(result, "Đã lưu câu hỏi")); await loadFaq(); }) }, "Lưu"),
        el("button", { class: "act secondary", type: "button", onclick: view }, "Hủy")));
    };
    view();
    return row;
  }
  $("faq-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const result = await api("POST", "/api/v1/kb/faq", { question: $("faq-question").value, answer: $("faq-answer").value,
        procedures: faqProcedures.values() });
      say(changeMessage(result, "Đã thêm câu hỏi"));
      $("faq-question").value = ""; $("faq-answer").value = ""; faqProcedures.clear();
      await loadFaq();
    });
  });
  let faqTimer = null;
  $("faq-filter").addEventListener("input", () => { clearTimeout(faqTimer); faqTimer = setTimeout(() => guarded(loadFaq), 250); });
  loaders.faq = loadFaq;

  // --- legal documents ----------------------------------------------------------------------
  const LEGAL_FIELDS = ["title", "doc_type", "issuer", "issued", "effective", "replaced_by", "replaced_from", "status_note"];
  async function loadLegal() {
    const rows = await api("GET", "/api/v1/kb/legal");
    const body = $("legal-rows");
    if (!rows.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty" }, "Chưa có văn bản nào."))); return; }
    body.replaceChildren(...rows.map((d) => el("tr", { "data-id": d.id },
      el("td", {}, d.number), el("td", {}, d.doc_type ? d.doc_type + " — " : "", d.title, d.status_note ? el("div", { class: "muted" }, d.status_note) : null),
      el("td", {}, (d.issued || "—") + " / " + (d.effective || "—")),
      el("td", {}, d.replaced_by ? d.replaced_by + (d.replaced_from ? " từ " + d.replaced_from : "") : "—"),
      el("td", { class: "num" }, String(d.articles)),
      el("td", {},
        el("button", { class: "act secondary", type: "button", onclick: () => editLegal(d) }, "Sửa thông tin"),
        el("button", { class: "act secondary", type: "button", onclick: () => guarded(() => showHistory($("legal-history"), "legal", d.id, d.number, loadLegal)) }, "Lịch sử")))));
  }
  function editLegal(d) {
    const inputs = {};
    const fields = LEGAL_FIELDS.map((name) => {
      const type = ["issued", "effective", "replaced_from"].indexOf(name) >= 0 ? "date" : "text";
      inputs[name] = el("input", { id: "legal-" + name, type: type, value: d[name] || "" });
      return el("div", {}, el("label", { for: "legal-" + name }, LABELS[name]), inputs[name]);
    });
    const form = el("form", { class: "history-box" }, el("h3", {}, "Thông tin văn bản " + d.number), el("div", { class: "grid2" }, fields),
      el("p", { class: "row" }, el("button", { class: "primary", type: "submit" }, "Lưu"),
        el("button", { class: "act secondary", type: "button", onclick: () => $("legal-edit").replaceChildren() }, "Hủy")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      guarded(async () => {
        const body = {};
        LEGAL_FIELDS.forEach((name) => { body[name] = inputs[name].value; });
        const result = await api("PUT", "/api/v1/kb/legal/" + d.id, body);
        say(changeMessage(result, "Đã lưu thông tin văn bản"));
        $("legal-edit").replaceChildren();
        await loadLegal();
      });
    });
    $("legal-edit").replaceChildren(form);
  }
  $("legal-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const file = $("legal-file").files[0];
    const report = $("legal-report");
    if (!file) { report.replaceChildren(el("div", { class: "report error" }, "Hãy chọn một tệp.")); return; }
    guarded(async () => {
      const form = new FormData();
      form.append("file", file);
      $("legal-upload").disabled = true;
      report.replaceChildren(el("div", { class: "muted" }, "Đang đọc và phân tích «" + file.name + "»…"));
      try {
        const response = await fetch("/api/v1/kb/legal/upload", { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRF-Token": Staff.csrf() } });
        let data = null;
        try { data = await response.json(); } catch (err) { data = null; }
        if (!response.ok) {
          const detail = data && typeof data.detail === "string" ? data.detail : "Không tải lên được (mã " + response.status + ").";
          report.replaceChildren(el("div", { class: "report error", role: "alert" }, el("b", {}, "Chưa lưu: "), detail));
          return;
        }
        report.replaceChildren(el("div", { class: "report ok" }, el("b", {}, data.message), el("div", {}, data.index.message)));
        $("legal-file").value = "";
        await loadLegal();
      } finally { $("legal-upload").disabled = false; }
    });
  });
  loaders.legal = loadLegal;

  // --- the center's fee table ---------------------------------------------------------------
  const FEE_KINDS = ["truc_tiep", "truc_tuyen", "buu_chinh"];
  const dong = (n) => short(n);
  async function loadFees() {
    const rows = await api("GET", "/api/v1/kb/fees");
    const body = $("fee-rows");
    if (!rows.length) { body.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "empty" }, "Bảng phí chưa có mục nào."))); return; }
    body.replaceChildren(...rows.map(feeRow));
  }
  function feeRow(f) {
    const row = el("tr", { "data-key": f.key });
    const head = () => [
      el("td", {}, f.procedure, el("br"), el("span", { class: "muted" }, f.procedure_name || "")),
      el("td", {}, f.name, f.staff_edited ? el("span", { class: "tag staff" }, " đã sửa ") : null,
        f.condition ? el("div", { class: "muted" }, f.condition) : null, f.basis ? el("div", { class: "muted" }, f.basis) : null)];
    const view = () => row.replaceChildren(...head(),
      el("td", { class: "num fee-amount" }, dong(f.amount)),
      ...FEE_KINDS.map((k) => el("td", { class: "num fee-" + k }, k in f.amounts ? dong(f.amounts[k]) : "như trên")),
      el("td", {},
        el("button", { class: "act secondary", type: "button", onclick: edit }, "Sửa"),
        el("button", { class: "act secondary", type: "button", onclick: () => guarded(() => showHistory($("fee-history"), "fee", f.key, f.name + " (" + f.procedure + ")", loadFees)) }, "Lịch sử")));
    const edit = () => {
      const box = (value, label) => el("input", { type: "text", inputmode: "numeric", size: "9", "aria-label": label, value: value === undefined ? "" : String(value) });
      const amount = box(f.amount, "Số tiền (đồng)");
      const perKind = {};
      FEE_KINDS.forEach((k, i) => { perKind[k] = box(f.amounts[k], "Số tiền khi nộp " + ["trực tiếp", "trực tuyến", "qua bưu chính"][i]); });
      const reason = el("input", { class: "fee-reason", maxlength: "500", "aria-label": "Lý do sửa", placeholder: "lý do (vd. nghị quyết HĐND tỉnh số …)" });
      row.replaceChildren(...head(), el("td", {}, amount), ...FEE_KINDS.map((k) => el("td", {}, perKind[k])), el("td", {}, reason,
        el("button", { class: "act", type: "button", onclick: () => guarded(async () => {
          const amounts = {};
          FEE_KINDS.forEach((k) => { amounts[k] = perKind[k].value.trim(); });
          const result = await api("PUT", "/api/v1/kb/fees/" + encodeURIComponent(f.key),
            { amount: amount.value.trim(), amounts: amounts, version: f.version, reason: reason.value.trim() });
          say(changeMessage(result, "Đã lưu mức phí «" + f.name + "»")); await loadFees(); }) }, "Lưu"),
        el("button", { class: "act secondary", type: "button", onclick: view }, "Hủy")));
      amount.focus();
    };
    view();
    return row;
  }
  loaders.fees = loadFees;

  // --- recent changes -----------------------------------------------------------------------
  async function loadRecent() {
    const revisions = await api("GET", "/api/v1/kb/history?limit=100");
    $("recent-rows").replaceChildren(...historyRows(revisions, null, loadRecent, true));
  }
  loaders.recent = loadRecent;

  await Staff.header("/staff/kb");
  const wanted = new URLSearchParams(location.search).get("code");
  if (wanted) $("q").value = wanted;
  await guarded(search);
  if (wanted) await guarded(() => openProcedure(wanted));
})();
