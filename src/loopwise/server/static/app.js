// loopwise annotation UI: plain JavaScript over the JSON API. Record content is only ever put into
// the page with textContent or attributes, never as HTML, so a record cannot inject markup.
"use strict";

const state = { csrf: null, user: null };

async function loadSession() {
  const response = await fetch("/api/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) { state.csrf = null; state.user = null; return null; }
  const data = await response.json();
  state.csrf = data.csrf_token;
  state.user = data.user;
  return data;
}

// Sign-in brings you back here; the server accepts only paths on this site as ?next=.
function loginUrl() { return "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search); }

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    if (!state.csrf) await loadSession();
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  }
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  const response = await fetch(path, options);
  if (response.status === 401 && !path.endsWith("/login")) { window.location.href = loginUrl(); throw new Error("signed out"); }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (!response.ok) {
    const detail = data && data.detail !== undefined ? data.detail : response.statusText;
    const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    error.status = response.status;
    error.detail = detail;  // a 422's list of issues, each with the field it is about in loc
    throw error;
  }
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// Errors and plain notes; sayOk (admin.js) marks a success, which says in green.
function say(message) { const box = document.getElementById("status"); if (box) { box.textContent = message || ""; box.classList.remove("ok"); } }
function fmt(value, digits = 3) { return value === null || value === undefined ? "–" : Number(value).toFixed(digits); }

// The last retrain that failed (GET .../stats), with a retry for admins; hidden once a retrain works.
function showRetrainError(id, stats) {
  const box = document.getElementById("retrain-error");
  const failure = stats.last_retrain_error;
  if (!box) return;
  box.hidden = !failure;
  if (!failure) return;
  document.getElementById("retrain-error-message").textContent = failure.message;
  document.getElementById("retrain-error-when").textContent =
    `${new Date(failure.failed_at).toLocaleString()}, at ${failure.n_labelled} labelled records${stats.training ? "; retrying now" : ""}.`;
  const retry = document.getElementById("retrain-retry");
  if (retry) retry.onclick = async () => {
    try { say((await api("POST", `/api/projects/${id}/retrain`)).detail); } catch (error) { say(error.message); }
  };
}

// -- pages (the annotate page is in annotate.js) --------------------------------------------

const pages = {
  async login() {
    document.getElementById("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      try {
        const session = await api("POST", "/api/login", { name: form.get("name"), password: form.get("password") });
        state.csrf = session.csrf_token;
        window.location.href = event.target.dataset.next || "/";
      } catch (error) { say(error.message); }
    });
  },

  async projects() {
    const body = document.querySelector("#projects tbody");
    const page = await api("GET", "/api/projects");
    body.replaceChildren(...page.data.map((p) => el("tr", {},
      el("td", {}, el("a", { href: `/projects/${p.id}`, text: p.name })),
      el("td", { text: p.task }), el("td", { text: p.archived ? `${p.status}, archived` : p.status }),
      el("td", {}, el("a", { class: "button", href: `/projects/${p.id}/annotate`, text: "Label" })))));
    const form = document.getElementById("project-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const number = (name) => (data.get(name) ? Number(data.get(name)) : null);
      const payload = {
        name: data.get("name"), task: data.get("task"), instructions: data.get("instructions") || "",
        label_names: String(data.get("label_names")).split(",").map((s) => s.trim()).filter(Boolean),
        label_kind: data.get("label_kind") || "single",
        learner: data.get("learner") || null, strategy: data.get("strategy") || null,  // null: the server's default for the label kind (auto for one class)
        batch_size: number("batch_size") || 20, retrain_every: number("retrain_every"),
        labels_per_record: number("labels_per_record") || 1,
        stopping: number("budget") ? { kind: "LabelBudget", budget: number("budget") } : null,
      };
      try {
        const file = data.get("file");
        let project;
        if (file && file.size) {
          // One request: a file the server refuses leaves no half-made project behind.
          const upload = new FormData();
          upload.append("project", JSON.stringify(payload));
          upload.append("file", file);
          project = await api("POST", "/api/projects/upload", upload);
        } else {
          project = await api("POST", "/api/projects", payload);
        }
        window.location.href = `/projects/${project.id}`;
      } catch (error) { say(error.message); }
    });
  },

  async users() {
    const body = document.querySelector("#users tbody");
    const out = document.getElementById("token-out");
    async function refresh() {
      const page = await api("GET", "/api/users");
      body.replaceChildren(...page.data.map((u) => el("tr", { "data-user": u.name, class: u.active ? null : "inactive" },
        el("td", { text: u.name }), el("td", { text: u.role }), el("td", { text: u.has_password ? "set" : "–" }),
        el("td", { text: u.has_token ? "issued" : "–" }), el("td", { class: "active-state", text: u.active ? "active" : "deactivated" }),
        userActions(u, refresh),
        el("td", {}, el("button", { type: "button", text: "New API token", onclick: async () => {
          try {
            const token = await api("POST", `/api/users/${u.id}/token`);
            out.textContent = `Token for ${token.user.name} (shown once): ${token.token}`;
            refresh();
          } catch (error) { say(error.message); }
        } })))));
      document.body.dataset.ready = "1";
    }
    document.getElementById("user-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(event.target);
      try {
        await api("POST", "/api/users", { name: data.get("name"), role: data.get("role"), password: data.get("password") || null });
        event.target.reset();
        refresh();
      } catch (error) { say(error.message); }
    });
    refresh();
  },

  async project() {
    const id = document.body.dataset.projectId;
    async function refresh() {
      const stats = await api("GET", `/api/projects/${id}/stats`);
      showRetrainError(id, stats);
      const p = stats.progress;
      const figures = [["records", p.n_pool], ["done", p.n_done], ["open", p.n_open], ["flagged", p.n_flagged], ["auto-labelled", p.n_auto || 0],
        ["labels", p.n_labels], ["skips", p.n_skips], ["held now", p.n_held], ["test records", p.n_test],
        ["training", stats.training ? "running" : "idle"]];
      document.getElementById("progress-figures").replaceChildren(...figures.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
      document.getElementById("progress-bar").style.width = `${p.n_pool ? (100 * p.n_done) / p.n_pool : 0}%`;
      document.querySelector("#per-annotator tbody").replaceChildren(...Object.entries(stats.labels_per_annotator)
        .map(([name, n]) => el("tr", {}, el("td", { text: name }), el("td", { text: n }))));
      const a = stats.agreement;
      document.getElementById("agreement").replaceChildren(el("dt", { text: "records with 2+ labels" }), el("dd", { text: a.n_records }),
        el("dt", { text: "pairwise agreement" }), el("dd", { text: a.percent === null ? "–" : `${(100 * a.percent).toFixed(1)}%` }),
        el("dt", { text: "Fleiss' kappa" }), el("dd", { text: fmt(a.kappa) }));
      document.querySelector("#loops tbody").replaceChildren(...stats.loops.map((l) => el("tr", { "data-loop": l.loop_index, class: l.selection.active_losing === true ? "losing" : "" },
        el("td", { text: l.loop_index }), el("td", { text: l.n_labelled }), el("td", { text: l.strategy }),
        el("td", { class: "arm", text: armText(l.selection) }), el("td", { class: "verdict", text: verdictText(l.selection) }),
        el("td", { text: fmt(l.metrics.accuracy) }), el("td", { text: fmt(l.metrics.macro_f1) }), el("td", { text: fmt(l.timings.train, 2) }))));
      showActiveLosing(stats);
      showCurve(stats);
      showLabelQuality(stats);
    }
    const memberForm = document.getElementById("member-form");
    if (memberForm) {
      const showMembers = async () => {
        const members = await api("GET", `/api/projects/${id}/members`);
        document.getElementById("members").replaceChildren(...members.data.map((u) => el("li", {}, `${u.name} (${u.role}) `,
          el("button", { type: "button", text: "remove", onclick: async () => { await api("DELETE", `/api/projects/${id}/members/${u.id}`); showMembers(); } }))));
        const users = await api("GET", "/api/users");
        document.getElementById("member-user").replaceChildren(...users.data.map((u) => el("option", { value: u.id, text: u.name })));
      };
      memberForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        try { await api("POST", `/api/projects/${id}/members`, { user_id: Number(new FormData(memberForm).get("user_id")) }); showMembers(); } catch (error) { say(error.message); }
      });
      document.getElementById("import-form").addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          const result = await api("POST", `/api/projects/${id}/import/upload`, new FormData(event.target));
          sayOk(`imported ${result.n_added} of ${result.n_read} records` + (result.n_labels ? `, ${result.n_labels} labels` : ""));
          refresh();
        } catch (error) { say(error.message); }
      });
      showMembers();
    }
    await refresh();
    setInterval(() => refresh().catch(() => {}), 5000);
  },
};

