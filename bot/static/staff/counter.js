// Trang gọi số tại quầy: chọn quầy (nhớ trong trình duyệt), gọi số tiếp, gọi lại, bắt đầu, xong,
// vắng mặt, chuyển dịch vụ, tạm dừng; danh sách chờ tự cập nhật; phím tắt N R S F X T P.
"use strict";
(function () {
  const { api, el } = Staff;
  const REMEMBER = "motcua.counter";
  const REFRESH_MS = 4000;
  const $ = (id) => document.getElementById(id);
  let number = null;   // the chosen counter
  let desk = null;     // the last answer of /api/v1/staff/counters/{number}
  let busy = false;    // an operation is on its way: no second one meanwhile

  function say(text) { $("notice").textContent = text || ""; if (text) $("error").textContent = ""; }
  function fail(text) { $("error").textContent = text || ""; if (text) $("notice").textContent = ""; }

  function remembered() {
    try { return window.localStorage.getItem(REMEMBER); } catch (e) { return null; }
  }
  function remember(value) {
    try { window.localStorage.setItem(REMEMBER, String(value)); } catch (e) { /* private mode: not kept */ }
  }

  function minutes(n) { return n < 1 ? "dưới 1 phút" : n + " phút"; }

  // What each action needs, and why it cannot run now (null: it can).
  function refusal(action) {
    if (!desk) return "Xin chọn quầy trước.";
    const current = desk.current;
    const called = current && current.status === "called";
    switch (action) {
      case "call-next":
        return desk.status === "paused" ? "Quầy đang tạm dừng; bấm «Mở lại quầy» (P) trước khi gọi số." : null;
      case "recall": case "no-show": case "start":
        if (!current) return "Quầy chưa mời số nào.";
        return called ? null : "Số " + current.label + " đang được phục vụ; thao tác này chỉ dùng khi số đang được mời.";
      case "finish": case "transfer":
        return current ? null : "Quầy không có số nào đang phục vụ.";
      default:
        return null;
    }
  }

  function render() {
    const d = desk;
    $("desk").hidden = !d;
    if (!d) return;
    $("counter-status").textContent = d.status === "paused" ? "Tạm dừng" : "Đang mở";
    $("counter-status").className = "badge " + (d.status === "paused" ? "paused" : "open");
    $("pause").replaceChildren(d.status === "paused" ? "Mở lại quầy " : "Tạm dừng quầy ", el("kbd", {}, "P"));
    const c = d.current;
    $("current-label").textContent = c ? c.label : "—";
    $("current-label").className = "label" + (c ? " " + c.status : "");
    $("current-detail").textContent = c
      ? c.service_name + " · " + c.status_text + (c.priority_name ? " · Ưu tiên: " + c.priority_name : "")
        + " · lấy số lúc " + c.issued_time + ", chờ " + minutes(c.waited_min)
        + (c.recalls ? " · đã gọi lại " + c.recalls + " lần" : "")
      : "Chưa có số nào đang được mời.";
    for (const button of document.querySelectorAll("#actions button")) {
      const why = refusal(button.id);
      button.disabled = why !== null;
      button.title = why || "";
    }
    $("line-services").textContent = "Dịch vụ của quầy: " + (d.services.map((s) => s.name).join(", ") || "chưa gán dịch vụ");
    $("waiting-count").textContent = String(d.waiting.length);
    const rows = d.waiting.map((t) => el("tr", { "data-label": t.label, class: t.priority ? "priority" : "" },
      el("td", { class: "ticket" }, t.label),
      el("td", {}, t.service_name, t.target_counter ? el("span", { class: "muted" }, " (chuyển tới quầy này)") : null),
      el("td", { class: "num" }, minutes(t.waited_min), el("span", { class: "muted at" }, " từ " + t.issued_time)),
      el("td", {}, t.priority_name || "—")));
    $("waiting").replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: "4", class: "empty" }, "Không còn ai chờ ở quầy này."))]));
    $("updated").textContent = "Cập nhật lúc " + new Date().toLocaleTimeString("vi-VN", { hour12: false })
      + " · tự cập nhật mỗi " + REFRESH_MS / 1000 + " giây.";
    if (!$("transfer-form").hidden && !c) closeTransfer();
  }

  async function load() {
    if (number === null) return;
    const asked = number;
    try {
      const answer = await api("GET", "/api/v1/staff/counters/" + asked);
      if (asked !== number) return;  // another counter was chosen meanwhile
      desk = answer;
      render();
    } catch (e) { fail(e.message); }
  }

  async function choose(value) {
    number = Number(value);
    remember(number);
    desk = null;
    closeTransfer();
    say(""); fail("");
    await load();
  }

  async function counters() {
    const list = await api("GET", "/api/v1/staff/counters");
    const select = $("counter");
    if (!list.length) {
      select.replaceChildren(el("option", { value: "" }, "Chưa có quầy nào"));
      fail("Chưa có quầy nào được cấu hình. Xin liên hệ quản trị.");
      return;
    }
    select.replaceChildren(...list.map((c) => el("option", { value: String(c.number) }, c.name)));
    const saved = remembered();
    const chosen = list.some((c) => String(c.number) === saved) ? saved : String(list[0].number);
    select.value = chosen;
    await choose(chosen);
  }

  const OPERATIONS = {
    "call-next": async () => {
      const r = await api("POST", "/api/v1/queue/counters/" + number + "/call-next");
      const before = r.previous ? "Số " + r.previous.label + " đã xong. " : "";
      if (!r.ticket) { fail(before + r.message); return; }
      say(before + "Đang mời số " + r.ticket.label + " (" + r.ticket.service_name + ").");
    },
    "recall": async () => {
      const r = await api("POST", "/api/v1/queue/counters/" + number + "/recall");
      say("Đã gọi lại số " + r.ticket.label + ".");
    },
    "start": async () => {
      const r = await api("POST", "/api/v1/queue/counters/" + number + "/start");
      say("Bắt đầu phục vụ số " + r.ticket.label + ".");
    },
    "finish": async () => {
      const r = await api("POST", "/api/v1/queue/counters/" + number + "/finish");
      say("Số " + r.ticket.label + " đã xong.");
    },
    "no-show": async () => {
      const r = await api("POST", "/api/v1/queue/counters/" + number + "/no-show");
      say("Số " + r.ticket.label + " được ghi là vắng mặt.");
    },
    "transfer": async () => { openTransfer(); },
    "pause": async () => {
      const paused = desk && desk.status === "paused";
      await api("POST", "/api/v1/queue/counters/" + number + "/" + (paused ? "resume" : "pause"));
      say(paused ? "Quầy đã mở lại." : "Quầy tạm dừng: không gọi số mới cho đến khi mở lại.");
    },
  };

  async function run(action) {
    if (busy) return;
    const why = refusal(action);
    if (why !== null) { fail(why); return; }
    busy = true;
    try {
      await OPERATIONS[action]();
    } catch (e) {
      fail(e.message);
    } finally {
      busy = false;
    }
    if (action !== "transfer") await load();
  }

  function openTransfer() {
    const c = desk && desk.current;
    if (!c) return;
    $("transfer-label").textContent = c.label;
    const services = desk.transfer_services.filter((s) => s.code !== c.service_code);
    $("transfer-service").replaceChildren(
      el("option", { value: "" }, "— giữ dịch vụ " + c.service_name + " —"),
      ...services.map((s) => el("option", { value: s.code }, s.name)));
    $("transfer-service").value = services.length ? services[0].code : "";
    $("transfer-counter").replaceChildren(el("option", { value: "" }, "— quầy nào cũng được —"),
      ...desk.counters.filter((k) => k.number !== desk.number)
        .map((k) => el("option", { value: String(k.number) }, k.name + (k.status === "paused" ? " (tạm dừng)" : ""))));
    $("transfer-form").hidden = false;
    $("transfer-service").focus();
  }
  function closeTransfer() { $("transfer-form").hidden = true; }

  $("transfer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const service = $("transfer-service").value;
    const counter = $("transfer-counter").value;
    if (!service && !counter) { fail("Xin chọn dịch vụ hoặc quầy để chuyển số."); return; }
    busy = true;
    try {
      const body = {};
      if (service) body.service = service;
      if (counter) body.counter = Number(counter);
      const t = await api("POST", "/api/v1/queue/counters/" + number + "/transfer", body);
      closeTransfer();
      say("Đã chuyển số " + t.label + " sang " + t.service_name
        + (t.target_counter ? ", tới quầy số " + t.target_counter : "") + ".");
    } catch (e) {
      fail(e.message);
    } finally {
      busy = false;
    }
    await load();
  });
  $("transfer-cancel").addEventListener("click", () => { closeTransfer(); $("transfer").focus(); });

  for (const button of document.querySelectorAll("#actions button")) {
    button.addEventListener("click", () => run(button.id));
  }
  $("counter").addEventListener("change", (event) => {
    if (!event.target.value) return;
    event.target.blur();  // the shortcuts work again at once
    choose(event.target.value);
  });

  const KEYS = {};
  for (const button of document.querySelectorAll("#actions button[data-key]")) KEYS[button.dataset.key] = button.id;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("transfer-form").hidden) { event.preventDefault(); closeTransfer(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.target;
    if (target && (target.closest("input, textarea, select, [contenteditable]") || !$("transfer-form").hidden)) return;
    const action = KEYS[(event.key || "").toUpperCase()];
    if (!action || number === null) return;
    event.preventDefault();
    run(action);
  });

  (async function start() {
    try {
      await Staff.header("/staff/counter");
      await counters();
    } catch (e) { fail(e.message); }
    setInterval(() => { if (!document.hidden && !busy) load(); }, REFRESH_MS);
  })();
})();
