// Kiosk chat: one websocket to the gateway; Rasa's buttons become real buttons.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const status = document.getElementById("status");
  let socket = null;
  let session = sessionStorage.getItem("motcua-session") || "";
  let retry = 0;
  let typingNode = null;
  const pending = [];

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
    for (const m of messages) {
      const node = add("bot", m.text || "");
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
      }
    }
  }

  function send(text, payload) {
    const frame = JSON.stringify({ type: "message", text: text, payload: payload || null });
    add("user", text);
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(frame); showTyping(true); }
    else { pending.push(frame); connect(); }
  }

  function connect() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(proto + "://" + location.host + "/ws/kiosk" + (session ? "?session=" + session : ""));
    socket.onopen = () => {
      retry = 0;
      status.textContent = "Đã kết nối — xin mời hỏi";
      while (pending.length) { socket.send(pending.shift()); showTyping(true); }
    };
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "session") { session = frame.session; sessionStorage.setItem("motcua-session", session); }
      else if (frame.type === "bot") renderBot(frame.messages);
      else if (frame.type === "typing") showTyping(true);
      else if (frame.type === "error") { showTyping(false); add("error", frame.messages[0].text); }
    };
    socket.onclose = () => {
      status.textContent = "Mất kết nối, đang thử lại…";
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * retry);
    };
  }

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
  add("bot", "Xin chào! Tôi là trợ lý ảo của Trung tâm. Ông/bà cần hỏi thủ tục gì ạ?");
  connect();
})();