// -- the dashboard's account of auto's choices: the arm per loop, and the random-control slice's verdict --------

function armText(sel) {
  if (!sel.arm) return "–";
  const values = Object.entries(sel.values || {}).map(([arm, v]) => `${arm} ${Number(v).toPrecision(3)}`).join(", ");
  const slice = sel.n_slice ? `; slice ${sel.n_slice_labelled ?? "?"}/${sel.n_slice} labelled` : "";
  return `${sel.arm} (${sel.reason || ""}${values ? `; values ${values}` : ""}${slice})`;
}

function verdictText(sel) {
  // As the HTML report says it (loopwise.reports): no verdict before the random arm has been played and rewarded.
  const cmp = sel.active_vs_random;
  if (!("active_losing" in sel)) return "–";
  if (sel.active_losing === null || sel.active_losing === undefined || !cmp) return "no verdict yet";
  const signed = (v) => (v >= 0 ? "+" : "") + Number(v).toFixed(3);
  const interval = cmp.low === null || cmp.low === undefined ? "" : ` [${signed(cmp.low)}, ${signed(cmp.high)}]`;
  let word = sel.active_losing ? "LOSING to random" : "not behind random";
  if (cmp.high !== null && cmp.high !== undefined && cmp.high < 0) word += " (significant)";
  return `${word}: ${signed(cmp.diff)}${interval}, ${cmp.n_active} active / ${cmp.n_random} random loops`;
}

