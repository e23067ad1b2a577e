// The ticket's status page, live (the QR code on the paper ticket, on the citizen's phone).
// It follows /api/v1/queue/tickets/<token>/stream — the board's stream, filtered to this ticket —
// shows a large banner and plays a chime (WebAudio, no sound file) when the number is called, and
// offers the service rating (/api/v1/ratings) once the ticket is done. Words: page.ticket.* ids.
(function () {
  "use strict";
  const t = window.pageText;
  const $ = (id) => document.getElementById(id);
  let state;
  try { state = JSON.parse($("ticket-state").textContent); } catch (e) { return; }
  const lang = document.documentElement.lang || "vi";
  const ratedKey = "motcua.rated." + state.token;
  const live = { state: state, chimes: 0, events: 0, rated: false };
  window.ticketState = live; // read by the browser tests
  let audio = null;
  let offlineTimer = null;

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) { try { audio = new Context(); } catch (e) { return null; } }
    if (audio.state === "suspended") audio.resume().catch(() => {});
    return audio;
  }

  function tone(ctx, frequency, at, length, volume) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(volume, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(at);
    osc.stop(at + length + 0.05);
  }

  function chime() {
    live.chimes += 1;
    if (navigator.vibrate) { try { navigator.vibrate([300, 150, 300]); } catch (e) { /* not allowed */ } }
    const ctx = audioContext();
    if (!ctx) return;
    const start = ctx.currentTime + 0.05;
    [[880, 0], [659, 0.45], [880, 1.0], [659, 1.45]].forEach(([frequency, at]) => tone(ctx, frequency, start + at, 0.45, 0.5));
  }

  function setRow(name, value) {
    const row = $("row-" + name);
    if (!row) return;
    row.hidden = !value;
    row.querySelector("td").textContent = value || "";
  }

  function showBanner(next, ringing) {
    const banner = $("called");
    banner.textContent = next.banner || "";
    banner.hidden = !next.banner;
    banner.classList.toggle("ringing", Boolean(ringing && next.called));
    if (ringing) banner.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function showRating(next) {
    const form = $("rating");
    if (!next.rate) { form.hidden = true; return; }
    form.hidden = false;
    let rated = false;
    try { rated = window.localStorage.getItem(ratedKey) === "1"; } catch (e) { /* private mode */ }
    if (rated) thank(t("page.ticket.rate_done"));
  }

  function thank(text) {
    live.rated = true;
    const form = $("rating");
    const note = document.createElement("p");
    note.className = "ticket-thanks";
    note.setAttribute("role", "status");
    note.textContent = text;
    form.replaceChildren(note);
  }

  function update(next, first) {
    const newCall = next.called && (first || !state.called || next.call !== state.call);
    setRow("status", next.status_text);
    setRow("ahead", next.ahead_text);
    setRow("counter", next.counter_text);
    showBanner(next, newCall);
    showRating(next);
    const finished = next.status === "done" || next.status === "no_show";
    document.querySelector(".ticket-live").hidden = finished; // nothing more to wait for
    document.title = (next.called ? "\u{1F514} " : "") + document.title.replace(/^\u{1F514} /u, "");
    state = next;
    live.state = next;
    if (newCall) chime();
  }

  function connect() {
    const source = new EventSource("/api/v1/queue/tickets/" + encodeURIComponent(state.token) + "/stream?lang=" + encodeURIComponent(lang));
    source.addEventListener("open", () => { clearTimeout(offlineTimer); $("link").hidden = true; });
    source.addEventListener("ticket", (event) => {
      live.events += 1;
      const next = JSON.parse(event.data);
      update(next, false);
      if (next.status === "done") source.close(); // final: nothing more will change
    });
    // the stream ends every half minute and the browser reconnects at once: only a lasting loss is shown
    source.addEventListener("error", () => {
      clearTimeout(offlineTimer);
      offlineTimer = setTimeout(() => { $("link").hidden = source.readyState === EventSource.OPEN; }, 4000);
    });
  }

  const sound = $("sound");
  sound.addEventListener("click", () => { // phones let a page play sound only after a tap
    const ctx = audioContext();
    if (ctx) tone(ctx, 880, ctx.currentTime + 0.02, 0.15, 0.2);
    sound.textContent = t("page.ticket.sound_ready");
    sound.disabled = true;
  });

  const form = $("rating");
  form.querySelectorAll("input[name=score]").forEach((input) => input.addEventListener("change", () => {
    form.querySelectorAll(".star").forEach((star) => {
      star.classList.toggle("on", Number(star.querySelector("input").value) <= Number(input.value));
    });
  }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const picked = form.querySelector("input[name=score]:checked");
    const note = $("rating-note");
    if (!picked) { note.textContent = t("page.ticket.rate_pick"); return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch("/api/v1/ratings?lang=" + encodeURIComponent(lang), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kind: "service", score: Number(picked.value), channel: "queue",
          session: String(state.token).slice(0, 64), counter: state.counter ? String(state.counter) : "",
          comment: $("comment").value.trim() }),
      });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      try { window.localStorage.setItem(ratedKey, "1"); } catch (e) { /* private mode */ }
      thank(body.message || t("page.ticket.rate_done"));
    } catch (e) {
      note.textContent = t("page.ticket.rate_failed");
      button.disabled = false;
    }
  });

  update(state, true);
  if (state.status !== "done") connect();
})();
