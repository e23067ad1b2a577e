// Kiosk chat: one websocket to the gateway; Rasa's buttons become real buttons.
// Rasa's custom payloads become cards (a queue number, big, with the QR code of its status page; a
// handoff notice; a filed dossier with its PDF) and an unknown one draws nothing; addresses in a
// reply become links (text nodes only, never innerHTML). While staff have the conversation the idle
// reset waits, and each message the staff inbox took gets a «sent» mark. A call of the number taken
// here (pushed on the event socket, custom.queue_called) shows a banner and chimes (WebAudio).
// Extras: text size and contrast, Vietnamese read-out (POST /api/v1/tts: the text never goes in
// an address), an idle timeout that starts a new session, and pushes (notifications; scanner
// events when this browser was enrolled as a kiosk at /kiosk/enrol) on /ws/kiosk/events.
// Its words come from the catalogue (page-messages.js). Page options in the address: /kiosk?idle=120&lang=en
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const status = document.getElementById("status");
  const params = new URLSearchParams(location.search);
  const idleSeconds = Math.max(1, Number(params.get("idle")) || 120);
  const t = (name, fields) => window.pageText("page.kiosk." + name, fields); // page-messages.js
  const SCALES = [1, 1.15, 1.3, 1.5, 1.75];
  const proto = location.protocol === "https:" ? "wss" : "ws";
  // /c/<centre>/kiosk takes that centre's numbers (an enrolled kiosk always its own centre's).
  const centre = (location.pathname.match(/^\/c\/([a-z0-9-]+)\//) || [])[1] || "";

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
  let handoff = false; // a staff member has the conversation
  let waitingStaff = false; // …and the citizen waits for their answer: no idle reset meanwhile
  let awaiting = []; // messages typed in a handoff, waiting for the gateway to take them
  let chimeContext = null;

  // --- drawing -----------------------------------------------------------------------
  // Addresses in a reply become links: full http(s) ones, and this site's own paths
  // (/phap-luat/…, /queue/ticket/…). Everything else is text nodes: never innerHTML.
  const LINK = /(https?:\/\/[^\s<>"]+)|(^|[\s(«"'])(\/[a-z0-9][a-z0-9_.~%-]*\/[^\s<>"]*)/gi;
  const TRAILING = /[.,;:!?)»"']+$/;

  function linkTo(url, label) {
    const a = document.createElement("a");
    a.href = url;
    a.textContent = label || url;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  function appendText(node, text) {
    let at = 0;
    for (const match of String(text).matchAll(LINK)) {
      const lead = match[2] || "";
      let url = match[1] || match[3];
      const start = match.index + lead.length;
      const tail = (url.match(TRAILING) || [""])[0];
      url = url.slice(0, url.length - tail.length);
      if (!url || url === "/") continue;
      node.appendChild(document.createTextNode(text.slice(at, start)));
      node.appendChild(linkTo(url));
      at = start + url.length;
    }
    node.appendChild(document.createTextNode(text.slice(at)));
    return node;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function add(kind, text) {
    const node = appendText(element("div", "msg " + kind), text);
    log.appendChild(node);
    scrollToEnd();
    return node;
  }

  function showTyping(on) {
    if (on && !typingNode) { typingNode = add("bot typing", t("typing")); }
    if (!on && typingNode) { typingNode.remove(); typingNode = null; }
  }

  // Cards for Rasa's custom payloads; an unknown payload draws nothing (never an empty bubble).
  function ticketCard(ticket) {
    const card = element("div", "msg bot card ticket");
    card.setAttribute("role", "group");
    card.setAttribute("aria-label", t("ticket_card"));
    card.appendChild(element("p", "ticket-caption", t("ticket_number")));
    card.appendChild(element("p", "ticket-label", ticket.label || ""));
    if (ticket.service) card.appendChild(element("p", "ticket-service", t("ticket_service", { service: ticket.service })));
    if (ticket.counter) card.appendChild(element("p", "ticket-counter", t("ticket_counter", { counter: ticket.counter })));
    else if (ticket.status === "waiting" || ticket.status === undefined) {
      if (ticket.people_ahead !== undefined && ticket.people_ahead !== null) {
        card.appendChild(element("p", "ticket-ahead", t("ticket_ahead", { ahead: ticket.people_ahead })));
      }
      if (ticket.estimated_wait_min !== undefined && ticket.estimated_wait_min !== null) {
        card.appendChild(element("p", "ticket-wait", t("ticket_wait", { minutes: ticket.estimated_wait_min })));
      }
    }
    if (ticket.token) {
      const qr = element("div", "ticket-qr");
      const img = element("img");
      img.src = "/api/v1/queue/tickets/" + encodeURIComponent(ticket.token) + "/qr.svg";
      img.alt = t("ticket_qr_alt", { label: ticket.label || "" });
      img.addEventListener("load", scrollToEnd);
      qr.appendChild(img);
      qr.appendChild(element("p", "", t("ticket_qr")));
      card.appendChild(qr);
    }
    if (ticket.status_url) {
      const p = element("p", "card-link");
      p.appendChild(linkTo(ticket.status_url, t("ticket_link")));
      card.appendChild(p);
    }
    return card;
  }

  function handoffCard() {
    const card = element("div", "msg bot card handoff");
    card.setAttribute("role", "note");
    card.appendChild(element("p", "card-title", t("handoff_title")));
    card.appendChild(element("p", "", t("handoff_body")));
    return card;
  }

  function dossierCard(custom) {
    const card = element("div", "msg bot card dossier");
    card.setAttribute("role", "group");
    card.appendChild(element("p", "card-title", t("dossier_title")));
    card.appendChild(element("p", "dossier-code", t("dossier_code", { code: custom.dossier_code })));
    const due = custom.due_date || custom.appointment_date || custom.appointment;
    if (due) card.appendChild(element("p", "dossier-due", t("dossier_due", { date: dayText(due) })));
    if (custom.declaration_pdf) {
      const p = element("p", "card-link");
      p.appendChild(linkTo(custom.declaration_pdf, t("dossier_pdf")));
      card.appendChild(p);
    }
    return card;
  }

  function dayText(value) { // 2026-12-24 → 24/12/2026; anything else as given
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value));
    return m ? m[3] + "/" + m[2] + "/" + m[1] : String(value);
  }

  function paymentCard(payment) { // a fee due: the amount, the transfer note and the VietQR code
    const card = element("div", "msg bot card payment");
    card.setAttribute("role", "group");
    card.appendChild(element("p", "card-title", t("payment_title")));
    card.appendChild(element("p", "payment-amount", t("payment_amount", { amount: payment.amount_text || "" })));
    if (payment.account_name) card.appendChild(element("p", "payment-account", t("payment_account", { account: payment.account_name })));
    card.appendChild(element("p", "payment-note", t("payment_note", { note: payment.note || "" })));
    if (payment.qr) {
      const qr = element("div", "ticket-qr payment-qr");
      const img = element("img");
      img.src = payment.qr;
      img.alt = t("payment_qr_alt", { amount: payment.amount_text || "" });
      img.addEventListener("load", scrollToEnd);
      qr.appendChild(img);
      qr.appendChild(element("p", "", t("payment_qr")));
      card.appendChild(qr);
    }
    return card;
  }

  function card(custom) {
    if (!custom || typeof custom !== "object") return null;
    if (custom.queue_ticket && typeof custom.queue_ticket === "object") return ticketCard(custom.queue_ticket);
    if (custom.handoff) return handoffCard();
    if (custom.dossier_code) return dossierCard(custom);
    if (custom.payment && typeof custom.payment === "object") return paymentCard(custom.payment);
    return null;
  }

  function renderBot(messages, pushed) {
    showTyping(false);
    const spoken = [];
    let lastChoices = null;
    if (!messages.length && handoff && awaiting.length) acknowledge(awaiting.shift()); // the staff inbox has it
    for (const m of messages) {
      const custom = m.custom || {};
      if (custom.handoff_ack) { // the staff inbox took the citizen's message: a mark under it, not a bubble
        if (!handoff) startHandoff();
        acknowledge(awaiting.shift() || lastUserMessage(), m.text);
        continue;
      }
      if (custom.staff) { waitingStaff = false; touch(); } // staff answered: the normal idle time again
      else if (custom.handoff) startHandoff();
      else if (handoff && !pushed && !custom.queue_called) endHandoff(); // handed back to the assistant
      if (m.text || (m.buttons && m.buttons.length)) {
        const node = add("bot", m.text || "");
        if (m.text) spoken.push(m.text);
        if (m.buttons && m.buttons.length) {
          const group = element("div", "choices");
          group.setAttribute("role", "group");
          group.setAttribute("aria-label", t("choices"));
          for (const b of m.buttons) {
            const btn = element("button", "", b.title);
            btn.type = "button";
            btn.addEventListener("click", () => send(b.title, b.payload));
            group.appendChild(btn);
          }
          node.appendChild(group);
          lastChoices = group;
          spoken.push(t("choices_spoken", { choices: m.buttons.map((b) => b.title).join(", ") }));
        }
      }
      const drawn = card(custom);
      if (drawn) {
        log.appendChild(drawn);
        // the reply's choices go below its card: what to do next is the last thing on screen
        const choices = lastChoices && lastChoices.isConnected ? lastChoices : null;
        if (choices) { const row = element("div", "msg bot choices-row"); row.appendChild(choices); log.appendChild(row); }
      }
      if (custom.queue_called) called(custom.queue_called);
    }
    scrollToEnd(); // after the whole reply: its buttons and cards are in view
    requestAnimationFrame(scrollToEnd);
    readAloud(spoken.join(". "));
  }

  // --- a conversation with staff ---------------------------------------------------------
  function startHandoff() {
    handoff = true;
    waitingStaff = true;
    document.body.dataset.handoff = "open";
    status.textContent = t("handoff_waiting");
  }

  function endHandoff() {
    handoff = false;
    waitingStaff = false;
    awaiting = [];
    document.body.dataset.handoff = "";
    status.textContent = t("connected");
    touch();
  }

  function acknowledge(node, said) {
    if (!node || !node.isConnected || node.dataset.sent) return;
    const mark = element("span", "sent-mark", t("handoff_sent"));
    if (said) mark.title = said; // the gateway's longer sentence, for whoever points at the mark
    node.appendChild(mark);
    node.dataset.sent = "staff";
    readAloud(t("handoff_sent"));
  }

  function lastUserMessage() {
    const all = log.querySelectorAll(".msg.user");
    return all[all.length - 1];
  }

  // --- the number taken here is called ------------------------------------------------------
  function called(call) {
    const banner = document.getElementById("called");
    document.getElementById("called-title").textContent = t("called_title");
    document.getElementById("called-body").textContent = t("called_body", { label: call.label || "", counter: call.counter || "" });
    banner.hidden = false;
    document.body.dataset.called = call.label || "";
    chime();
    document.getElementById("called-dismiss").focus();
    touch();
  }

  function chime() { // two soft tones made here: no sound file to download
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      chimeContext = chimeContext || new Context();
      const now = chimeContext.currentTime;
      [[880, 0], [660, 0.35]].forEach(([frequency, at]) => {
        const tone = chimeContext.createOscillator();
        const gain = chimeContext.createGain();
        tone.type = "sine";
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, now + at);
        gain.gain.exponentialRampToValueAtTime(0.4, now + at + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.5);
        tone.connect(gain).connect(chimeContext.destination);
        tone.start(now + at);
        tone.stop(now + at + 0.55);
      });
      document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
    } catch (e) { /* no sound device: the banner is on screen */ }
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
    const node = add("user", text);
    if (handoff) { awaiting.push(node); waitingStaff = true; status.textContent = t("handoff_waiting"); }
    sendFrame({ type: "message", text: text, payload: payload || null });
  }

  function onDevice(frame) {
    talked = true;
    touch();
    if (frame.event === "cccd_scanned") add("user", t("scanned_cccd"));
    else if (frame.event === "dossier_scanned") add("user", t("scanned_dossier", { code: frame.data }));
    else return;
    sendFrame({ type: "device", event: frame.event, data: frame.data });
  }

  // --- sockets ------------------------------------------------------------------------
  function connect() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
    // The page's language, not the hall machine's browser: the gateway answers in the language asked here.
    const query = new URLSearchParams({ lang: document.documentElement.lang || "vi" });
    if (session) query.set("session", session);
    if (centre) query.set("center", centre);
    const ws = new WebSocket(proto + "://" + location.host + "/ws/kiosk?" + query.toString());
    socket = ws;
    ws.onopen = () => {
      retry = 0;
      status.textContent = t(fresh ? "connected_fresh" : "connected");
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
      } else if (frame.type === "bot") renderBot(frame.messages, false);
      else if (frame.type === "typing") showTyping(true);
      else if (frame.type === "error") { showTyping(false); add("error", frame.messages[0].text); }
    };
    ws.onclose = () => {
      if (socket !== ws) return; // closed on purpose (new session)
      status.textContent = t("lost");
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
      else if (frame.type === "bot") renderBot(frame.messages, true);
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
    if (speaking) readAloud(t("speak_on"));
    else if (audio) audio.pause();
  });
  document.getElementById("restart").addEventListener("click", () => newSession());

  // --- idle timeout -------------------------------------------------------------------
  function touch() {
    lastActivity = Date.now();
    if (warned) { warned = false; status.textContent = t(handoff ? "handoff_waiting" : "connected"); }
  }

  function newSession() {
    showTyping(false);
    log.replaceChildren();
    pending = [];
    talked = false;
    warned = false;
    handoff = false;
    waitingStaff = false;
    awaiting = [];
    document.body.dataset.handoff = "";
    document.getElementById("called").hidden = true;
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
    add("bot", t("greeting"));
    status.textContent = t("new_session");
    fresh = true;
    lastActivity = Date.now();
    connect();
  }

  setInterval(() => {
    if (!talked) return;
    if (handoff && waitingStaff) { lastActivity = Date.now(); return; } // never wipe a citizen waiting for staff
    const left = idleSeconds - (Date.now() - lastActivity) / 1000;
    if (left <= 0) newSession();
    else if (left <= 10 && !warned && idleSeconds > 20) {
      warned = true;
      status.textContent = t("idle_warning");
    }
  }, 500);
  document.getElementById("called-dismiss").addEventListener("click", () => {
    document.getElementById("called").hidden = true;
    input.focus();
  });
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
  add("bot", t("greeting"));
  connect();
})();
