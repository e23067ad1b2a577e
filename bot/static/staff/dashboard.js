// Bảng số liệu: biểu đồ vẽ bằng SVG ngay tại đây (không dùng thư viện ngoài), kèm bảng và CSV.
"use strict";
(function () {
  const { api, el } = Staff;
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#0b4f9c", "#e37400", "#1b7f3b", "#b3261e", "#7b1fa2", "#00838f", "#5d4037", "#c2185b"];
  const fmt = (v) => (v === null || v === undefined ? "—" : typeof v === "number" ? v.toLocaleString("vi-VN") : v);

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Grouped bar chart: labels along x, one bar per series.
  function barChart(labels, series, opts) {
    opts = opts || {};
    const height = 220, pad = { l: 40, r: 10, t: 10, b: 40 };
    const longest = Math.max(0, ...labels.map((l) => String(l).length));
    const groupWidth = Math.max(28, series.length * 16 + 8, longest * 6.5 + 8);
    const width = pad.l + pad.r + labels.length * groupWidth;
    const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v || 0)));
    const root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": opts.title || "biểu đồ", "data-chart": opts.id || "" });
    const plot = height - pad.t - pad.b;
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + plot - (plot * i) / 4;
      root.appendChild(svg("line", { x1: pad.l, x2: width - pad.r, y1: y, y2: y, stroke: "#e0e0e0" }));
      root.appendChild(svg("text", { x: pad.l - 4, y: y + 4, "text-anchor": "end" }, fmt(Math.round((max * i) / 4 * 10) / 10)));
    }
    labels.forEach((label, i) => {
      const x0 = pad.l + i * groupWidth + 4;
      series.forEach((s, j) => {
        const v = s.values[i] || 0;
        const h = (plot * v) / max;
        const bar = svg("rect", { x: x0 + j * 16, y: pad.t + plot - h, width: 13, height: Math.max(h, 0), fill: s.color || COLORS[j % COLORS.length],
          "data-series": s.name, "data-label": label, "data-value": v });
        bar.appendChild(svg("title", {}, s.name + " · " + label + ": " + fmt(v)));
        root.appendChild(bar);
      });
      root.appendChild(svg("text", { x: x0 + (series.length * 16) / 2, y: height - pad.b + 14, "text-anchor": "middle" }, label));
    });
    const box = el("div", {});
    box.appendChild(root);
    if (series.length > 1) box.appendChild(legend(series));
    return box;
  }

  // Line chart: x = hour, one line per series (null values are gaps).
  function lineChart(xs, series, opts) {
    opts = opts || {};
    const width = Math.max(360, 40 + xs.length * 40), height = 220, pad = { l: 40, r: 10, t: 10, b: 30 };
    const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
    const root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": opts.title || "biểu đồ", "data-chart": opts.id || "" });
    const plot = height - pad.t - pad.b;
    const step = xs.length > 1 ? (width - pad.l - pad.r) / (xs.length - 1) : 0;
    const X = (i) => pad.l + i * step, Y = (v) => pad.t + plot - (plot * v) / max;
    for (let i = 0; i <= 4; i++) {
      root.appendChild(svg("line", { x1: pad.l, x2: width - pad.r, y1: Y((max * i) / 4), y2: Y((max * i) / 4), stroke: "#e0e0e0" }));
      root.appendChild(svg("text", { x: pad.l - 4, y: Y((max * i) / 4) + 4, "text-anchor": "end" }, fmt(Math.round((max * i) / 4 * 10) / 10)));
    }
    xs.forEach((x, i) => root.appendChild(svg("text", { x: X(i), y: height - 10, "text-anchor": "middle" }, x)));
    series.forEach((s, j) => {
      const color = COLORS[j % COLORS.length];
      let d = "";
      s.values.forEach((v, i) => { if (v === null) return; d += (d && s.values[i - 1] !== null ? " L " : " M ") + X(i) + " " + Y(v); });
      root.appendChild(svg("path", { d: d.trim(), fill: "none", stroke: color, "stroke-width": 2 }));
      s.values.forEach((v, i) => {
        if (v === null) return;
        const dot = svg("circle", { cx: X(i), cy: Y(v), r: 3.5, fill: color, "data-series": s.name, "data-label": xs[i], "data-value": v });
        dot.appendChild(svg("title", {}, s.name + " · " + xs[i] + ": " + fmt(v)));
        root.appendChild(dot);
      });
    });
    const box = el("div", {});
    box.appendChild(root);
    box.appendChild(legend(series));
    return box;
  }

  function legend(series) {
    return el("div", { class: "legend" }, series.map((s, j) => el("span", {}, el("i", { style: "background:" + (s.color || COLORS[j % COLORS.length]) }), s.name)));
  }

  function cards(items) {
    return items.map(([key, label, value]) => el("div", { class: "card", "data-figure": key }, el("div", { class: "value" }, fmt(value)), el("div", { class: "label" }, label)));
  }

  function table(id, headers, rows, numeric) {
    numeric = numeric || [];
    const t = el("table", { id: id });
    t.appendChild(el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: numeric.includes(i) ? "num" : "" }, h)))));
    const body = el("tbody", {});
    if (!rows.length) body.appendChild(el("tr", {}, el("td", { colspan: String(headers.length), class: "empty" }, "Không có số liệu trong khoảng ngày này.")));
    rows.forEach((r) => body.appendChild(el("tr", {}, r.map((v, i) => el("td", { class: numeric.includes(i) ? "num" : "" }, fmt(v))))));
    t.appendChild(body);
    return t;
  }

  const noData = () => el("p", { class: "empty" }, "Chưa có dữ liệu.");

  function render(d) {
    const c = d.chatbot;
    document.getElementById("chatbot-cards").replaceChildren(...cards([
      ["chatbot.conversations", "Cuộc trò chuyện", c.conversations], ["chatbot.questions", "Câu hỏi tới trợ lý", c.questions],
      ["chatbot.answered", "Đã trả lời", c.answered], ["chatbot.abstained", "Chưa trả lời được", c.abstained],
      ["chatbot.handed_over", "Chuyển cán bộ", c.handed_over], ["chatbot.unhelpful", "Bị đánh giá chưa hữu ích", c.unhelpful]]));
    const hours = [...Array(24).keys()];
    document.getElementById("chatbot-hours").replaceChildren(barChart(hours.map((h) => h + "h"), [{ name: "Câu hỏi", values: c.by_hour }], { id: "chatbot-hours", title: "Câu hỏi theo giờ" }));

    const r = d.ratings;
    document.getElementById("ratings-cards").replaceChildren(...cards([
      ["ratings.count", "Lượt đánh giá", r.count], ["ratings.average", "Điểm trung bình (1–5)", r.average],
      ["ratings.helpful", "Câu trả lời hữu ích", r.helpful], ["ratings.unhelpful", "Chưa hữu ích", r.unhelpful]]));
    document.getElementById("ratings-chart").replaceChildren(r.count ? barChart(["1★", "2★", "3★", "4★", "5★"], [{ name: "Lượt", values: r.distribution, color: "#e37400" }], { id: "ratings", title: "Phân bố số sao" }) : noData());
    document.getElementById("ratings-centers").replaceWith(table("ratings-centers", ["Trung tâm", "Lượt", "Trung bình"], r.by_center.map((x) => [x.center, x.count, x.average]), [1, 2]));

    const dossiers = document.getElementById("dossiers-body");
    if (!d.dossiers) dossiers.replaceChildren(noData());
    else {
      const x = d.dossiers;
      dossiers.replaceChildren(
        el("div", { class: "cards" }, cards([["dossiers.received", "Hồ sơ tiếp nhận", x.received], ["dossiers.finished", "Đã giải quyết xong", x.finished],
          ["dossiers.on_time_rate", "Tỷ lệ đúng hạn", x.on_time_rate === null ? null : (x.on_time_rate * 100).toLocaleString("vi-VN", { maximumFractionDigits: 1 }) + "%"],
          ["dossiers.overdue", "Quá hạn", x.overdue.length]])),
        el("h3", {}, "Theo trạng thái"),
        x.by_status.length ? barChart(x.by_status.map((s) => s.label), [{ name: "Hồ sơ", values: x.by_status.map((s) => s.count) }], { id: "dossiers-status", title: "Hồ sơ theo trạng thái" }) : noData(),
        table("dossiers-status", ["Trạng thái", "Số hồ sơ"], x.by_status.map((s) => [s.label, s.count]), [1]),
        el("h3", {}, "Theo thủ tục"),
        table("dossiers-procedure", ["Mã", "Thủ tục", "Số hồ sơ"], x.by_procedure.map((p) => [p.procedure_code, p.procedure_name, p.count]), [2]),
        el("h3", {}, "Theo trung tâm"),
        table("dossiers-center", ["Mã trung tâm", "Hồ sơ tiếp nhận"], x.by_center.map((c) => [c.center, c.received]), [1]),
        el("h3", {}, "Hồ sơ quá hạn"),
        table("dossiers-overdue", ["Mã hồ sơ", "Thủ tục", "Người nộp", "Trạng thái", "Hạn trả", "Quá (ngày)"],
          x.overdue.map((o) => [o.code, o.procedure_name, o.applicant_name, o.status_label, o.due_date, o.days_late]), [5]));
    }

    const queue = document.getElementById("queue-body");
    if (!d.queue) queue.replaceChildren(noData());
    else {
      const q = d.queue;
      const services = q.by_service.map((s) => s.service_code);
      const series = q.by_service.map((s) => ({ name: s.service_name, values: q.hours.map((h) => {
        const row = q.by_hour.find((x) => x.service_code === s.service_code && x.hour === h); return row ? row.mean_wait_min : null; }) }));
      queue.replaceChildren(
        el("div", { class: "cards" }, cards([["queue.issued", "Số đã cấp", q.issued], ["queue.served", "Đã phục vụ", q.served],
          ["queue.no_show", "Vắng mặt", q.no_show], ["queue.mean_wait_min", "Chờ trung bình (phút)", q.mean_wait_min],
          ["queue.mean_service_min", "Phục vụ trung bình (phút)", q.mean_service_min]])),
        el("h3", {}, "Thời gian chờ trung bình theo giờ lấy số (phút)"),
        services.length ? lineChart(q.hours.map((h) => h + "h"), series, { id: "queue-wait", title: "Thời gian chờ theo giờ" }) : noData(),
        table("queue-services", ["Dịch vụ", "Đã cấp", "Đã phục vụ", "Vắng", "Chờ TB (phút)", "Phục vụ TB (phút)"],
          q.by_service.map((s) => [s.service_name, s.issued, s.served, s.no_show, s.mean_wait_min, s.mean_service_min]), [1, 2, 3, 4, 5]),
        table("queue-counters", ["Quầy", "Đã phục vụ", "Phục vụ TB (phút)"], q.by_counter.map((x) => [x.counter_name, x.served, x.mean_service_min]), [1, 2]),
        table("queue-hours", ["Dịch vụ", "Giờ", "Đã cấp", "Chờ TB (phút)", "Phục vụ TB (phút)"],
          q.by_hour.map((x) => [x.service_name, x.hour + "h", x.issued, x.mean_wait_min, x.mean_service_min]), [2, 3, 4]));
    }
  }

  function query() {
    const params = new URLSearchParams({ start: document.getElementById("start").value, end: document.getElementById("end").value });
    const center = document.getElementById("center").value.trim();
    if (center) params.set("center", center);
    return params;
  }

  async function load() {
    const status = document.getElementById("status");
    const error = document.getElementById("error");
    error.textContent = "";
    status.textContent = "Đang tải…";
    document.getElementById("csv").href = "/api/v1/staff/dashboard/export.csv?" + query();
    try {
      render(await api("GET", "/api/v1/staff/dashboard?" + query()));
      status.textContent = "Số liệu từ " + document.getElementById("start").value + " đến " + document.getElementById("end").value + ".";
      document.body.dataset.loaded = "1";
    } catch (e) { error.textContent = e.message; status.textContent = ""; }
  }

  (async function init() {
    const me = await Staff.header("/staff/dashboard");
    const params = new URLSearchParams(location.search);
    const today = new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() + 7 * 3600 * 1000 - 6 * 86400 * 1000).toISOString().slice(0, 10);
    document.getElementById("start").value = params.get("start") || weekAgo;
    document.getElementById("end").value = params.get("end") || today;
    // a center's staff see their center by default; an empty code means the whole province
    document.getElementById("center").value = params.has("center") ? params.get("center") : (me.center_code || "");
    document.getElementById("range").addEventListener("submit", (event) => { event.preventDefault(); history.replaceState(null, "", "?" + query()); load(); });
    await load();
  })();
})();
