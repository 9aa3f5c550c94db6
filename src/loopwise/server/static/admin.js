// loopwise admin console: project settings, pause/resume, the record browser, disagreements, archive
// and delete; plain JavaScript over the JSON API (app.js's api, el and say). Record content goes into
// the page with textContent only, never as HTML.
"use strict";

function sayOk(message) {
  say(message);
  const box = document.getElementById("status");
  if (box) box.classList.add("ok");
}

function recordText(record, textField) {
  const payload = record.payload || {};
  const value = payload[textField] !== undefined ? payload[textField] : payload.text;
  if (value !== undefined && value !== null) return String(value);
  return JSON.stringify(payload);
}

// The users page's buttons (app.js draws the list): deactivate or reactivate, revoke the token.
function userActions(u, refresh) {
  const act = async (method, path, message) => {
    try { await api(method, path); sayOk(message); await refresh(); } catch (error) { say(error.message); }
  };
  return el("td", { class: "admin-actions" },
    el("button", { type: "button", class: u.active ? "deactivate" : "activate", text: u.active ? "Deactivate" : "Reactivate",
      onclick: () => (u.active
        ? act("POST", `/api/users/${u.id}/deactivate`, `${u.name} is deactivated: cannot sign in, token revoked.`)
        : act("POST", `/api/users/${u.id}/activate`, `${u.name} is active again; issue a new token if needed.`)) }),
    u.has_token ? el("button", { type: "button", class: "revoke", text: "Revoke token",
      onclick: () => act("DELETE", `/api/users/${u.id}/token`, `${u.name}'s token is revoked.`) }) : "");
}

function labelsText(record) {
  return record.labels.map((l) => `${l.annotator}: ${l.value}`).join(", ") || "–";
}

