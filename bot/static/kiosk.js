// Kiosk chat: one websocket to the gateway; Rasa's buttons become real buttons.
// Extras: text size and contrast, Vietnamese read-out (POST /api/v1/tts: the text never goes in
// an address), an idle timeout that starts a new session, and pushes (notifications; scanner
// events when this browser was enrolled as a kiosk at /kiosk/enrol) on /ws/kiosk/events.
// Page option in the address: /kiosk?idle=120
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const status = document.getElementById("status");
  const params = new URLSearchParams(location.search);
  const idleSeconds = Math.max(1, Number(params.get("idle")) || 120);
  const GREETING = "Xin chào! Tôi là trợ lý ảo của Trung tâm. Ông/bà cần hỏi thủ tục gì ạ?";
  const SCALES = [1, 1.15, 1.3, 1.5, 1.75];
  const proto = location.protocol === "https:" ? "wss" : "ws";

  let socket = null;
  let events = null;
  let session = sessionStorage.getItem("motcua-session") || "";
  let retry = 0;
  let typingNode = null;
  let pending = [];
  let scale = 0;
  let speaking = false;
  let audio = null;
  let lastActivity = Date.now();
  let talked = false;
  let warned = false;
  let fresh = false; // a new session just began: say so when the socket opens

  function add(kind, text) {
    const node = document.createElement("div");
    node.className = "msg " + kind;
    node.textContent = text;
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function showTyping(on) {
    if (on && !typingNode) { typingNode = add("bot typing", "Đang trả lời…"); }
    if (!on && typingNode) { typingNode.remove(); typingNode = null; }
  }

  function renderBot(messages) {
    showTyping(false);
    const spoken = [];
    for (const m of messages) {
      const node = add("bot", m.text || "");
      if (m.text) spoken.push(m.text);
      if (m.buttons && m.buttons.length) {
        const group = document.createElement("div");
        group.className = "choices";
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", "Lựa chọn");
        for (const b of m.buttons) {
          const btn = document.createElement("button");
          btn.type = "button";
          btn.textContent = b.title;
          btn.addEventListener("click", () => send(b.title, b.payload));
          group.appendChild(btn);
        }
        node.appendChild(group);
        spoken.push("Các lựa chọn: " + m.buttons.map((b) => b.title).join(", "));
      }
    }
    readAloud(spoken.join(". "));
  }

  // --- read-out -----------------------------------------------------------------------
  let spoken = 0; // the newest read-out asked for; an older one arriving late is dropped
  async function readAloud(text) {
    if (!speaking || !text) return;
    if (audio) { audio.pause(); }
    const mine = ++spoken;
    try {
      const response = await fetch("/api/v1/tts", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text.slice(0, 600) }), credentials: "same-origin", cache: "no-store" });
      if (!response.ok || mine !== spoken || !speaking) return;
      const url = URL.createObjectURL(await response.blob());
      if (audio && audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
      audio = new Audio(url);
      await audio.play();
    } catch (e) { /* no speaker, or the browser refused: the text is on screen */ }
  }

  // --- sending ------------------------------------------------------------------------
  function sendFrame(frame) {
    const raw = JSON.stringify(frame);
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(raw); showTyping(true); }
    else { pending.push(raw); connect(); }
  }

  function send(text, payload) {
    talked = true;
    touch();
    add("user", text);
    sendFrame({ type: "message", text: text, payload: payload || null });
  }

  function onDevice(frame) {
    talked = true;
    touch();
    if (frame.event === "cccd_scanned") add("user", "Đã quét thẻ căn cước");
    else if (frame.event === "dossier_scanned") add("user", "Đã quét mã hồ sơ " + frame.data);
    else return;
    sendFrame({ type: "device", event: frame.event, data: frame.data });
  }

  // --- sockets ------------------------------------------------------------------------
  function connect() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    const ws = new WebSocket(proto + "://" + location.host + "/ws/kiosk" + (session ? "?session=" + encodeURIComponent(session) : ""));
    socket = ws;
    ws.onopen = () => {
      retry = 0;
      status.textContent = fresh ? "Đã bắt đầu phiên mới — xin mời hỏi" : "Đã kết nối — xin mời hỏi";
      fresh = false;
      while (pending.length) { ws.send(pending.shift()); showTyping(true); }
    };
    ws.onmessage = (event) => {
      if (socket !== ws) return;
      const frame = JSON.parse(event.data);
      if (frame.type === "session") {
        session = frame.session;
        sessionStorage.setItem("motcua-session", session);
        connectEvents();
      } else if (frame.type === "bot") renderBot(frame.messages);
      else if (frame.type === "typing") showTyping(true);
      else if (frame.type === "error") { showTyping(false); add("error", frame.messages[0].text); }
    };
    ws.onclose = () => {
      if (socket !== ws) return; // closed on purpose (new session)
      status.textContent = "Mất kết nối, đang thử lại…";
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * retry);
    };
  }

  function connectEvents() {
    if (events) { events.onclose = null; events.close(); }
    // an enrolled kiosk's cookie says which device's scans it gets; nothing secret in the address
    const ws = new WebSocket(proto + "://" + location.host + "/ws/kiosk/events?session=" + encodeURIComponent(session));
    events = ws;
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "device") onDevice(frame);
      else if (frame.type === "bot") renderBot(frame.messages);
      else if (frame.type === "ready") { document.body.dataset.events = "ready"; document.body.dataset.device = frame.device || ""; }
    };
    ws.onclose = () => {
      if (events !== ws) return;
      document.body.dataset.events = "";
      setTimeout(() => { if (events === ws && session) connectEvents(); }, 2000);
    };
  }

  // --- display controls ---------------------------------------------------------------
  function applyScale() {
    document.documentElement.style.fontSize = (22 * SCALES[scale]) + "px";
    document.getElementById("smaller").disabled = scale === 0;
    document.getElementById("bigger").disabled = scale === SCALES.length - 1;
  }

  function toggle(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    return on;
  }

  document.getElementById("bigger").addEventListener("click", () => { scale = Math.min(scale + 1, SCALES.length - 1); applyScale(); });
  document.getElementById("smaller").addEventListener("click", () => { scale = Math.max(scale - 1, 0); applyScale(); });
  document.getElementById("contrast").addEventListener("click", (e) => {
    const on = toggle(e.currentTarget, !document.body.classList.contains("high-contrast"));
    document.body.classList.toggle("high-contrast", on);
  });
  document.getElementById("speak").addEventListener("click", (e) => {
    speaking = toggle(e.currentTarget, !speaking);
    if (speaking) readAloud("Đã bật đọc to.");
    else if (audio) audio.pause();
  });
  document.getElementById("restart").addEventListener("click", () => newSession());

  // --- idle timeout -------------------------------------------------------------------
  function touch() {
    lastActivity = Date.now();
    if (warned) { warned = false; status.textContent = "Đã kết nối — xin mời hỏi"; }
  }

  function newSession() {
    showTyping(false);
    log.replaceChildren();
    pending = [];
    talked = false;
    warned = false;
    session = "";
    sessionStorage.removeItem("motcua-session");
    const old = socket;
    socket = null;
    if (old) old.close();
    if (events) { const e = events; events = null; e.close(); }
    scale = 0; applyScale();
    document.body.classList.remove("high-contrast");
    toggle(document.getElementById("contrast"), false);
    speaking = toggle(document.getElementById("speak"), false);
    if (audio) audio.pause();
    input.value = "";
    add("bot", GREETING);
    status.textContent = "Đã bắt đầu phiên mới";
    fresh = true;
    lastActivity = Date.now();
    connect();
  }

  setInterval(() => {
    if (!talked) return;
    const left = idleSeconds - (Date.now() - lastActivity) / 1000;
    if (left <= 0) newSession();
    else if (left <= 10 && !warned && idleSeconds > 20) {
      warned = true;
      status.textContent = "Phiên sẽ kết thúc sau ít giây — chạm màn hình hoặc nhấn phím để tiếp tục";
    }
  }, 500);
  for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, touch, true);

  // --- composing ----------------------------------------------------------------------
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  // Vietnamese input methods (Telex/VNI) compose syllables: never send mid-composition.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.isComposing || event.keyCode === 229)) event.preventDefault();
  });
  for (const btn of document.querySelectorAll("button.task")) {
    btn.addEventListener("click", () => send(btn.dataset.text, btn.dataset.payload));
  }
  applyScale();
  add("bot", GREETING);
  connect();
})();
