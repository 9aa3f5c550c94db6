// loopwise rules page: define keyword / regex rules, apply them with Snorkel, read their statistics.
// Loaded after app.js, whose api(), el(), say(), fmt() it uses (and sayOk from admin.js).
"use strict";

pages.rules = async function rules() {
  const id = document.body.dataset.projectId;
  const form = document.getElementById("rule-form");
  let stats = null;

  const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)}%`);

  async function show() {
    const list = (await api("GET", `/api/projects/${id}/rules`)).data;
    const byName = new Map(((stats && stats.rules) || []).map((r) => [r.name, r]));
    document.querySelector("#rules tbody").replaceChildren(...list.map((rule) => {
      const s = byName.get(rule.name);
      return el("tr", { "data-rule": rule.name },
        el("td", { text: rule.name }), el("td", { text: rule.kind }), el("td", { class: "pattern", text: rule.pattern }), el("td", { text: rule.label }),
        el("td", { class: "coverage", text: s ? pct(s.coverage) : "–" }), el("td", { class: "overlap", text: s ? pct(s.overlap) : "–" }),
        el("td", { class: "conflict", text: s ? pct(s.conflict) : "–" }),
        el("td", { class: "accuracy", text: s ? `${s.accuracy === null ? "–" : fmt(s.accuracy, 2)} (${s.n_checked})` : "–" }),
        el("td", {}, el("button", { type: "button", class: "delete", text: "delete", onclick: async () => {
          try { await api("DELETE", `/api/projects/${id}/rules/${rule.id}`); await show(); } catch (error) { say(error.message); }
        } })));
    }));
    document.querySelector("#weak-models tbody").replaceChildren(...((stats && stats.models) || []).map((m) => el("tr", { "data-method": m.method },
      el("td", { text: m.method === "label_model" ? "Snorkel label model" : "majority vote" }), el("td", { class: "coverage", text: pct(m.coverage) }),
      el("td", { class: "accuracy", text: m.accuracy === null ? "–" : fmt(m.accuracy, 3) }), el("td", { text: m.n_checked }), el("td", { class: "muted", text: m.note || "" }))));
    document.getElementById("rules-applied").textContent = stats
      ? `Applied to ${stats.n_records} records (${stats.n_labelled} with a human label) at ${new Date(stats.applied_at).toLocaleString()}.` : "Not applied yet.";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const rule = await api("POST", `/api/projects/${id}/rules`, { name: data.get("name"), kind: data.get("kind"), pattern: data.get("pattern"), label: data.get("label") });
      form.reset();
      sayOk(`Rule ${rule.name} added; apply the rules to see its statistics.`);
      await show();
    } catch (error) { say(error.message); }
  });
  document.getElementById("rules-apply").addEventListener("click", async () => {
    try {
      say("Applying the rules…");
      stats = await api("POST", `/api/projects/${id}/rules/apply`);
      sayOk(`Applied ${stats.rules.length} rules to ${stats.n_records} records.`);
      await show();
    } catch (error) { say(error.message); }
  });
  stats = await api("GET", `/api/projects/${id}/rules/stats`);
  await show();
  document.body.dataset.ready = "1";
};
