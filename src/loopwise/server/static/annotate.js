// loopwise annotate page: the queue, the model's suggestion and why a record was chosen, the annotator's
// history (reopen and change a label), undo of the last action, and keys for any number of classes.
// Loaded after app.js, whose api(), el() and say() it uses; record content goes in as text only.
"use strict";

// Keys are bound to button positions, never to class names: digits for the first nine buttons, then
// letters (not s or u, which skip and undo). Past the last key, type-ahead search ("/") reaches a class.
const LABEL_KEYS = "123456789abcdefghijklmnopqrtvwxyz";

function labelKey(position) { return position < LABEL_KEYS.length ? LABEL_KEYS[position] : null; }

function percent(p) { return `${Math.round(100 * p)}%`; }

pages.annotate = async function annotate() {
  const id = document.body.dataset.projectId;
  const task = document.body.dataset.task;
  const textField = document.body.dataset.textField || "text";
  const project = await api("GET", `/api/projects/${id}`);
  const names = project.label_names;
  const buttons = document.getElementById("labels");
  const search = document.getElementById("label-search");
  const help = document.getElementById("help");
  let current = null; // the item on screen: {record, suggestion, chosen, my_label}
  let editing = null; // the record reopened from the history, while its label is being changed
  let chain = Promise.resolve();
  const run = (action) => { chain = chain.then(action).catch((error) => say(error.message)); return chain; };

  const kind = project.settings.label_kind || "single";
  // Tags, a number or spans: annotate_kinds.js draws the widget; the class buttons are for one class.
  const widget = kind === "single" ? null : labelWidget(kind, names, buttons, (value) => run(() => label(value)));
  if (!widget) buttons.replaceChildren(...names.map((name, i) => {
    const key = labelKey(i);
    return el("button", { type: "button", "data-label": name, "data-position": i, "data-key": key, onclick: (event) => { event.currentTarget.blur(); run(() => label(name)); } },
      key ? el("kbd", { text: key }) : "", ` ${name}`);
  }));
  const buttonFor = (name) => buttons.querySelector(`button[data-position="${names.indexOf(name)}"]`);

  function show(item) {
    current = item && item.record ? item : null;
    const record = current ? current.record : null;
    const body = document.getElementById("record-body");
    const meta = document.getElementById("record-meta");
    showSuggestion(current);
    document.getElementById("why").textContent = current && current.chosen ? current.chosen.summary : "";
    if (!record) {
      meta.textContent = "";
      delete meta.dataset.recordId;
      body.replaceChildren(el("p", { class: "muted", id: "queue-empty", text: (item && item.reason) || "Nothing to label." }));
      return;
    }
    meta.textContent = `record ${record.external_id}`;
    meta.dataset.recordId = record.id;
    const payload = record.payload || {};
    if (task === "image" && record.media_url) {
      body.replaceChildren(el("img", { id: "record-image", src: record.media_url, alt: `record ${record.external_id}` }));
    } else if (task === "text") {
      const text = payload[textField] === undefined || payload[textField] === null ? "" : String(payload[textField]);
      const rest = Object.entries(payload).filter(([k]) => k !== textField);
      body.replaceChildren(el("div", { class: "text", id: "record-text", text }),
        el("p", { class: "muted", text: `${text.length} characters` }), fieldsTable(rest));
    } else {
      body.replaceChildren(fieldsTable(Object.entries(payload)));
    }
  }

  function showWidget(item) {
    if (widget) widget.show(current ? current.record : null, document.getElementById("record-body"), current ? current.my_label : null, textField);
  }

  function showSuggestion(item) {
    const box = document.getElementById("suggestion");
    for (const button of buttons.querySelectorAll("button")) {
      button.classList.remove("suggested", "current");
      button.removeAttribute("aria-describedby");
    }
    const suggestion = item ? item.suggestion : null;
    if (item && item.my_label) { const mine = buttonFor(item.my_label); if (mine) mine.classList.add("current"); }
    if (!suggestion) { box.replaceChildren(); box.hidden = true; return; }
    const top = suggestion.top.map((c) => `${c.label} ${percent(c.probability)}`).join(" · ");
    box.replaceChildren(el("strong", { text: `Suggested: ${suggestion.label} (${percent(suggestion.probability)})` }),
      el("span", { class: "muted", text: ` · ${top} · ` }), el("kbd", { text: "Enter" }), " accepts");
    box.hidden = false;
    const button = buttonFor(suggestion.label);
    if (button) { button.classList.add("suggested"); button.setAttribute("aria-describedby", "suggestion"); }
  }

  function fieldsTable(entries) {
    return el("table", { id: "record-fields" }, el("tbody", {}, ...entries.map(([k, v]) =>
      el("tr", {}, el("th", { text: k }), el("td", { text: typeof v === "object" && v !== null ? JSON.stringify(v) : v })))));
  }

  function setEditing(item) {
    editing = item;
    const banner = document.getElementById("editing");
    if (!item) { banner.hidden = true; banner.replaceChildren(); return; }
    banner.replaceChildren(`Changing your label “${item.my_label}” on record ${item.record.external_id}: pick the new label, or `,
      el("button", { type: "button", id: "edit-cancel", text: "back to the queue", onclick: () => run(next) }), " (Esc).");
    banner.hidden = false;
  }

  async function progress() {
    const p = await api("GET", `/api/projects/${id}/progress`);
    document.getElementById("n-done").textContent = p.n_done;
    document.getElementById("n-pool").textContent = p.n_pool;
    document.getElementById("n-mine").textContent = p.n_mine;
    document.getElementById("n-skips").textContent = p.n_skips;
  }

  async function history() {
    const page = await api("GET", `/api/projects/${id}/history?limit=20`);
    const list = document.getElementById("history-list");
    list.replaceChildren(...page.data.map((h) => {
      const what = h.kind === "label" ? `→ ${h.value}` : h.kind === "skip" ? "skipped" : `flagged (${h.reason})`;
      const row = el("li", { "data-record-id": h.record_id, "data-kind": h.kind, "data-state": h.state, class: h.state },
        el("span", { class: "muted", text: new Date(h.created_at).toLocaleTimeString() }), ` ${h.external_id} ${what}`,
        h.state === "current" ? "" : el("span", { class: "muted", text: ` (${h.state})` }));
      if (h.kind === "label" && h.state === "current") {
        row.append(" ", el("button", { type: "button", class: "reopen", text: "change", onclick: () => run(() => reopen(h.record_id)) }));
      }
      return row;
    }));
    document.getElementById("history-empty").hidden = page.data.length > 0;
  }

  async function refresh() { say(""); await Promise.all([progress(), history()]); }

  async function next() {
    setEditing(null);
    show(await api("POST", `/api/projects/${id}/queue/next`));
    showWidget();
    await refresh();
  }

  async function reopen(recordId) {
    const item = await api("GET", `/api/projects/${id}/records/${recordId}/item`);
    show(item);
    showWidget();
    setEditing(item.my_label ? item : null);
    say(item.my_label ? "" : "You have no label on this record any more.");
  }

  async function label(name) {
    if (!current) return;
    if (editing) {
      await api("PUT", `/api/projects/${id}/records/${current.record.id}/label`, { value: name });
      await next();
      say(`Changed to “${name}”.`);
      return;
    }
    await api("POST", `/api/projects/${id}/records/${current.record.id}/label`, { value: name });
    await next();
  }

  async function skip() {
    if (!current || editing) return;
    await api("POST", `/api/projects/${id}/records/${current.record.id}/skip`);
    await next();
  }

  async function flag(reason) {
    if (!current) return;
    await api("POST", `/api/projects/${id}/records/${current.record.id}/flag`, { reason });
    await next();
  }

  async function undo() {
    const item = await api("POST", `/api/projects/${id}/queue/undo`);
    setEditing(null);
    show(item);
    showWidget();
    await refresh();
    const what = { label: "Label undone; label this record again.", skip: "Skip undone: the record is back.", flag: "Flag undone: the record is back." };
    say(what[item.undone] || "Undone.");
  }

  function filterLabels(text) {
    const wanted = text.trim().toLowerCase();
    for (const button of buttons.querySelectorAll("button")) {
      button.hidden = Boolean(wanted) && !button.dataset.label.toLowerCase().includes(wanted);
    }
  }

  function closeSearch() { search.value = ""; filterLabels(""); search.blur(); }

  search.addEventListener("input", () => filterLabels(search.value));
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = buttons.querySelector("button:not([hidden])");
      if (first) { const name = first.dataset.label; closeSearch(); run(() => label(name)); }
    } else if (event.key === "Escape") { event.preventDefault(); closeSearch(); }
  });

  document.getElementById("skip").addEventListener("click", () => run(skip));
  document.getElementById("undo").addEventListener("click", () => run(undo));
  document.getElementById("flag-irrelevant").addEventListener("click", () => run(() => flag("not_relevant")));
  document.getElementById("flag-corrupt").addEventListener("click", () => run(() => flag("corrupt")));
  document.getElementById("help-close").addEventListener("click", () => { help.hidden = true; });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
    if (event.key === "?") { event.preventDefault(); help.hidden = !help.hidden; return; }
    if (event.key === "Escape") {
      event.preventDefault();
      if (!help.hidden) help.hidden = true;
      else if (editing) run(next);
      return;
    }
    if (widget && !(event.key === "Enter" && event.target instanceof HTMLButtonElement) && widget.key(event)) { event.preventDefault(); return; }
    if (event.key === "Enter") {
      if (event.target instanceof HTMLButtonElement) return; // Enter on a focused button presses it
      if (current && current.suggestion) { event.preventDefault(); const name = current.suggestion.label; run(() => label(name)); }
      return;
    }
    if (event.key === "/") { event.preventDefault(); search.focus(); return; }
    const position = LABEL_KEYS.indexOf(event.key);
    if (!widget && event.key.length === 1 && position >= 0 && position < names.length) { event.preventDefault(); const name = names[position]; run(() => label(name)); }
    else if (event.key === "s") { event.preventDefault(); run(skip); }
    else if (event.key === "u") { event.preventDefault(); run(undo); }
  });
  document.getElementById("help-keys").replaceChildren(...names.map((name, i) =>
    el("li", {}, labelKey(i) ? el("kbd", { text: labelKey(i) }) : el("span", { class: "muted", text: "search" }), ` ${name}`)));
  await run(next);
  document.body.dataset.ready = "1";
};
