// Trang «Thư chưa gửi được»: liệt kê thư hỏng (dead letter), «Gửi lại» hoặc «Bỏ qua».
"use strict";
(async function () {
  const { api, el, when } = Staff;
  await Staff.header("/staff/deliveries");
  const error = document.getElementById("error");
  const CHANNELS = { telegram: "Telegram", zalo: "Zalo", web: "Trang web", kiosk: "Kiosk", portal: "Cổng DVC", sms: "SMS" };

  async function run(url) {
    error.textContent = "";
    try { await api("POST", url); await load(); } catch (e) { error.textContent = e.message; }
  }

  function actions(letter) {
    const base = "/api/v1/staff/deliveries/" + letter.kind + "/" + letter.id;
    return el("div", { class: "review-actions" },
      el("button", { class: "act", type: "button", onclick: () => run(base + "/resend") }, "Gửi lại"),
      el("button", { class: "act secondary", type: "button", onclick: () => run(base + "/dismiss") }, "Bỏ qua"));
  }

  async function load() {
    const data = await api("GET", "/api/v1/staff/deliveries");
    document.getElementById("summary").textContent =
      "Đang chờ gửi: " + data.pending + " — chưa gửi được: " + data.dead + ".";
    const body = document.getElementById("rows");
    const letters = data.dead_letters;
    if (!letters.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "empty" }, "Không có thư nào chưa gửi được.")));
      return;
    }
    body.replaceChildren(...letters.map((d) => el("tr", { "data-id": d.kind + "/" + d.id },
      el("td", { "data-label": "Lần thử cuối" }, when(d.failed_at), el("div", { class: "muted" }, "Tạo lúc " + when(d.created_at))),
      el("td", { "data-label": "Nội dung", class: "question" }, d.what),
      el("td", { "data-label": "Gửi tới" }, CHANNELS[d.channel] || d.channel, el("div", { class: "muted recipient" }, d.recipient)),
      el("td", { "data-label": "Số lần thử" }, String(d.attempts)),
      el("td", { "data-label": "Lỗi gần nhất", class: "last-error" }, d.last_error),
      el("td", { "data-label": "Xử lý", class: "actions" }, actions(d)))));
  }
  await load();
  document.body.dataset.loaded = "1";
})();
