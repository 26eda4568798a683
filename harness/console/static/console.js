// The lab console: renders the event stream of /events (server-sent events) and answers
// prompts with POST /api/prompts/{id}. No library: the plots are hand-drawn SVG.
// window.ocppConsole.state is the data every element is drawn from (tests read it).
"use strict";
(function () {
  const state = { stations: {}, prompts: {} };
  const SERIES = [
    ["limit", "#000", "", 2],
    ["offered", "#2060c0", "5 3", 1.5],
    ["L1", "#8b4513", "", 1.5],
    ["L2", "#707070", "", 1.5],
    ["L3", "#7a2a9a", "", 1.5],
    ["lab L1", "#8b4513", "2 2", 1],
    ["lab L2", "#707070", "2 2", 1],
    ["lab L3", "#7a2a9a", "2 2", 1],
  ];
  const SVG = "http://www.w3.org/2000/svg";
  let dirty = false, promptsDirty = false;

  function station(id) {
    if (!state.stations[id]) {
      state.stations[id] = { id: id, info: {}, step: null, wait: null, verdicts: [], evses: {}, bands: [] };
    }
    return state.stations[id];
  }

  function evse(s, n) {
    if (!s.evses[n]) s.evses[n] = { series: {} };
    return s.evses[n];
  }

  function apply(e) {
    const s = e.station ? station(e.station) : null;
    switch (e.type) {
      case "station": s.info = e; break;
      case "case": s.evses = {}; s.bands = []; s.wait = null; break;
      case "step": s.step = e; s.wait = null; break;
      case "wait": s.wait = { remaining_s: e.remaining_s, total_s: e.total_s, at: Date.now() }; break;
      case "verdict": s.verdicts.push(e); break;
      case "point": {
        const series = evse(s, e.evse).series;
        (series[e.series] = series[e.series] || []).push([e.t, e.v]);
        break;
      }
      case "band": {
        const i = s.bands.findIndex((b) => b.t0 === e.t0 && b.evse === e.evse);
        if (i >= 0) s.bands[i] = e; else s.bands.push(e);
        evse(s, e.evse);
        break;
      }
      case "prompt": state.prompts[e.id] = e; promptsDirty = true; break;
      case "answered": delete state.prompts[e.id]; promptsDirty = true; break;
    }
    dirty = true;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    if (h) return h + "h " + two(m) + "m " + two(r) + "s";
    if (m) return m + "m " + two(r) + "s";
    return r + "s";
  }

  // The expected band as polygon points: around scale x the limit in force, within
  // max(tolerance, rel_tolerance x |target|); at_or_below from 0, at_least up to the top.
  function bandPolygon(band, limits, tEnd, x, y, top) {
    const t1 = band.t1 === null ? tEnd : band.t1;
    const steps = [];
    if (band.uses_limit) {
      let current = null;
      for (const [t, v] of limits) if (t <= band.t0) current = v;
      steps.push([band.t0, current]);
      for (const [t, v] of limits) if (t > band.t0 && t < t1) steps.push([t, v]);
    } else {
      steps.push([band.t0, band.cap]);
    }
    const targetOf = (v) => {
      const terms = [v, band.uses_limit ? band.cap : null].filter((x) => x !== null);
      return terms.length ? band.scale * Math.min(...terms) : null;
    };
    const upper = [], lower = [];
    steps.forEach(([t, v], i) => {
      const next = i + 1 < steps.length ? steps[i + 1][0] : t1;
      const target = targetOf(v);
      if (target === null) return;
      const half = Math.max(band.tolerance, band.rel_tolerance * Math.abs(target));
      let lo = target - half, hi = target + half;
      if (band.relation === "at_or_below") lo = 0;
      if (band.relation === "at_least") hi = top;
      upper.push([t, hi], [next, hi]);
      lower.push([t, lo], [next, lo]);
    });
    if (!upper.length) return null;
    return upper.concat(lower.reverse()).map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
  }

  function plot(s, n, data) {
    const W = 560, H = 200, L = 34, R = 8, T = 8, B = 22;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", "data-station": s.id, "data-evse": n });
    let tMin = Infinity, tMax = -Infinity, vMax = 16;
    for (const points of Object.values(data.series)) {
      for (const [t, v] of points) {
        tMin = Math.min(tMin, t); tMax = Math.max(tMax, t);
        if (v !== null) vMax = Math.max(vMax, v);
      }
    }
    const bands = s.bands.filter((b) => b.evse === Number(n));
    for (const b of bands) { tMin = Math.min(tMin, b.t0); tMax = Math.max(tMax, b.t1 || b.t0); }
    if (!isFinite(tMin)) { tMin = Date.now() / 1000 - 60; tMax = tMin + 60; }
    if (tMax - tMin < 30) tMax = tMin + 30;
    vMax = Math.ceil((vMax + 2) / 4) * 4;
    const x = (t) => L + ((t - tMin) / (tMax - tMin)) * (W - L - R);
    const y = (v) => T + (1 - v / vMax) * (H - T - B);
    for (let v = 0; v <= vMax; v += vMax / 4) {
      root.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e4e4e8" }));
      const label = svg("text", { x: 2, y: y(v) + 3 }); label.textContent = v + " A"; root.appendChild(label);
    }
    const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });
    const start = svg("text", { x: L, y: H - 6 }); start.textContent = clock(tMin);
    const span = svg("text", { x: W / 2 - 30, y: H - 6 }); span.textContent = duration(tMax - tMin) + " shown";
    const end = svg("text", { x: W - R - 48, y: H - 6 }); end.textContent = clock(tMax);
    root.append(start, span, end);
    const limits = data.series.limit || [];
    for (const b of bands) {
      const points = bandPolygon(b, limits, tMax, x, y, vMax);
      if (points) root.appendChild(svg("polygon", { points: points, fill: "#2a9a4a", "fill-opacity": 0.15, class: "band" }));
    }
    for (const [name, colour, dash, width] of SERIES) {
      const points = data.series[name];
      if (!points || !points.length) continue;
      const stepped = name === "limit";
      let path = "", previous = null;
      const sorted = points.slice().sort((a, b) => a[0] - b[0]);
      for (const [t, v] of sorted) {
        if (v === null) { previous = null; continue; }
        if (previous === null) path += ` M${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        else if (stepped) path += ` H${x(t).toFixed(1)} V${y(v).toFixed(1)}`;
        else path += ` L${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        previous = v;
      }
      if (stepped && previous !== null) path += ` H${x(tMax).toFixed(1)}`;
      root.appendChild(svg("path", {
        d: path, fill: "none", stroke: colour, "stroke-width": width, "stroke-dasharray": dash,
        "data-series": name, "data-points": sorted.length,
      }));
      if (!stepped && sorted.length <= 600) {  // dots while they stay readable
        for (const [t, v] of sorted) {
          if (v !== null) root.appendChild(svg("circle", { cx: x(t), cy: y(v), r: 1.8, fill: colour, "data-series": name }));
        }
      }
    }
    return root;
  }

  function renderPrompts() {
    const box = document.getElementById("prompts");
    box.replaceChildren();
    for (const p of Object.values(state.prompts)) {
      const row = el("div", { class: "prompt", "data-prompt": p.id, "data-station": p.station });
      row.append(el("span", { class: "who" }, p.station), el("span", { class: "msg" }, p.message));
      const choices = p.response === "yes_no" ? [["Yes", true], ["No", false]] : [["Done", true], ["Cannot", false]];
      for (const [label, answer] of choices) {
        const button = el("button", { type: "button", "data-answer": String(answer) }, label);
        button.addEventListener("click", () => answerPrompt(p.id, answer, button));
        row.append(button);
      }
      box.append(row);
    }
  }

  function renderStations() {
    const main = document.getElementById("stations");
    const ids = Object.keys(state.stations).filter((id) => state.stations[id].info.station).sort();
    if (!ids.length) return;
    main.replaceChildren();
    for (const id of ids) {
      const s = state.stations[id], i = s.info;
      const card = el("section", { class: "station", "data-station": id });
      const title = el("h2");
      title.append(el("span", { class: "dot" + (i.connected ? " on" : ""), title: i.connected ? "connected" : "not connected" }));
      title.append(el("span", { class: "id" }, id));
      title.append(el("span", { class: "state", "data-state": i.state }, i.state));
      card.append(title);
      const meta = el("div", { class: "meta" });
      const field = (label, value, cls) => { meta.append(label + " "); meta.append(el("b", { class: cls }, value || "–")); meta.append("  "); };
      field("OCPP", i.ocpp, "ocpp"); field("vendor", i.vendor, "vendor"); field("model", i.model, "model");
      field("firmware", i.firmware, "firmware");
      field("cases", i.planned ? `${i.finished}/${i.planned}` + (i.tally ? ` (${i.tally})` : "") : "", "progress");
      card.append(meta);
      const now = el("div", { class: "now" });
      if (i.case) {
        now.append("case ", el("b", { class: "case" }, i.case));
        if (s.step && s.step.case === i.case) now.append(` · step ${s.step.number} (${s.step.kind}): `, el("span", { class: "step" }, s.step.detail));
      }
      if (s.wait && s.wait.remaining_s > 0) {
        const left = s.wait.remaining_s - (Date.now() - s.wait.at) / 1000;
        now.append(" · ", el("span", { class: "countdown" }, `wait ${duration(left)} left of ${duration(s.wait.total_s)}`));
      }
      if (i.report) now.append(" · ", el("a", { href: i.report, class: "report", target: "_blank" }, "report"));
      card.append(now);
      const list = el("ul", { class: "verdicts" });
      for (const v of s.verdicts) {
        const item = el("li", { "data-case": v.case });
        item.append(el("span", { class: "v " + v.verdict }, v.verdict), v.case + (v.reason ? " — " + v.reason : ""));
        list.append(item);
      }
      card.append(list);
      for (const [n, data] of Object.entries(s.evses)) {
        card.append(el("div", { class: "meta" }, `EVSE ${n}`));
        card.append(plot(s, n, data));
      }
      main.append(card);
    }
  }

  async function answerPrompt(id, answer, button) {
    button.disabled = true;
    try {
      await fetch("api/prompts/" + encodeURIComponent(id), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Console": "answer" },
        body: JSON.stringify({ answer: answer }),
        credentials: "same-origin",
      });
    } finally {
      button.disabled = false;
    }
  }

  function render() {
    if (promptsDirty) { promptsDirty = false; renderPrompts(); }
    if (dirty) { dirty = false; renderStations(); }
  }

  function connect() {
    const token = new URLSearchParams(location.search).get("token");
    const source = new EventSource("events" + (token ? "?token=" + encodeURIComponent(token) : ""));
    const link = document.getElementById("link");
    source.onopen = () => {
      // a reconnection replays the snapshot: start from scratch
      state.stations = {}; state.prompts = {}; promptsDirty = true;
      link.textContent = "live"; link.className = "link up";
    };
    source.onerror = () => { link.textContent = "disconnected"; link.className = "link down"; };
    source.onmessage = (message) => { apply(JSON.parse(message.data)); };
  }

  window.ocppConsole = { state: state };
  setInterval(() => { dirty = dirty || Object.values(state.stations).some((s) => s.wait); render(); }, 250);
  connect();
})();
