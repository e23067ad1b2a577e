/* Một Cửa web widget — one tag on any page opens a chat bubble talking to the gateway.
 *
 *   <script src="https://<gateway>/static/widget.js" defer
 *           data-title="Trợ lý UBND xã"        (panel title)
 *           data-color="#a4161a"               (bubble, header, send button)
 *           data-text-color="#ffffff"          (text on that colour)
 *           data-lang="vi"                     (vi | en: the widget's own labels; default: the browser's)
 *           data-position="right"              (right | left)
 *           data-open="false"                  (start open)
 *           data-gateway="https://<gateway>"   (defaults to where this script came from)
 *   ></script>
 *
 * The page's site must be allowed by the Centre's admin (/admin, «Trang web được gắn trợ lý»; or
 * MOTCUA_CORS_ORIGINS). The widget first asks GET /api/v1/widget/allowed, which answers from the
 * page's Origin with the widget's labels (the gateway's message catalogue, page.widget.*): on a
 * site that is not allowed it shows once, in its own place, that the admin must add the site,
 * instead of retrying the refused socket for ever.
 * Language: data-lang, else the page's <html lang> (vi | en), else the browser's.
 * Protocol: channels/web.py. History and session live in sessionStorage, so a reload or a
 * dropped connection continues the same conversation.
 */
