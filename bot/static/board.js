// Display board: one server-sent event stream; each new call is shown and spoken.
// Its words come from the catalogue (page-messages.js): /board?lang=en for English.
// The call-out WAV is served only to an enrolled board (HttpOnly cookie from /kiosk/enrol) or staff.
(function () {
  "use strict";
  const t = (name, fields) => window.pageText("page.board." + name, fields); // page-messages.js
  const $ = (id) => document.getElementById(id);
  const link = $("link");
  const soundButton = $("sound");
  let lastAnnounced = null; // event id of the newest call already spoken (null: first snapshot)
  const voiceQueue = [];
  let speaking = false;
  // /c/<centre>/board shows that centre's numbers only; /board the default centre's.
  const centre = (location.pathname.match(/^\/c\/([a-z0-9-]+)\//) || [])[1] || "";
  const scope = centre ? "center=" + encodeURIComponent(centre) : "";

  // The centre's own clock, whatever the time zone of the screen's computer.
  const zone = document.body.dataset.timezone || "Asia/Ho_Chi_Minh";
  const parts = (now) => Object.fromEntries(new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric",
    weekday: "short", hourCycle: "h23" }).formatToParts(now).map((p) => [p.type, p.value]));
  const WEEKDAY_INDEX = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

  function tick() {
    const p = parts(new Date());
    $("time").textContent = p.hour + ":" + p.minute;
    $("date").textContent = t("date", { weekday: t("weekday_" + WEEKDAY_INDEX[p.weekday]), day: p.day, month: p.month,
      year: p.year });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render(board) {
    const latest = board.calls[0];
    if (latest) {
      $("current-label").textContent = latest.label;
      $("current-counter").textContent = t("go_to_counter", { counter: latest.counter });
      $("current-service").textContent = latest.service;
    }
    const recent = $("recent");
    recent.replaceChildren(...board.calls.slice(0, 8).map((c) => {
      const li = el("li");
      li.append(el("span", "num", c.label), el("span", "to", t("recent_counter", { counter: c.counter })));
      return li;
    }));
    const counters = $("counters");
    counters.replaceChildren(...board.counters.map((c) => {
      const li = el("li", c.status === "paused" ? "paused" : "");
      li.dataset.counter = c.number;
      li.append(el("span", "name", c.name),
        el("span", "num", c.status === "paused" ? t("paused") : (c.label || "—")));
      return li;
    }));
    window.boardState = board; // for people debugging a board
    announce(board.calls);
  }

  function announce(calls) {
    const newest = calls.length ? calls[0].event : 0;
    if (lastAnnounced === null) { lastAnnounced = newest; return; } // do not repeat old calls on load
    const fresh = calls.filter((c) => c.event > lastAnnounced).reverse();
    lastAnnounced = Math.max(lastAnnounced, newest);
    if (!fresh.length) return;
    const now = document.querySelector(".now");
    now.classList.remove("flash"); void now.offsetWidth; now.classList.add("flash");
    for (const c of fresh) {
      voiceQueue.push("/api/v1/queue/voice/" + encodeURIComponent(c.label) + ".wav?counter=" + c.counter + (scope ? "&" + scope : ""));
    }
    playNext();
  }

  function playNext() {
    if (speaking || !voiceQueue.length) return;
    speaking = true;
    const audio = new Audio(voiceQueue.shift());
    const done = () => { speaking = false; setTimeout(playNext, 400); };
    audio.addEventListener("ended", () => { $("voice-note").hidden = true; done(); });
    // the voice needs this browser enrolled as a board (/kiosk/enrol): say so instead of staying silent
    audio.addEventListener("error", () => { $("voice-note").hidden = false; done(); });
    audio.play().catch(() => { soundButton.hidden = false; done(); });
  }

  // Browsers allow sound only after someone touched the page once: this button is that touch,
  // and it repeats the latest call so staff hear that the sound works.
  soundButton.addEventListener("click", () => {
    soundButton.hidden = true;
    const latest = window.boardState && window.boardState.calls[0];
    if (latest) {
      voiceQueue.push("/api/v1/queue/voice/" + encodeURIComponent(latest.label) + ".wav?counter=" + latest.counter + (scope ? "&" + scope : ""));
      playNext();
    }
  });

  function connect() {
    const source = new EventSource("/api/v1/queue/stream" + (scope ? "?" + scope : ""));
    source.addEventListener("open", () => { link.textContent = t("online"); link.className = "link"; });
    source.addEventListener("board", (event) => render(JSON.parse(event.data)));
    source.addEventListener("error", () => { link.textContent = t("lost"); link.className = "link down"; });
  }

  tick();
  setInterval(tick, 10000);
  connect();
})();
