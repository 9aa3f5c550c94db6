// loopwise review page: the labels the audit doubts, one at a time, keyboard-first like the annotate page.
// Loaded after app.js, whose api(), el() and say() it uses; record content goes in as text only.
"use strict";

pages.review = async function review() {
  const id = document.body.dataset.projectId;
  const task = document.body.dataset.task;
  const textField = document.body.dataset.textField || "text";
  const project = await api("GET", `/api/projects/${id}`);
  const names = project.label_names;
  const buttons = document.getElementById("review-labels");
  const skipped = new Set();
  let items = [];
  let current = null;
  let decided = 0;
  let chain = Promise.resolve();
  const run = (action) => { chain = chain.then(action).catch((error) => say(error.message)); return chain; };

  buttons.replaceChildren(...names.map((name, i) => el("button", {
    type: "button", "data-label": name, "data-position": i, onclick: (event) => { event.currentTarget.blur(); run(() => decide(name)); },
  }, i < 9 ? el("kbd", { text: String(i + 1) }) : "", ` ${name}`)));

  function show() {
    current = items.find((item) => !skipped.has(item.id)) || null;
    document.getElementById("n-review-open").textContent = items.length;
    document.getElementById("n-review-done").textContent = decided;
    const meta = document.getElementById("review-meta");
    const body = document.getElementById("review-body");
    const doubt = document.getElementById("review-doubt");
    for (const button of buttons.querySelectorAll("button")) button.classList.remove("current", "suggested");
    if (!current) {
      meta.textContent = "";
      delete meta.dataset.itemId;
      doubt.textContent = "";
      const left = items.length ? "Only records you skipped are left; reload the page to see them again." : "No doubted label is waiting for you.";
      body.replaceChildren(el("p", { class: "muted", id: "review-empty", text: left }));
      return;
    }
    const record = current.record;
    meta.textContent = `record ${record.external_id} · labelled by ${current.labelled_by.join(", ")} · audit of retrain ${current.loop_index}`;
    meta.dataset.itemId = current.id;
    const payload = record.payload || {};
    if (task === "image" && record.media_url) {
      body.replaceChildren(el("img", { src: record.media_url, alt: `record ${record.external_id}` }));
    } else if (task === "text") {
      body.replaceChildren(el("div", { class: "text", id: "review-text", text: payload[textField] === undefined || payload[textField] === null ? "" : String(payload[textField]) }));
    } else {
      body.replaceChildren(el("table", {}, el("tbody", {}, ...Object.entries(payload).map(([k, v]) =>
        el("tr", {}, el("th", { text: k }), el("td", { text: typeof v === "object" && v !== null ? JSON.stringify(v) : v }))))));
    }
    doubt.replaceChildren(el("strong", { id: "review-given", text: `Given: ${current.given}` }),
      el("span", { class: "muted", text: ` · the out-of-fold model gives it ${Math.round(100 * current.self_confidence)}% and prefers ` }),
      el("strong", { id: "review-suggested", text: current.suggested || "–" }));
    const given = buttons.querySelector(`button[data-position="${names.indexOf(current.given)}"]`);
    if (given) given.classList.add("current");
    const suggested = buttons.querySelector(`button[data-position="${names.indexOf(current.suggested)}"]`);
    if (suggested) suggested.classList.add("suggested");
  }

  async function load() {
    items = (await api("GET", `/api/projects/${id}/review?status=open&limit=200`)).data
      .filter((item) => !item.labelled_by.includes(state.user.name));
    show();
  }

  async function decide(value) {
    if (!current) return;
    const item = await api("POST", `/api/projects/${id}/review/${current.id}`, { value: value === current.given ? null : value });
    decided += 1;
    say(item.status === "kept" ? `Kept “${item.decided}” on record ${item.record.external_id}.` : `Changed record ${item.record.external_id} to “${item.decided}”.`);
    await load();
  }

  document.getElementById("review-keep").addEventListener("click", () => run(() => decide(current ? current.given : null)));
  document.getElementById("review-skip").addEventListener("click", () => { if (current) { skipped.add(current.id); show(); } });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !current) return;
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
    const position = "123456789".indexOf(event.key);
    if (event.key === "k") { event.preventDefault(); const given = current.given; run(() => decide(given)); }
    else if (event.key === "Enter" && current.suggested && !(event.target instanceof HTMLButtonElement)) {
      event.preventDefault(); const value = current.suggested; run(() => decide(value));
    } else if (event.key === "s") { event.preventDefault(); skipped.add(current.id); show(); }
    else if (event.key.length === 1 && position >= 0 && position < names.length) { event.preventDefault(); const value = names[position]; run(() => decide(value)); }
  });
  if (!state.user) await loadSession();
  await run(load);
  document.body.dataset.ready = "1";
};
