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
  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false });
  }
  async function header(current) {
    const me = await api("GET", "/api/v1/staff/me");
    const links = [["/staff/unanswered", "Câu hỏi chưa trả lời"], ["/staff/inbox", "Hộp thư người dân"], ["/staff/dashboard", "Số liệu"], ["/staff/kb", "Cơ sở tri thức"]];
    if (me.role === "admin") links.push(["/admin", "Quản trị"]);
    const nav = document.getElementById("nav");
    nav.replaceChildren(...links.map(([href, label]) => el("a", { href: href, class: href === current ? "current" : "" }, label)));
    document.getElementById("who").replaceChildren(
      (me.full_name || me.username) + " (" + (me.role === "admin" ? "quản trị" : "cán bộ") + ") ",
      el("button", { type: "button", onclick: async () => { await api("POST", "/api/v1/staff/logout"); location.href = "/staff/login"; } }, "Đăng xuất"));
    return me;
  }
  return { api: api, el: el, when: when, header: header, csrf: csrf };
})();
