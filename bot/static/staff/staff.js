// Dùng chung cho các trang cán bộ: gọi API, thanh điều hướng, đăng xuất.
"use strict";
const Staff = (function () {
  // Mã chống giả mạo (CSRF): cookie motcua_csrf đặt lúc đăng nhập, gửi lại trong X-CSRF-Token.
  function csrf() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("motcua_csrf="));
    return found ? decodeURIComponent(found.slice("motcua_csrf=".length)) : "";
  }
  async function api(method, url, body) {
    const options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") options.headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) { options.headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
    const response = await fetch(url, options);
    if (response.status === 401) { location.href = "/staff/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("Cần đăng nhập"); }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const detail = data && data.detail;
      throw new Error(typeof detail === "string" ? detail : "Có lỗi (mã " + response.status + ")");
    }
    return data;
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  // Ngày giờ theo giờ Việt Nam: dd/mm/yyyy HH:MM (day: chỉ dd/mm/yyyy).
  const PARTS = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function when(iso, dateOnly) {
    if (!iso) return "";
    const moment = new Date(iso);
    if (isNaN(moment.getTime())) return String(iso);
    const p = Object.fromEntries(PARTS.formatToParts(moment).map((x) => [x.type, x.value]));
    const date = p.day + "/" + p.month + "/" + p.year;
    return dateOnly ? date : date + " " + p.hour + ":" + p.minute;
  }
  function day(iso) {
    if (!iso) return "";
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso));
    return m ? m[3] + "/" + m[2] + "/" + m[1] : when(iso, true);
  }
  // Các dòng dễ đọc («trường: trước → sau»), dữ liệu gốc chỉ hiện khi bấm «Chi tiết».
  function changeLines(lines, raw) {
    const box = el("div", { class: "change-lines" }, (lines || []).map((line) => el("div", { class: "change-line" }, line)));
    if (raw !== undefined && raw !== null) {
      box.append(el("details", { class: "raw" }, el("summary", {}, "Chi tiết"),
        el("pre", {}, typeof raw === "string" ? raw : JSON.stringify(raw, null, 2))));
    }
    return box;
  }
  const MENU = [["/staff/dossiers", "Hồ sơ"], ["/staff/counter", "Gọi số"], ["/staff/unanswered", "Câu hỏi chưa trả lời"],
    ["/staff/inbox", "Hộp thư người dân"], ["/staff/dashboard", "Số liệu"], ["/staff/kb", "Cơ sở tri thức"],
    ["/staff/deliveries", "Thư chưa gửi được"]];
  async function header(current) {
    const me = await api("GET", "/api/v1/staff/me");
    const links = MENU.slice();
    if (me.role === "admin") links.push(["/admin", "Quản trị"]);
    const nav = document.getElementById("nav");
    nav.replaceChildren(...links.map(([href, label]) => el("a", { href: href, class: href === current ? "current" : "" }, label)));
    document.getElementById("who").replaceChildren(
      (me.full_name || me.username) + " (" + (me.role === "admin" ? "quản trị" : "cán bộ") + ") ",
      el("button", { type: "button", onclick: async () => { await api("POST", "/api/v1/staff/logout"); location.href = "/staff/login"; } }, "Đăng xuất"));
    return me;
  }
  return { api: api, el: el, when: when, day: day, changeLines: changeLines, header: header, csrf: csrf, menu: MENU };
})();
