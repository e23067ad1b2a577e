// Bảng số liệu: bốn chỉ số chính theo ngày / tuần / tháng (so với kỳ trước), diễn biến theo ngày,
// rồi từng phần chi tiết. Biểu đồ vẽ bằng SVG ngay tại đây (không dùng thư viện ngoài), rộng đúng
// khung chứa và vẽ lại khi đổi cỡ cửa sổ; trục số lượng chỉ có số nguyên.
"use strict";
(function () {
  const { api, el } = Staff;
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#0b4f9c", "#e37400", "#1b7f3b", "#b3261e", "#7b1fa2", "#00838f", "#5d4037", "#c2185b"];
  const FONT_PX = 14; // cỡ chữ trên biểu đồ; một chữ số/chữ cái rộng chừng 0,6 cỡ chữ
  const CHAR_PX = FONT_PX * 0.62;
  const PERIODS = { day: 1, week: 7, month: 30 };
  const DAY_MS = 86400 * 1000;
  const fmt = (v) => (v === null || v === undefined ? "—" : typeof v === "number" ? v.toLocaleString("vi-VN") : v);
  const num = (v, digits) => v.toLocaleString("vi-VN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const pct = (v) => (v === null || v === undefined ? "—" : num(v * 100, 1) + "%");
  const shortDay = (iso) => iso.slice(8, 10) + "/" + iso.slice(5, 7);

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- thang đo ----------------------------------------------------------------------------------

  // Các vạch trục tung: 0 … top, bước «đẹp» (1, 2, 5 × 10ⁿ; thêm 2,5 khi không cần số nguyên).
  function ticks(max, opts) {
    if (opts.max !== undefined) {
      const out = [];
      for (let v = opts.min || 0; v <= opts.max + 1e-9; v += opts.step) out.push(Math.round(v * 1000) / 1000);
      return out;
    }
    if (!(max > 0)) max = 1; // nothing to show yet: an axis 0 … 1
    const target = max / 4;
    const power = Math.pow(10, Math.floor(Math.log10(target)));
    const factors = opts.integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
    let step = factors.map((f) => f * power).find((s) => s >= target - 1e-12);
    if (opts.integer) step = Math.max(1, Math.round(step));
    const top = Math.max(step, Math.ceil(max / step - 1e-9) * step);
    const out = [];
    for (let v = 0; v <= top + 1e-9; v += step) out.push(Math.round(v * 1000) / 1000);
    return out;
  }

  // Khung chung: trục tung có vạch, lề trái vừa nhãn dài nhất, các nhãn trục hoành không chồng nhau.
  function frame(width, height, labels, yTicks, opts) {
    const tickText = yTicks.map((t) => (opts.yFormat || fmt)(t));
    const pad = { l: 12 + Math.max(...tickText.map((t) => t.length)) * CHAR_PX, r: 12, t: 12, b: 30 };
    const root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": opts.title || "biểu đồ", "data-chart": opts.id || "" });
    const plotW = Math.max(10, width - pad.l - pad.r), plotH = height - pad.t - pad.b;
    const lo = yTicks[0], hi = yTicks[yTicks.length - 1];
    const Y = (v) => pad.t + plotH - (plotH * (v - lo)) / (hi - lo || 1);
    yTicks.forEach((t, i) => {
      root.appendChild(svg("line", { x1: pad.l, x2: width - pad.r, y1: Y(t), y2: Y(t), stroke: i ? "#e6e6e6" : "#999" }));
      root.appendChild(svg("text", { x: pad.l - 6, y: Y(t) + FONT_PX * 0.35, "text-anchor": "end", "data-tick": t }, tickText[i]));
    });
    const slot = plotW / Math.max(1, labels.length);
    const widest = Math.max(1, ...labels.map((l) => String(l).length)) * CHAR_PX + 10;
    const every = Math.max(1, Math.ceil(widest / slot));
    return { root: root, pad: pad, plotW: plotW, plotH: plotH, Y: Y, slot: slot, every: every, height: height };
  }

  // Counted from the right: the last label (the chosen day) always shows.
  function xLabel(f, x, label, i, count) {
    if ((count - 1 - i) % f.every !== 0) return;
    f.root.appendChild(svg("text", { x: x, y: f.height - 9, "text-anchor": "middle", class: "x-label" }, label));
  }

  // Nền nhạt dưới các ngày thuộc kỳ đang xem (khi biểu đồ có cả những ngày trước đó).
  function band(f, highlight, xOf) {
    if (!highlight || highlight.every(Boolean)) return;
    const first = highlight.indexOf(true), last = highlight.lastIndexOf(true);
    if (first < 0) return;
    const x0 = xOf(first) - f.slot / 2, x1 = xOf(last) + f.slot / 2, y0 = f.pad.t, y1 = f.pad.t + f.plotH;
    f.root.insertBefore(svg("path", { d: `M ${x0} ${y0} H ${x1} V ${y1} H ${x0} Z`, fill: "#e3ecf8", class: "band" }), f.root.firstChild);
  }

  // --- biểu đồ -----------------------------------------------------------------------------------

  // Cột nhóm: nhãn theo trục hoành, mỗi nhóm một cột cho mỗi dãy. Số lượng: trục số nguyên.
  function barChart(width, labels, series, opts) {
    opts = Object.assign({ integer: true, height: 240 }, opts);
    const max = Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0)));
    const f = frame(width, opts.height, labels, ticks(max, opts), opts);
    const bar = Math.max(2, Math.min(36, (f.slot * 0.8) / series.length));
    const xOf = (i) => f.pad.l + f.slot * i + f.slot / 2;
    band(f, opts.highlight, xOf);
    labels.forEach((label, i) => {
      const x0 = xOf(i) - (bar * series.length) / 2;
      series.forEach((s, j) => {
        const v = s.values[i] || 0;
        const y = f.Y(v);
        const rect = svg("rect", { x: x0 + j * bar, y: y, width: Math.max(1, bar - 1), height: Math.max(0, f.Y(0) - y),
          fill: s.color || COLORS[j % COLORS.length], "data-series": s.name, "data-label": label, "data-value": v });
        if (opts.highlight && !opts.highlight[i]) rect.setAttribute("fill-opacity", "0.45");
        rect.appendChild(svg("title", {}, s.name + " · " + (opts.fullLabels ? opts.fullLabels[i] : label) + ": " + fmt(v)));
        f.root.appendChild(rect);
      });
      xLabel(f, xOf(i), label, i, labels.length);
    });
    return withLegend(f.root, series);
  }

  // Đường: trục hoành là giờ hoặc ngày, mỗi dãy một đường (null: bỏ trống).
  function lineChart(width, xs, series, opts) {
    opts = Object.assign({ height: 240 }, opts);
    const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
    const f = frame(width, opts.height, xs, ticks(max, opts), opts);
    const xOf = (i) => f.pad.l + f.slot * i + f.slot / 2;
    band(f, opts.highlight, xOf);
    xs.forEach((x, i) => xLabel(f, xOf(i), x, i, xs.length));
    const r = xs.length > 31 ? 2.5 : 4;
    series.forEach((s, j) => {
      const color = s.color || COLORS[j % COLORS.length];
      let d = "";
      s.values.forEach((v, i) => { if (v === null) return; d += (d && s.values[i - 1] !== null ? " L " : " M ") + xOf(i) + " " + f.Y(v); });
      if (d) f.root.appendChild(svg("path", { d: d.trim(), fill: "none", stroke: color, "stroke-width": 2.5 }));
      s.values.forEach((v, i) => {
        if (v === null) return;
        const dot = svg("circle", { cx: xOf(i), cy: f.Y(v), r: r, fill: color, "data-series": s.name, "data-label": xs[i], "data-value": v });
        dot.appendChild(svg("title", {}, s.name + " · " + (opts.fullLabels ? opts.fullLabels[i] : xs[i]) + ": " + (opts.yFormat || fmt)(v)));
        f.root.appendChild(dot);
      });
    });
    return withLegend(f.root, opts.legend === false ? [] : series);
  }

  // Thanh ngang: một dòng mỗi mục, tên ở trên thanh (tên dài vẫn đọc được trên màn hình hẹp).
  function hbarChart(width, items, opts) {
    const row = FONT_PX * 3, height = 8 + items.length * row;
    const max = Math.max(1e-6, ...items.map((x) => x.value || 0));
    const valueW = 11 * CHAR_PX, plotW = Math.max(10, width - valueW - 8);
    const root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": opts.title || "biểu đồ", "data-chart": opts.id || "" });
    items.forEach((x, i) => {
      const y = 4 + i * row;
      root.appendChild(svg("text", { x: 0, y: y + FONT_PX }, x.label));
      const w = ((x.value || 0) / max) * plotW;
      const rect = svg("rect", { x: 0, y: y + FONT_PX + 5, width: Math.max(1, w), height: FONT_PX * 0.95, fill: opts.color || COLORS[0],
        "data-label": x.label, "data-value": x.value === null ? "" : x.value });
      rect.appendChild(svg("title", {}, x.label + ": " + (opts.format || fmt)(x.value)));
      root.appendChild(rect);
      root.appendChild(svg("text", { x: Math.max(1, w) + 6, y: y + FONT_PX * 1.85 + 5 }, (opts.format || fmt)(x.value)));
    });
    return withLegend(root, []);
  }

  function withLegend(root, series) {
    const box = el("div", {});
    box.appendChild(root);
    if (series.length > 1) box.appendChild(el("div", { class: "legend" }, series.map((s, j) => el("span", {}, el("i", { style: "background:" + (s.color || COLORS[j % COLORS.length]) }), s.name))));
    return box;
  }

  // Biểu đồ vẽ theo bề rộng khung chứa: ghi lại cách vẽ, vẽ khi khung đã vào trang và khi đổi cỡ.
  let charts = [];
  function chart(id, draw) {
    const box = el("div", { class: "chart", id: id });
    charts.push([box, draw]);
    return box;
  }
  function drawCharts() {
    for (const [box, draw] of charts) {
      if (!box.isConnected) continue;
      box.replaceChildren(draw(Math.max(240, Math.floor(box.clientWidth || 600))));
    }
  }

  // --- chỉ số chính ------------------------------------------------------------------------------

  const KPIS = [
    { key: "on_time_rate", label: "Hồ sơ trả đúng hạn", value: pct, delta: (c) => num(Math.abs(c) * 100, 1) + " điểm %",
      sub: (f) => "trên " + fmt(f.count) + " hồ sơ đã giải quyết xong" },
    { key: "satisfaction", label: "Mức hài lòng (điểm 1–5)", value: (v) => (v === null ? "—" : num(v, 2)), delta: (c) => num(Math.abs(c), 2) + " điểm",
      sub: (f) => "trên " + fmt(f.count) + " lượt chấm điểm" },
    { key: "wait_min", label: "Thời gian chờ trung bình", value: (v) => (v === null ? "—" : num(v, 1) + " phút"), delta: (c) => num(Math.abs(c), 1) + " phút",
      sub: (f) => "trên " + fmt(f.count) + " lượt gọi số" },
    { key: "answered_share", label: "Câu hỏi trợ lý tự trả lời", value: pct, delta: (c) => num(Math.abs(c) * 100, 1) + " điểm %",
      sub: (f) => "trên " + fmt(f.count) + " câu hỏi tới trợ lý" },
  ];

  function deltaLines(kpi, f) {
    if (f.value === null) return [el("div", { class: "delta" }, "Chưa có số liệu trong kỳ.")];
    if (f.previous === null) return [el("div", { class: "delta" }, "Kỳ trước chưa có số liệu.")];
    const before = el("div", { class: "sub previous" }, "Kỳ trước: " + kpi.value(f.previous));
    if (!f.change) return [el("div", { class: "delta" }, "= không đổi"), before];
    const arrow = f.change > 0 ? "▲ tăng " : "▼ giảm ";
    return [el("div", { class: "delta " + (f.better ? "better" : "worse"), "data-better": String(f.better) }, arrow + kpi.delta(f.change)), before];
  }

  function headline(h) {
    document.getElementById("headline").replaceChildren(...KPIS.map((kpi) => {
      const f = h[kpi.key];
      const card = el("article", { class: "kpi", "data-headline": kpi.key },
        el("div", { class: "label" }, kpi.label),
        el("div", { class: "value" }, f.available ? kpi.value(f.value) : "—"),
        f.available ? deltaLines(kpi, f) : el("div", { class: "delta" }, "Chưa có dữ liệu."),
        f.available ? el("div", { class: "sub" }, kpi.sub(f)) : null);
      if (kpi.key === "wait_min" && f.by_service && f.by_service.length) {
        const services = f.by_service.filter((s) => s.value !== null).sort((a, b) => b.value - a.value);
        const shown = services.slice(0, 3);
        card.appendChild(el("ul", { "aria-label": "Chờ trung bình theo dịch vụ" }, shown.map((s) =>
          el("li", { "data-service": s.service_code }, el("span", {}, s.service_name), el("b", {}, num(s.value, 1) + " phút")))));
        if (services.length > shown.length) card.appendChild(el("div", { class: "sub" }, "và " + (services.length - shown.length) + " dịch vụ khác (xem phần Hàng đợi)"));
      }
      return card;
    }));
  }

  function trend(rows) {
    const labels = rows.map((r) => shortDay(r.day)), full = rows.map((r) => Staff.day(r.day));
    const highlight = rows.map((r) => r.in_range);
    const line = (id, title, key, opts) => el("div", {}, el("h3", {}, title), chart(id, (w) => lineChart(w, labels,
      [{ name: title, values: rows.map((r) => (r[key] === null ? null : opts.scale ? r[key] * opts.scale : r[key])), color: opts.color }],
      Object.assign({ id: id, title: title, highlight: highlight, fullLabels: full, legend: false, height: 200 }, opts.axis))));
    const percent = { max: 100, step: 25, yFormat: (v) => fmt(v) + "%" };
    document.getElementById("trend-body").replaceChildren(
      el("p", { class: "muted" }, "Nền xanh nhạt: các ngày của kỳ đang xem; phần còn lại để so sánh."),
      el("div", { class: "trend-grid" },
        line("trend-on-time", "Hồ sơ trả đúng hạn (%)", "on_time_rate", { scale: 100, axis: percent, color: COLORS[2] }),
        line("trend-satisfaction", "Mức hài lòng (điểm 1–5)", "satisfaction", { axis: { min: 0, max: 5, step: 1 }, color: COLORS[1] }),
        line("trend-wait", "Thời gian chờ trung bình (phút)", "wait_min", { axis: {}, color: COLORS[3] }),
        line("trend-answered", "Câu hỏi trợ lý tự trả lời (%)", "answered_share", { scale: 100, axis: percent, color: COLORS[0] })),
      el("h3", {}, "Số lượng mỗi ngày"),
      chart("trend-counts", (w) => barChart(w, labels, [
        { name: "Câu hỏi tới trợ lý", values: rows.map((r) => r.questions) },
        { name: "Lượt gọi số", values: rows.map((r) => r.called) },
        { name: "Hồ sơ giải quyết xong", values: rows.map((r) => r.finished) },
        { name: "Lượt chấm điểm", values: rows.map((r) => r.ratings) }],
      { id: "trend-counts", title: "Số lượng mỗi ngày", highlight: highlight, fullLabels: full })));
  }

  // --- các phần chi tiết -------------------------------------------------------------------------

  function cards(items) {
    return items.map(([key, label, value]) => el("div", { class: "card", "data-figure": key }, el("div", { class: "value" }, fmt(value)), el("div", { class: "label" }, label)));
  }

  function table(id, headers, rows, numeric) {
    numeric = numeric || [];
    const t = el("table", { id: id, class: "stack" });
    t.appendChild(el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: numeric.includes(i) ? "num" : "" }, h)))));
    const body = el("tbody", {});
    if (!rows.length) body.appendChild(el("tr", {}, el("td", { colspan: String(headers.length), class: "empty" }, "Không có số liệu trong khoảng ngày này.")));
    rows.forEach((r) => body.appendChild(el("tr", {}, r.map((v, i) => el("td", { class: numeric.includes(i) ? "num" : "", "data-label": headers[i] }, fmt(v))))));
    t.appendChild(body);
    return t;
  }

  const noData = () => el("p", { class: "empty" }, "Chưa có dữ liệu.");
  const share = (v) => (v === null || v === undefined ? null : (v * 100).toLocaleString("vi-VN", { maximumFractionDigits: 1 }) + "%");

  function render(d) {
    charts = [];
    headline(d.headline);
    trend(d.trend);

    const c = d.chatbot;
    document.getElementById("chatbot-cards").replaceChildren(...cards([
      ["chatbot.conversations", "Cuộc trò chuyện", c.conversations], ["chatbot.questions", "Câu hỏi tới trợ lý", c.questions],
      ["chatbot.answered", "Đã trả lời", c.answered], ["chatbot.abstained", "Chưa trả lời được", c.abstained],
      ["chatbot.handed_over", "Chuyển cán bộ", c.handed_over], ["chatbot.unhelpful", "Bị đánh giá chưa hữu ích", c.unhelpful]]));
    const hours = [...Array(24).keys()].map((h) => h + "h");
    document.getElementById("chatbot-hours").replaceWith(chart("chatbot-hours", (w) =>
      barChart(w, hours, [{ name: "Câu hỏi", values: c.by_hour }], { id: "chatbot-hours", title: "Câu hỏi theo giờ" })));

    const r = d.ratings;
    document.getElementById("ratings-cards").replaceChildren(...cards([
      ["ratings.count", "Lượt đánh giá", r.count], ["ratings.average", "Điểm trung bình (1–5)", r.average],
      ["ratings.helpful", "Câu trả lời hữu ích", r.helpful], ["ratings.unhelpful", "Chưa hữu ích", r.unhelpful]]));
    document.getElementById("ratings-chart").replaceWith(r.count ? chart("ratings-chart", (w) => barChart(w, ["1★", "2★", "3★", "4★", "5★"],
      [{ name: "Lượt", values: r.distribution, color: "#e37400" }], { id: "ratings", title: "Phân bố số sao", height: 200 })) : el("div", { id: "ratings-chart" }, noData()));
    document.getElementById("ratings-centers").replaceWith(table("ratings-centers", ["Trung tâm", "Lượt", "Trung bình"], r.by_center.map((x) => [x.center, x.count, x.average]), [1, 2]));

    const dossiers = document.getElementById("dossiers-body");
    if (!d.dossiers) dossiers.replaceChildren(noData());
    else {
      const x = d.dossiers;
      dossiers.replaceChildren(
        el("div", { class: "cards" }, cards([["dossiers.received", "Hồ sơ tiếp nhận", x.received], ["dossiers.finished", "Đã giải quyết xong", x.finished],
          ["dossiers.on_time_rate", "Tỷ lệ đúng hạn", x.on_time_rate === null ? null : (x.on_time_rate * 100).toLocaleString("vi-VN", { maximumFractionDigits: 1 }) + "%"],
          ["dossiers.overdue", "Quá hạn", x.overdue.length]]),
          ...(d.payments ? cards([ // lệ phí: phần nộp trực tuyến (VietQR) và tiền mặt, cạnh tỷ lệ đúng hạn
            ["payments.online_share", "Lệ phí nộp trực tuyến (VietQR)", share(d.payments.online_share)],
            ["payments.cash_share", "Lệ phí nộp tiền mặt", share(d.payments.cash_share)],
            ["payments.paid", "Hồ sơ đã nộp phí", d.payments.paid], ["payments.waived", "Được miễn phí", d.payments.waived]]) : [])),
        ...(d.payments ? [el("h3", {}, "Lệ phí theo ngày"),
          table("payments-days", ["Ngày", "Trực tuyến (VietQR)", "Tiền mặt", "Miễn", "Tỷ lệ trực tuyến"],
            d.payments.by_day.filter((p) => p.in_range).map((p) => [Staff.day(p.day), p.online, p.cash, p.waived, share(p.online_share)]), [1, 2, 3, 4])] : []),
        el("h3", {}, "Theo trạng thái"),
        x.by_status.length ? chart("dossiers-status-chart", (w) => hbarChart(w, x.by_status.map((s) => ({ label: s.label, value: s.count })), { id: "dossiers-status", title: "Hồ sơ theo trạng thái" })) : noData(),
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
      const series = q.by_service.map((s) => ({ name: s.service_name, values: q.hours.map((h) => {
        const row = q.by_hour.find((x) => x.service_code === s.service_code && x.hour === h); return row ? row.mean_wait_min : null; }) }));
      const waited = q.by_service.filter((s) => s.mean_wait_min !== null);
      queue.replaceChildren(
        el("div", { class: "cards" }, cards([["queue.issued", "Số đã cấp", q.issued], ["queue.served", "Đã phục vụ", q.served],
          ["queue.no_show", "Vắng mặt", q.no_show], ["queue.mean_wait_min", "Chờ trung bình (phút)", q.mean_wait_min],
          ["queue.mean_service_min", "Phục vụ trung bình (phút)", q.mean_service_min]])),
        el("h3", {}, "Thời gian chờ trung bình theo dịch vụ (phút)"),
        waited.length ? chart("queue-services-chart", (w) => hbarChart(w, waited.map((s) => ({ label: s.service_name, value: s.mean_wait_min })),
          { id: "queue-services-wait", title: "Thời gian chờ theo dịch vụ", color: COLORS[3], format: (v) => (v === null ? "—" : num(v, 1) + " phút") })) : noData(),
        el("h3", {}, "Thời gian chờ trung bình theo giờ lấy số (phút)"),
        q.by_service.length ? chart("queue-wait-chart", (w) => lineChart(w, q.hours.map((h) => h + "h"), series, { id: "queue-wait", title: "Thời gian chờ theo giờ" })) : noData(),
        table("queue-services", ["Dịch vụ", "Đã cấp", "Đã phục vụ", "Vắng", "Chờ TB (phút)", "Phục vụ TB (phút)"],
          q.by_service.map((s) => [s.service_name, s.issued, s.served, s.no_show, s.mean_wait_min, s.mean_service_min]), [1, 2, 3, 4, 5]),
        table("queue-counters", ["Quầy", "Đã phục vụ", "Phục vụ TB (phút)"], q.by_counter.map((x) => [x.counter_name, x.served, x.mean_service_min]), [1, 2]),
        table("queue-hours", ["Dịch vụ", "Giờ", "Đã cấp", "Chờ TB (phút)", "Phục vụ TB (phút)"],
          q.by_hour.map((x) => [x.service_name, x.hour + "h", x.issued, x.mean_wait_min, x.mean_service_min]), [2, 3, 4]));
    }
    drawCharts();
  }

  // --- kỳ, khoảng ngày, tải số liệu ----------------------------------------------------------------

  const input = (id) => document.getElementById(id);
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  const dayMs = (iso) => Date.parse(iso + "T00:00:00Z");

  function query() {
    const params = new URLSearchParams({ start: input("start").value, end: input("end").value });
    const center = input("center").value.trim();
    if (center) params.set("center", center);
    return params;
  }

  function markPeriod() {
    const days = Math.round((dayMs(input("end").value) - dayMs(input("start").value)) / DAY_MS) + 1;
    document.querySelectorAll("#periods button").forEach((b) => b.setAttribute("aria-pressed", String(PERIODS[b.dataset.period] === days)));
  }

  function describe(h) {
    const span = (a, b) => (a === b ? Staff.day(a) : Staff.day(a) + " – " + Staff.day(b));
    return "Kỳ đang xem: " + span(h.start, h.end) + " (" + h.days + " ngày), so với kỳ trước " + span(h.previous_start, h.previous_end) + ".";
  }

  async function load() {
    const status = input("status"), error = input("error");
    error.textContent = "";
    status.textContent = "Đang tải…";
    markPeriod();
    input("csv").href = "/api/v1/staff/dashboard/export.csv?" + query();
    try {
      const data = await api("GET", "/api/v1/staff/dashboard?" + query());
      render(data);
      status.textContent = describe(data.headline);
      document.body.dataset.range = data.start + "/" + data.end;
      document.body.dataset.loaded = "1";
    } catch (e) { error.textContent = e.message; status.textContent = ""; }
  }

  function show() {
    history.replaceState(null, "", "?" + query());
    load();
  }

  (async function init() {
    const me = await Staff.header("/staff/dashboard");
    const params = new URLSearchParams(location.search);
    const today = isoDay(Date.now() + 7 * 3600 * 1000);
    input("end").value = params.get("end") || today;
    input("start").value = params.get("start") || isoDay(dayMs(input("end").value) - 6 * DAY_MS);
    // a center's staff see their center by default; an empty code means the whole province
    input("center").value = params.has("center") ? params.get("center") : (me.center_code || "");
    input("range").addEventListener("submit", (event) => { event.preventDefault(); show(); });
    document.querySelectorAll("#periods button").forEach((button) => button.addEventListener("click", () => {
      const end = input("end").value || today;
      input("end").value = end;
      input("start").value = isoDay(dayMs(end) - (PERIODS[button.dataset.period] - 1) * DAY_MS);
      show();
    }));
    let pending = 0;
    window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(drawCharts, 150); });
    await load();
  })();
})();
