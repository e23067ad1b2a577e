// Bàn làm việc cán bộ — khối «Lệ phí» của hồ sơ đang mở: số tiền, tình trạng, cách nộp, ai thu, lúc nào;
// nút «Đã thu tiền mặt», «Miễn phí» (bắt buộc ghi lý do), «In biên lai»; mã VietQR khi hồ sơ chưa nộp.
// Dùng các hàm chung của desk.js ($, el, api, show, moment, openPdf). Dữ liệu luôn đặt bằng textContent.
"use strict";

(function () {
  const METHODS = { vietqr: "Chuyển khoản (VietQR)", cash: "Tiền mặt", waived: "Miễn" };
  const base = (code) => `/api/v1/staff/payments/${encodeURIComponent(code)}`;
  let shown = null; // the code whose fee is shown

  const money = (amount) => `${Number(amount || 0).toLocaleString("vi-VN")} đồng`;
  const who = (actor) => String(actor || "").replace(/^staff:/, "");

  function draw(p) {
    const paid = p.state === "paid";
    const pairs = [["Lệ phí", p.state === "none_due" ? "Không thu" : money(p.amount)], ["Tình trạng", p.state_label]];
    if (p.fee_note) pairs.push(["Căn cứ", p.fee_note]);
    if (paid) pairs.push(["Cách nộp", METHODS[p.method] || p.method], ["Số tiền đã nộp", money(p.paid_amount)]);
    if (paid || p.state === "waived") pairs.push(["Lúc", moment(p.paid_at)], ["Người ghi nhận", who(p.paid_by)]);
    if (p.state === "waived") pairs.push(["Lý do miễn", p.waiver_reason]);
    fields($("p-fields"), pairs);
    $("p-problem").hidden = true;
    const unpaid = p.state === "unpaid";
    $("p-cash").hidden = !unpaid;
    $("p-waive-open").hidden = !unpaid;
    $("p-receipt").hidden = !(paid || p.state === "waived");
    $("p-qr").hidden = !(unpaid && p.vietqr_enabled);
    if (unpaid && p.vietqr_enabled) $("p-qr-img").src = `${base(p.code)}/vietqr.svg?v=${Date.now()}`;
    closeWaiver();
    $("p-history").replaceChildren(...(p.history || []).map((h) =>
      el("li", `${moment(h.at)} — ${h.to_state === "unpaid" ? "Tính phí" : METHODS[h.method] || h.to_state}` +
        `${h.amount ? " " + money(h.amount) : ""} (${who(h.actor)})${h.note ? ": " + h.note : ""}`)));
  }

  function problem(message) {
    fields($("p-fields"), []);
    for (const id of ["p-cash", "p-waive-open", "p-receipt", "p-qr"]) $(id).hidden = true;
    $("p-history").replaceChildren();
    $("p-problem").textContent = message;
    $("p-problem").hidden = false;
  }

  async function showPayment(code) {
    shown = code;
    try {
      const p = await api(base(code));
      if (shown === code) draw(p);
    } catch (err) {
      if (shown === code) problem(err.message); // e.g. a fee the center's fee table does not have yet
    }
  }

  function closeWaiver() {
    $("p-waive-form").hidden = true;
    $("p-waive-open").setAttribute("aria-expanded", "false");
    $("p-reason").value = "";
  }

  async function post(suffix, body, done) {
    if (!shown) return;
    try {
      const p = await api(`${base(shown)}/${suffix}`, body ? {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      } : { method: "POST" });
      draw(p);
      show(done, true);
    } catch (err) {
      show(err.message);
    }
  }

  $("p-cash").addEventListener("click", () => {
    if (window.confirm("Xác nhận đã thu đủ lệ phí bằng tiền mặt?")) post("cash", null, "Đã ghi nhận thu tiền mặt.");
  });
  $("p-waive-open").addEventListener("click", () => {
    $("p-waive-form").hidden = false;
    $("p-waive-open").setAttribute("aria-expanded", "true");
    $("p-reason").focus();
  });
  $("p-waive-cancel").addEventListener("click", closeWaiver);
  $("p-waive-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const reason = $("p-reason").value.trim();
    if (reason.length < 5) { show("Xin ghi rõ lý do miễn lệ phí."); return; }
    post("waive", { reason }, "Đã ghi nhận miễn lệ phí.");
  });
  $("p-receipt").addEventListener("click", () => { if (shown) openPdf(`${base(shown)}/receipt.pdf`); });

  window.DeskPayment = { show: showPayment };
})();