(function () {
  "use strict";
  if (window.__motcuaWidget) return;
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script) return;
  window.__motcuaWidget = true;
  const opts = script.dataset;
  const base = (opts.gateway || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  // The widget's words come from the gateway's message catalogue (GET /api/v1/widget/allowed), in the
  // data-lang language, else the page's, else the browser's; kept in sessionStorage so a reload works offline.
  const pageLang = (document.documentElement.lang || "").toLowerCase().split("-")[0];
  const asked = [opts.lang, pageLang].find((l) => l === "en" || l === "vi") || "";
  const textKey = "motcua-widget-text:" + base + ":" + (asked || navigator.language || "");
  const PREFIX = "page.widget.";
  const checkUrl = base + "/api/v1/widget/allowed" + (asked ? "?lang=" + asked : "");

  function formatText(template, fields) {
    return String(template).replace(/\{\{|\}\}|\{(\w+)\}/g, (match, name) => {
      if (!name) return match[0];
      return fields && Object.prototype.hasOwnProperty.call(fields, name) ? String(fields[name]) : match;
    });
  }

  function words(catalogue) {
    const messages = (catalogue && catalogue.messages) || {};
    return (name, fields) => {
      const template = messages[PREFIX + name];
      return template === undefined ? PREFIX + name : formatText(template, fields);
    };
  }

  // May this page use the widget? {allowed, origin, locale, messages}; null when the gateway is unreachable.
  function ask() {
    return fetch(checkUrl, { credentials: "omit", cache: "no-store" })
      .then((response) => { if (!response.ok) throw new Error(String(response.status)); return response.json(); })
      .catch(() => null);
  }

  function loadText(then, wait) {
    let kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(textKey) || "null"); } catch (e) { /* none kept */ }
    ask().then((body) => {
      if (body && !body.allowed) {
        try { sessionStorage.removeItem(textKey); } catch (e) { /* storage off */ }
        refuse(body);
      } else if (body) {
        try { sessionStorage.setItem(textKey, JSON.stringify(body)); } catch (e) { /* storage full or off */ }
        then(body);
      } else if (kept && kept.messages) then(kept);
      else setTimeout(() => loadText(then, Math.min(60000, (wait || 2500) * 2)), wait || 2500); // gateway down
    });
  }

  // The site is not allowed: say so once, where the bubble would be, and do nothing else.
  function refuse(body) {
    const t = words(body);
    const text = t("refused", { origin: body.origin || location.origin });
    if (window.console) console.warn("[motcua widget] " + text);
    const old = document.getElementById("motcua-widget");
    if (old) old.remove();
    const host = document.createElement("div");
    host.id = "motcua-widget";
    host.setAttribute("lang", body.locale || asked || "vi");
    const root = host.attachShadow({ mode: "open" });
    root.innerHTML = '<link rel="stylesheet" href="' + base + '/static/widget.css">' +
      '<div class="mc" data-refused="true" style="visibility:hidden"><div class="mc-refused" role="status">' +
      '<p class="mc-refused-text"></p><button type="button" class="mc-dismiss"><span aria-hidden="true">×</span></button>' +
      '</div></div>';
    const box = root.querySelector(".mc");
    box.dataset.position = opts.position === "left" ? "left" : "right";
    root.querySelector(".mc-refused-text").textContent = text;
    const dismiss = root.querySelector(".mc-dismiss");
    dismiss.setAttribute("aria-label", t("dismiss"));
    dismiss.title = t("dismiss");
    dismiss.addEventListener("click", () => host.remove());
    root.querySelector("link").addEventListener("load", () => { box.style.visibility = ""; });
    setTimeout(() => { box.style.visibility = ""; }, 3000); // the stylesheet is late: show anyway
    (document.body || document.documentElement).appendChild(host);
  }

  loadText(start);

  function start(catalogue) {
    const lang = catalogue.locale || asked || "vi";
    const t = words(catalogue);
    const TEXT = { open: t("open"), openLabel: t("open_label"), unread: (n) => " " + t("unread", { count: n }),
      title: t("title"), close: t("close"), log: t("log"), input: t("input"), send: t("send"),
      placeholder: t("placeholder"), hint: t("hint"), greeting: t("greeting"), connecting: t("connecting"),
      lost: t("lost"), typing: t("typing"), choices: t("choices"), you: t("you"), bot: t("bot") };

    function colour(value, fallback) {
      return value && window.CSS && CSS.supports("color", value) ? value : fallback;
    }

    // --- state kept in sessionStorage -----------------------------------------------------
    const storeKey = "motcua-widget:" + base;
    const MAX_ITEMS = 100;
    let state = { session: "", items: [], open: opts.open === "true", unread: 0 };
    try { Object.assign(state, JSON.parse(sessionStorage.getItem(storeKey) || "{}")); } catch (e) { /* fresh */ }
    function save() {
      state.items = state.items.slice(-MAX_ITEMS);
      try { sessionStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
    }

    // --- the DOM, in a shadow root so the host page's styles cannot break it -------------
    const host = document.createElement("div");
    host.id = "motcua-widget";
    const root = host.attachShadow({ mode: "open" });
    root.innerHTML =
      '<link rel="stylesheet" href="' + base + '/static/widget.css">' +
      '<div class="mc" style="visibility:hidden">' +
      '  <button type="button" class="mc-bubble" aria-expanded="false" aria-controls="mc-panel">' +
      '    <svg class="mc-icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="1.2em" height="1.2em">' +
      '      <path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z"/></svg>' +
      '    <span class="mc-bubble-text"></span></button>' +
      '  <section class="mc-panel" id="mc-panel" role="dialog" aria-modal="false" aria-labelledby="mc-title" hidden>' +
      '    <header class="mc-head"><h2 id="mc-title"></h2>' +
      '      <button type="button" class="mc-close"><span aria-hidden="true">×</span></button></header>' +
      '    <p class="mc-status" role="status" aria-live="polite"></p>' +
      '    <div class="mc-log" role="log" aria-live="polite" tabindex="0"></div>' +
      '    <form class="mc-form" autocomplete="off">' +
      '      <label for="mc-input" class="mc-vh"></label>' +
      '      <textarea id="mc-input" rows="2" maxlength="2000"></textarea>' +
      '      <button type="submit" class="mc-send"></button></form>' +
      '    <p class="mc-hint"></p>' +
      '  </section></div>';
    const $ = (sel) => root.querySelector(sel);
    const box = $(".mc"), bubble = $(".mc-bubble"), panel = $(".mc-panel"), logEl = $(".mc-log");
    const statusEl = $(".mc-status"), form = $(".mc-form"), input = $("#mc-input");
    box.dataset.position = opts.position === "left" ? "left" : "right";
    box.style.setProperty("--mc-color", colour(opts.color, "#a4161a"));
    box.style.setProperty("--mc-text", colour(opts.textColor, "#ffffff"));
    $("#mc-title").textContent = opts.title || TEXT.title;
    $(".mc-close").setAttribute("aria-label", TEXT.close);
    $(".mc-close").title = TEXT.close;
    logEl.setAttribute("aria-label", TEXT.log);
    $("label.mc-vh").textContent = TEXT.input;
    input.placeholder = TEXT.placeholder;
    $(".mc-send").textContent = TEXT.send;
    $(".mc-hint").textContent = TEXT.hint;
    host.setAttribute("lang", lang);
    $("link").addEventListener("load", () => { box.style.visibility = ""; });
    setTimeout(() => { box.style.visibility = ""; }, 3000); // the stylesheet is late: show anyway
    (document.body || document.documentElement).appendChild(host);

    // --- rendering --------------------------------------------------------------------------
    let typingNode = null;

    function render(item) {
      const node = document.createElement("div");
      node.className = "mc-msg mc-" + item.k;
      const who = document.createElement("span");
      who.className = "mc-vh";
      who.textContent = (item.k === "user" ? TEXT.you : TEXT.bot) + ": ";
      node.appendChild(who);
      node.appendChild(document.createTextNode(item.t || ""));
      if (item.b && item.b.length) {
        const group = document.createElement("div");
        group.className = "mc-choices";
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", TEXT.choices);
        for (const b of item.b) {
          const btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = b.title;
          btn.addEventListener("click", () => say(b.title, b.payload));
          group.appendChild(btn);
        }
        node.appendChild(group);
      }
      logEl.insertBefore(node, typingNode);
      logEl.scrollTop = logEl.scrollHeight;
    }

    function remember(item) {
      state.items.push(item);
      save();
      render(item);
    }

    function showTyping(on) {
      if (on && !typingNode) {
        typingNode = document.createElement("div");
        typingNode.className = "mc-msg mc-bot mc-typing";
        typingNode.textContent = TEXT.typing;
        logEl.appendChild(typingNode);
        logEl.scrollTop = logEl.scrollHeight;
      } else if (!on && typingNode) { typingNode.remove(); typingNode = null; }
    }

    function showBubbleText() {
      $(".mc-bubble-text").textContent = TEXT.open + (state.unread ? TEXT.unread(state.unread) : "");
      bubble.setAttribute("aria-label", TEXT.openLabel + (state.unread ? TEXT.unread(state.unread) : ""));
    }

    function onBot(messages, pushed) {
      showTyping(false);
      for (const m of messages || []) {
        const buttons = (m.buttons || []).map((b) => ({ title: String(b.title), payload: String(b.payload) }));
        if (m.text || buttons.length) remember({ k: "bot", t: m.text || "", b: buttons });
      }
      if (pushed && panel.hidden) { state.unread += 1; save(); showBubbleText(); }
    }

    // --- the socket -------------------------------------------------------------------------
    let socket = null, retry = 0, outbox = [], pingTimer = null, refusedInARow = 0, stopped = false;

    // Sockets that close before they open: maybe the admin took the site off the list. Ask once
    // in a while; when the site is no longer allowed, stop and say so instead of retrying.
    function askAgain() {
      ask().then((body) => {
        if (!body || body.allowed || stopped) return;
        stopped = true;
        clearInterval(pingTimer);
        try { sessionStorage.removeItem(textKey); } catch (e) { /* storage off */ }
        host.remove();
        refuse(body);
      });
    }

    function connect() {
      if (stopped) return;
      if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
      // data-center="xa-dong": the centre this page belongs to (numbers taken in the chat are its)
      const query = [state.session ? "session=" + encodeURIComponent(state.session) : "",
                     opts.center ? "center=" + encodeURIComponent(opts.center) : ""].filter(Boolean).join("&");
      const url = base.replace(/^http/, "ws") + "/ws/widget" + (query ? "?" + query : "");
      statusEl.textContent = TEXT.connecting;
      const ws = new WebSocket(url);
      socket = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        retry = 0;
        refusedInARow = 0;
        statusEl.textContent = "";
        box.dataset.connected = "true";
        while (outbox.length) { ws.send(outbox.shift()); showTyping(true); }
        clearInterval(pingTimer);
        pingTimer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}'); }, 25000);
      };
      ws.onmessage = (event) => {
        let frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame.type === "session") { state.session = frame.session; save(); }
        else if (frame.type === "typing") showTyping(true);
        else if (frame.type === "bot") onBot(frame.messages, frame.pushed);
        else if (frame.type === "error") { showTyping(false); remember({ k: "error", t: frame.messages[0].text }); }
      };
      ws.onclose = () => {
        if (socket !== ws) return;
        box.dataset.connected = "false";
        clearInterval(pingTimer);
        showTyping(false);
        statusEl.textContent = TEXT.lost;
        if (!opened && ++refusedInARow % 3 === 2) askAgain();
        retry = Math.min(retry + 1, 6);
        setTimeout(connect, Math.min(10000, 500 * 2 ** (retry - 1)));
      };
    }

    function say(text, payload) {
      remember({ k: "user", t: text });
      const frame = JSON.stringify({ type: "message", text: text, payload: payload || null });
      if (socket && socket.readyState === WebSocket.OPEN) { socket.send(frame); showTyping(true); }
      else { outbox.push(frame); connect(); }
    }

    // --- opening, closing, keyboard ---------------------------------------------------------
    function setOpen(open, focus) {
      panel.hidden = !open;
      bubble.setAttribute("aria-expanded", open ? "true" : "false");
      box.dataset.open = open ? "true" : "false";
      state.open = open;
      if (open) { state.unread = 0; showBubbleText(); connect(); }
      save();
      if (focus) (open ? input : bubble).focus();
      if (open) logEl.scrollTop = logEl.scrollHeight;
    }

    bubble.addEventListener("click", () => setOpen(panel.hidden, true));
    $(".mc-close").addEventListener("click", () => setOpen(false, true));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); setOpen(false, true); }
    });

    // Vietnamese input methods (Telex, VNI, the OS IMEs) compose a syllable over several keys;
    // an Enter that ends a composition must not send the half-typed text.
    let composing = false;
    input.addEventListener("compositionstart", () => { composing = true; });
    input.addEventListener("compositionend", () => { setTimeout(() => { composing = false; }, 0); });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey) return;
      if (event.isComposing || composing || event.keyCode === 229) return;
      event.preventDefault();
      submit();
    });
    form.addEventListener("submit", (event) => { event.preventDefault(); if (!composing) submit(); });

    function submit() {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      say(text);
    }

    // --- start ------------------------------------------------------------------------------
    if (!state.items.length) { state.items.push({ k: "bot", t: TEXT.greeting, b: [] }); save(); }
    for (const item of state.items) render(item);
    showBubbleText();
    setOpen(state.open, false);
    if (state.session) connect(); // an earlier conversation: notifications may be waiting
    window.MotCuaWidget = { open: () => setOpen(true, true), close: () => setOpen(false, true) };
  }
})();