function showActiveLosing(stats) {
  const card = document.getElementById("active-losing");
  const losing = stats.active_losing || [];
  card.hidden = !losing.length;
  if (!losing.length) return;
  const latest = [...stats.loops].reverse().find((l) => "active_losing" in l.selection);
  const now = latest && latest.selection.active_losing === true ? `It still is at loop ${latest.loop_index}: ${verdictText(latest.selection)}.`
    : latest ? `Loop ${latest.loop_index} says: ${verdictText(latest.selection)}.` : "";
  document.getElementById("active-losing-message").textContent =
    `From labels alone, the active part of auto's batches was losing to random sampling in loop${losing.length === 1 ? "" : "s"} ${losing.join(", ")}. ${now}`;
}

// -- the dashboard's label quality: the review queue's counts, the consensus and each annotator's quality -----

function showLabelQuality(stats) {
  const r = stats.review;
  document.getElementById("review-figures").replaceChildren(...[["waiting", r.n_open], ["kept", r.n_kept], ["changed", r.n_changed],
    ["withdrawn", r.n_withdrawn]].flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { "data-count": k, text: v })]));
  const c = stats.consensus;
  document.getElementById("consensus-caption").textContent = !c ? "No retrain yet."
    : `Training labels by ${c.method} (retrain ${c.loop_index}): ${c.n_records} records, ${c.n_uncertain} with a confidence under 0.8.`;
  document.querySelector("#annotator-quality tbody").replaceChildren(...(c ? c.annotators : []).map((a) => el("tr", { "data-annotator": a.annotator },
    el("td", { text: a.annotator }), el("td", { class: "quality", text: fmt(a.quality) }), el("td", { text: fmt(a.agreement) }), el("td", { text: a.n_labels }))));
}

// -- the dashboard's learning curve ---------------------------------------------------------------

const hasValue = (v) => v !== undefined && v !== null;

function curveCaption(stats, scored, control) {
  const n = stats.loops.length;
  if (!n) return "No retrain yet: the curve starts with the first retrain, after the first batch of labels.";
  const retrains = `${n} retrain${n === 1 ? "" : "s"}`;
  if (!scored.length) return `${retrains} so far, none with an accuracy yet (see the notes below).`;
  const how = stats.evaluation === "test"
    ? `accuracy on the held-out test set (${stats.progress.n_test} records)`
    : "accuracy by cross-validation on the labels (the project has no test set)";
  const extra = control.length ? "; dashed: the random-control estimate (accuracy on records the strategy drew at random)" : "";
  return `Solid: ${how}, after each of ${scored.length} of ${retrains}${extra}.`;
}