pages.admin = async function admin() {
  const id = document.body.dataset.projectId;
  const projectName = document.body.dataset.projectName;
  let project = await api("GET", `/api/projects/${id}`);
  const textField = project.settings.text_field || "text";

  // -- settings --------------------------------------------------------------------------------
  const form = document.getElementById("settings-form");
  const stopping = project.settings.stopping;
  const plainBudget = stopping && stopping.kind === "LabelBudget" && Object.keys(stopping).length === 2;
  if (plainBudget) form.elements.budget.value = stopping.budget;
  else if (stopping) form.elements.budget.placeholder = `stopping rule: ${JSON.stringify(stopping)}`;

  function clearErrors() { for (const span of form.querySelectorAll(".field-error")) span.textContent = ""; }
  function showIssues(error) {
    // FastAPI's 422 lists issues with loc ["body", field, ...]; the services' own ones name the field the same way.
    if (!Array.isArray(error.detail)) { say(error.message); return; }
    const unplaced = [];
    for (const issue of error.detail) {
      const span = form.querySelector(`[data-error-for="${issue.loc[1]}"]`);
      if (span) span.textContent = span.textContent ? `${span.textContent}; ${issue.msg}` : issue.msg;
      else unplaced.push(issue.msg);
    }
    say(unplaced.length ? unplaced.join("; ") : "Some settings were refused: see the messages by the fields.");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const get = (name) => form.elements[name].value.trim();
    const number = (name) => (get(name) === "" ? null : Number(get(name)));
    const body = {
      strategy: get("strategy"), learner: get("learner"), retrain_mode: get("retrain_mode"), initializer: get("initializer"), batch_size: number("batch_size"),
      labels_per_record: number("labels_per_record"), retrain_every: number("retrain_every"),
      cost_per_label: number("cost_per_label"), consensus: get("consensus"), audit: get("audit") === "true",
      weak_start: get("weak_start") === "true", weak_weight: number("weak_weight"),
      auto_label_precision: number("auto_label_precision"),
    };
    for (const key of ["batch_size", "labels_per_record", "cost_per_label"]) if (body[key] === null) delete body[key];
    try { body.strategy_params = get("strategy_params") ? JSON.parse(get("strategy_params")) : {}; } catch (e) {
      form.querySelector('[data-error-for="strategy_params"]').textContent = `not JSON: ${e.message}`;
      say("Some settings were refused: see the messages by the fields.");
      return;
    }
    const budget = number("budget");
    if (budget !== null) body.stopping = { kind: "LabelBudget", budget };
    else if (plainBudget || !stopping) body.stopping = null;
    try {
      project = await api("PATCH", `/api/projects/${id}`, body);
      sayOk(`Settings saved: strategy ${project.settings.strategy}, learner ${project.settings.learner}, batch ${project.settings.batch_size}.`);
    } catch (error) { showIssues(error); }
  });

  const pause = document.getElementById("pause-toggle");
  function showStatus() {
    document.getElementById("project-status").textContent = project.status;
    pause.textContent = project.status === "active" ? "Pause" : "Resume";
  }
  pause.addEventListener("click", async () => {
    try {
      project = await api("PATCH", `/api/projects/${id}`, { status: project.status === "active" ? "stopped" : "active" });
      showStatus();
      sayOk(project.status === "active" ? "Resumed: the queue serves annotators again." : "Paused: the queue serves nobody until you resume.");
    } catch (error) { say(error.message); }
  });

  // -- record browser --------------------------------------------------------------------------
  const search = document.getElementById("record-search");
  const pageSize = 20;
  let offset = 0;
  async function showHistory(record) {
    const history = await api("GET", `/api/projects/${id}/records/${record.id}/history`);
    const box = document.getElementById("record-history");
    document.getElementById("history-title").textContent = `History of record ${record.external_id}`;
    box.querySelector("tbody").replaceChildren(...history.data.map((h) => el("tr", { class: h.undone ? "undone" : null },
      el("td", { text: new Date(h.created_at).toLocaleString() }), el("td", { text: h.kind }), el("td", { text: h.annotator }),
      el("td", { text: h.value || "" }), el("td", { text: h.undone ? "undone" : h.reason || "" }))));
    box.hidden = false;
    box.dataset.recordId = record.id;
  }
  async function browse() {
    const data = new FormData(search);
    const params = new URLSearchParams({ offset: String(offset), limit: String(pageSize) });
    for (const key of ["q", "status", "label", "annotator", "predicted", "max_confidence"]) if (data.get(key)) params.set(key, String(data.get(key)));
    const page = await api("GET", `/api/projects/${id}/records?${params}`);
    document.querySelector("#records tbody").replaceChildren(...page.data.map((r) => el("tr", { "data-record-id": r.id },
      el("td", { text: r.external_id }), el("td", { class: "text", text: recordText(r, textField) }), el("td", { text: r.state }),
      el("td", { class: "labels-cell", text: labelsText(r) }), el("td", { text: r.adjudicated || "" }),
      el("td", { class: "predicted-cell", text: r.predicted ? `${r.predicted} (${Math.round(100 * r.confidence)}%)` : "" }),
      el("td", {}, el("button", { type: "button", class: "history-button", text: "History", onclick: () => showHistory(r).catch((e) => say(e.message)) })))));
    const last = Math.min(offset + page.data.length, page.count);
    document.getElementById("records-count").textContent = page.count ? `${offset + 1}–${last} of ${page.count} records` : "no record matches";
    document.getElementById("records-prev").disabled = offset === 0;
    document.getElementById("records-next").disabled = last >= page.count;
    document.getElementById("browser").dataset.loaded = String(Date.now());
  }
  search.addEventListener("submit", (event) => { event.preventDefault(); offset = 0; browse().catch((e) => say(e.message)); });
  document.getElementById("records-prev").addEventListener("click", () => { offset = Math.max(0, offset - pageSize); browse().catch((e) => say(e.message)); });
  document.getElementById("records-next").addEventListener("click", () => { offset += pageSize; browse().catch((e) => say(e.message)); });

  // -- disagreements ---------------------------------------------------------------------------
  async function disagreements() {
    const page = await api("GET", `/api/projects/${id}/records?status=disagreed&limit=100`);
    document.querySelector("#disagreement-list tbody").replaceChildren(...page.data.map((r) => el("tr", { "data-record-id": r.id },
      el("td", { text: r.external_id }), el("td", { class: "text", text: recordText(r, textField) }),
      el("td", { text: labelsText(r) }), el("td", { class: "decided", text: r.adjudicated || "–" }),
      el("td", {}, ...project.label_names.map((name) => el("button", { type: "button", "data-adjudicate": name, text: name, onclick: async () => {
        try {
          await api("POST", `/api/projects/${id}/records/${r.id}/adjudicate`, { value: name });
          sayOk(`Record ${r.external_id} decided: ${name}. It wins over the annotators' labels from the next retrain on.`);
          await disagreements();
        } catch (error) { say(error.message); }
      } }))))));
    if (!page.data.length) {
      document.querySelector("#disagreement-list tbody").replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No disagreements." })));
    }
  }

  // -- archive and delete ----------------------------------------------------------------------
  const archive = document.getElementById("archive-toggle");
  archive.addEventListener("click", async () => {
    try {
      project = await api("PATCH", `/api/projects/${id}`, { archived: !project.archived });
      archive.textContent = project.archived ? "Restore from archive" : "Archive";
      sayOk(project.archived ? "Archived: hidden from annotators, takes no labels." : "Restored from the archive.");
    } catch (error) { say(error.message); }
  });
  const confirm = document.getElementById("delete-confirm");
  const remove = document.getElementById("delete-project");
  confirm.addEventListener("input", () => { remove.disabled = confirm.value !== projectName; });
  document.getElementById("delete-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (confirm.value !== projectName) { say("Type the project's name exactly to delete it."); return; }
    try {
      await api("DELETE", `/api/projects/${id}`);
      window.location.href = "/";
    } catch (error) { say(error.message); }
  });

  await Promise.all([browse(), disagreements()]);
  document.body.dataset.ready = "1";
};
