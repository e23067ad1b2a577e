// Ô chọn thủ tục dùng chung cho các trang cán bộ: gõ tên (có dấu hoặc không dấu) hoặc mã,
// chọn trong danh sách gợi ý do máy chủ tìm (GET /api/v1/staff/procedures?q=…&limit=…).
// Cần staff.js (Staff.api, Staff.el) nạp trước.
//
//   const picker = ProcedurePicker.create({ label: "Thủ tục", multiple: false, id: "", onChange: (codes) => … });
//   form.append(picker.element);  picker.value() → "1.001193" hoặc "";  picker.values() → ["1.001193", …]
//   picker.set(["1.001193"]);  picker.clear();
"use strict";
const ProcedurePicker = (function () {
  const ENDPOINT = "/api/v1/staff/procedures";
  const DELAY_MS = 200;
  let counter = 0;

  function create(options) {
    const opts = Object.assign({ label: "Thủ tục", placeholder: "Gõ tên hoặc mã thủ tục",
      multiple: false, limit: 20, onChange: null, id: "" }, options || {});
    const { api, el } = Staff;
    const id = opts.id || "procedure-picker-" + (++counter);
    const chosen = [];            // [{ code, name }]
    let found = [];               // the suggestions shown
    let active = -1;              // the highlighted suggestion
    let timer = null, asked = 0;  // the newest request wins

    const input = el("input", { type: "text", id: id, role: "combobox", autocomplete: "off", spellcheck: "false",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-list",
      "aria-label": opts.label, placeholder: opts.placeholder, class: "picker-input" });
    const list = el("ul", { id: id + "-list", role: "listbox", class: "picker-list", "aria-label": opts.label, hidden: "hidden" });
    const chips = el("div", { class: "picker-chips", "aria-live": "polite" });
    const status = el("div", { class: "picker-status muted", "aria-live": "polite" });
    const element = el("div", { class: "picker" + (opts.multiple ? " multiple" : "") }, chips,
      el("div", { class: "picker-box" }, input, list), status);

    function label(p) { return p.name ? p.name + " (" + p.code + ")" : p.code; }
    function changed() {
      element.dataset.value = chosen.map((p) => p.code).join(",");
      if (opts.onChange) opts.onChange(chosen.map((p) => p.code));
    }
    function drawChips() {
      if (!opts.multiple) { chips.replaceChildren(); return; }
      chips.replaceChildren(...chosen.map((p) => el("span", { class: "picker-chip", "data-code": p.code, title: label(p) },
        el("span", { class: "picker-chip-text" }, label(p)),
        el("button", { type: "button", class: "picker-remove", "aria-label": "Bỏ " + label(p),
          onclick: () => { remove(p.code); input.focus(); } }, "×"))));
    }
    function close() {
      list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      active = index;
      Array.from(list.children).forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
      const item = list.children[index];
      if (item && item.id) { input.setAttribute("aria-activedescendant", item.id); item.scrollIntoView({ block: "nearest" }); }
      else input.removeAttribute("aria-activedescendant");
    }
    function show(rows, query) {
      found = rows;
      if (!rows.length) {
        list.replaceChildren(el("li", { class: "picker-empty", role: "option", "aria-disabled": "true" },
          "Không tìm thấy thủ tục nào khớp «" + query + "»."));
      } else {
        list.replaceChildren(...rows.map((p, i) => el("li", { id: id + "-opt-" + i, role: "option", "aria-selected": "false",
          "data-code": p.code, title: p.code, onmousedown: (e) => { e.preventDefault(); choose(i); } },
        el("span", { class: "picker-name" }, p.name),
        el("span", { class: "picker-meta muted" }, p.code + (p.field ? " · " + p.field : "")))));
      }
      list.hidden = false; input.setAttribute("aria-expanded", "true");
      highlight(rows.length ? 0 : -1);
    }
    async function lookup() {
      const query = input.value.trim();
      const mine = ++asked;
      if (!query) { close(); status.textContent = ""; return; }
      status.textContent = "Đang tìm…";
      try {
        const rows = await api("GET", ENDPOINT + "?q=" + encodeURIComponent(query) + "&limit=" + opts.limit);
        if (mine !== asked) return;
        status.textContent = "";
        show(rows, query);
      } catch (e) {
        if (mine === asked) status.textContent = e.message;
      }
    }
    function choose(index) {
      const p = found[index];
      if (!p) return;
      if (opts.multiple) {
        if (!chosen.some((c) => c.code === p.code)) chosen.push({ code: p.code, name: p.name });
        input.value = "";
      } else {
        chosen.splice(0, chosen.length, { code: p.code, name: p.name });
        input.value = label(p);
      }
      close(); drawChips(); changed();
    }
    function remove(code) {
      const at = chosen.findIndex((c) => c.code === code);
      if (at >= 0) { chosen.splice(at, 1); drawChips(); changed(); }
    }

    input.addEventListener("input", () => {
      if (!opts.multiple && chosen.length) { chosen.length = 0; changed(); }  // typing again drops the choice
      clearTimeout(timer);
      timer = setTimeout(lookup, DELAY_MS);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { lookup(); return; }
        if (!found.length) return;
        const step = e.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + found.length) % found.length);
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) { e.preventDefault(); choose(active); }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      } else if (e.key === "Backspace" && opts.multiple && !input.value && chosen.length) {
        remove(chosen[chosen.length - 1].code);
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 150));

    // Codes set from outside (an existing FAQ entry): shown at once, named once the server answers.
    async function set(codes) {
      chosen.splice(0, chosen.length, ...codes.filter(Boolean).map((code) => ({ code: code, name: "" })));
      input.value = opts.multiple ? "" : chosen.length ? chosen[0].code : "";
      drawChips(); changed();
      for (const item of chosen.slice()) {
        try {
          const rows = await api("GET", ENDPOINT + "?q=" + encodeURIComponent(item.code) + "&limit=1");
          if (rows.length && rows[0].code === item.code) item.name = rows[0].name;
        } catch (e) { /* the code stays shown as it is */ }
      }
      drawChips();
      if (!opts.multiple && chosen.length && document.activeElement !== input) input.value = label(chosen[0]);
    }
    function clear() { chosen.length = 0; input.value = ""; close(); drawChips(); changed(); }

    return {
      element: element, input: input,
      value: () => (chosen.length ? chosen[0].code : ""),
      values: () => chosen.map((p) => p.code),
      set: set, clear: clear, focus: () => input.focus()
    };
  }

  return { create: create };
})();