function curveNotes(loops) {
  // One line per note, with the retrains it applies to ("too few labels per class for cross-validation").
  const byNote = new Map();
  for (const l of loops) if (l.metrics.note) byNote.set(l.metrics.note, [...(byNote.get(l.metrics.note) || []), l]);
  return [...byNote].map(([note, ls]) => {
    const first = ls[0].n_labelled, last = ls[ls.length - 1].n_labelled;
    const at = ls.length === 1 ? `retrain at ${first} labels` : `${ls.length} retrains, ${first}–${last} labels`;
    return el("li", { text: `${note} (${at})` });
  });
}

function showCurve(stats) {
  const scored = stats.loops.filter((l) => hasValue(l.metrics.accuracy));
  const control = stats.loops.filter((l) => hasValue(l.metrics.random_control));
  document.getElementById("curve-caption").textContent = curveCaption(stats, scored, control);
  document.getElementById("curve-notes").replaceChildren(...curveNotes(stats.loops));
  const legend = document.getElementById("curve-legend");
  legend.replaceChildren(...(scored.length ? [el("span", {}, el("span", { class: "swatch" }), stats.evaluation === "test" ? "test accuracy" : "cross-validated accuracy")] : []),
    ...(control.length ? [el("span", {}, el("span", { class: "swatch random" }), "random-control estimate")] : []));
  drawCurve(document.getElementById("curve"), scored, control);
}

function niceStep(max) {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) || power;
}

function drawCurve(container, loops, control) {
  const ns = "http://www.w3.org/2000/svg";
  if (!loops.length && !control.length) { container.replaceChildren(); return; }
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "curve wide");
  svg.setAttribute("id", "curve-svg");
  const [W, H, left, right, top, bottom] = [900, 320, 56, 16, 14, 44];
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const maxX = Math.max(...loops.map((l) => l.n_labelled), ...control.map((l) => l.n_labelled), 1);
  const x = (v) => left + ((W - left - right) * v) / maxX;
  const y = (v) => H - bottom - (H - top - bottom) * v;
  const add = (tag, attrs, text) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v)); if (text !== undefined) n.textContent = text; svg.append(n); return n; };
  for (let i = 0; i <= 5; i += 1) {
    const v = i / 5;
    add("line", { class: "grid", x1: left, y1: y(v), x2: W - right, y2: y(v) });
    add("text", { x: left - 8, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(1));
  }
  const step = niceStep(maxX);
  for (let v = 0; v <= maxX + 1e-9; v += step) {
    add("line", { x1: x(v), y1: H - bottom, x2: x(v), y2: H - bottom + 5 });
    add("text", { class: "x-tick", x: x(v), y: H - bottom + 18, "text-anchor": "middle" }, String(Math.round(v)));
  }
  add("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom });
  add("line", { x1: left, y1: top, x2: left, y2: H - bottom });
  add("text", { class: "axis-title", x: (left + W - right) / 2, y: H - 6, "text-anchor": "middle" }, "labelled records");
  add("text", { class: "axis-title", x: 14, y: (top + H - bottom) / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${(top + H - bottom) / 2})` }, "accuracy");
  const series = (points, key, cls) => {
    if (!points.length) return;
    add("polyline", { class: cls, points: points.map((l) => `${x(l.n_labelled)},${y(l.metrics[key])}`).join(" ") });
    for (const l of points) {
      add("circle", { class: cls, cx: x(l.n_labelled), cy: y(l.metrics[key]), r: 3.5 })
        .append(Object.assign(document.createElementNS(ns, "title"), { textContent: `${l.n_labelled} labels: ${Number(l.metrics[key]).toFixed(3)} (retrain ${l.loop_index})` }));
    }
  };
  series(loops, "accuracy", "model");
  series(control, "random_control", "random");
  container.replaceChildren(svg);
}

document.addEventListener("DOMContentLoaded", async () => {
  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => { try { await api("POST", "/api/logout"); } finally { window.location.href = "/login"; } });
  const page = pages[document.body.dataset.page];
  if (page) { try { await page(); } catch (error) { say(error.message); } }
});
