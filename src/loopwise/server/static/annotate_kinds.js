// loopwise annotate page: the label widgets of the kinds beyond one class: tags (checkboxes), a number, entity spans.
// Each is keyboard-first like the class buttons: number keys toggle a tag or pick an entity type, Enter submits.
// Loaded before annotate.js, which calls labelWidget() for a project whose label_kind is not single.
"use strict";

const WIDGET_KEYS = "123456789abcdefghijklmnopqrtvwxyz"; // as LABEL_KEYS: by position, never s or u

// The record's tokens and where each starts, as the server splits them (_label_kinds.record_tokens).
function recordTokens(payload, textField) {
  const own = payload && payload.tokens;
  if (Array.isArray(own) && own.length && own.every((t) => typeof t === "string" && t)) {
    const starts = []; let at = 0;
    for (const t of own) { starts.push(at); at += t.length + 1; }
    return { text: own.join(" "), tokens: own.slice(), starts };
  }
  const raw = payload ? payload[textField] : null;
  const text = raw === undefined || raw === null ? "" : String(raw);
  const tokens = [], starts = [];
  for (const m of text.matchAll(/\S+/g)) { tokens.push(m[0]); starts.push(m.index); }
  return { text, tokens, starts };
}

function parseMine(kind, text) {
  if (text === null || text === undefined) return null;
  try { return kind === "number" ? Number(text) : JSON.parse(text); } catch (error) { return null; }
}

function labelWidget(kind, names, container, submit) {
  const box = el("div", { id: "label-widget", "data-kind": kind });
  const send = el("button", { type: "button", id: "submit-label" }, "Submit ", el("kbd", { text: "Enter" }));
  container.replaceChildren(box, send);
  const keyOf = (i) => (i < WIDGET_KEYS.length ? WIDGET_KEYS[i] : null);
  if (kind === "multi") return tagsWidget(names, box, send, submit, keyOf);
  if (kind === "number") return numberWidget(names, box, send, submit);
  return spansWidget(names, box, send, submit, keyOf);
}

function tagsWidget(names, box, send, submit, keyOf) {
  const boxes = names.map((name, i) => el("input", { type: "checkbox", tabindex: "-1", "data-label": name, "data-position": i }));
  box.replaceChildren(...names.map((name, i) => el("label", { class: "tag" }, boxes[i], " ", keyOf(i) ? el("kbd", { text: keyOf(i) }) : "", ` ${name}`)));
  const value = () => boxes.filter((b) => b.checked).map((b) => b.dataset.label);
  send.addEventListener("click", () => submit(value()));
  return {
    show(record, body, mine) { const on = new Set(parseMine("multi", mine) || []); boxes.forEach((b) => { b.checked = on.has(b.dataset.label); }); },
    key(event) {
      if (event.key === "Enter") { submit(value()); return true; }
      const i = WIDGET_KEYS.indexOf(event.key);
      if (event.key.length === 1 && i >= 0 && i < boxes.length) { boxes[i].checked = !boxes[i].checked; return true; }
      return false;
    },
  };
}

function numberWidget(names, box, send, submit) {
  const field = el("input", { type: "number", step: "any", id: "number-value", "aria-label": names[0] || "value", required: "" });
  box.replaceChildren(el("label", {}, `${names[0] || "value"} `, field));
  const go = () => {
    if (field.value.trim() === "" || !Number.isFinite(Number(field.value))) { say("Type a number first."); field.focus(); return; }
    submit(Number(field.value));
  };
  send.addEventListener("click", go);
  field.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); go(); } });
  return {
    show(record, body, mine) { const v = parseMine("number", mine); field.value = v === null ? "" : String(v); if (record) field.focus(); },
    key(event) { if (event.key === "n") { field.focus(); return true; } return false; }, // n: back to the field
  };
}

function spansWidget(names, box, send, submit, keyOf) {
  let tokens = null, spans = [], suggested = [], anchor = 0, cursor = 0, dragging = false, holder = null;
  const types = el("p", { class: "muted", id: "entity-types" }, ...names.map((name, i) => el("span", { class: "entity-type" }, keyOf(i) ? el("kbd", { text: keyOf(i) }) : "", ` ${name}  `)));
  const list = el("ol", { id: "entity-list" });
  // Suggested entities (the record's `suggested_spans`, e.g. a model's pre-annotations imported with it):
  // + accepts them (each replaces the entities it overlaps), - rejects them; either way they can be corrected after.
  const hint = el("p", { id: "span-suggestions", class: "suggestion", hidden: "" });
  box.replaceChildren(types, hint, el("p", { class: "muted", text: "Select tokens with the mouse (click, drag) or the arrows (Shift extends), then a number key picks the type; Delete removes the entity under the cursor." }), list);
  const range = () => [Math.min(anchor, cursor), Math.max(anchor, cursor)];
  const value = () => spans.map((s) => ({ start: tokens.starts[s.a], end: tokens.starts[s.b] + tokens.tokens[s.b].length, label: s.label }));

  function paint() {
    if (!holder) return;
    const [a, b] = range();
    holder.querySelectorAll(".tok").forEach((node) => {
      const i = Number(node.dataset.i);
      const span = spans.find((s) => s.a <= i && i <= s.b);
      node.classList.toggle("selected", i >= a && i <= b);
      node.classList.toggle("cursor", i === cursor);
      if (span) { node.dataset.entity = span.label; node.classList.toggle("entity-start", i === span.a); } else { delete node.dataset.entity; node.classList.remove("entity-start"); }
    });
    list.replaceChildren(...spans.map((s, n) => el("li", { "data-label": s.label, "data-start": tokens.starts[s.a] },
      `${s.label}: ${tokens.tokens.slice(s.a, s.b + 1).join(" ")} `,
      el("button", { type: "button", class: "remove-entity", text: "remove", onclick: () => { spans.splice(n, 1); paint(); } }))));
  }

  function showHint() {
    hint.hidden = !suggested.length;
    hint.replaceChildren(...(suggested.length ? [el("strong", { text: `Suggested: ${suggested.map((s) => `${s.label} “${tokens.tokens.slice(s.a, s.b + 1).join(" ")}”`).join(", ")}` }),
      " · ", el("kbd", { text: "+" }), " accept · ", el("kbd", { text: "-" }), " reject"] : []));
  }

  function settle(accept) {
    if (!suggested.length) return false;
    if (accept) for (const s of suggested) { spans = spans.filter((o) => o.b < s.a || o.a > s.b); spans.push(s); }
    spans.sort((x, y) => x.a - y.a);
    suggested = [];
    showHint(); paint(); return true;
  }

  function tag(label) {
    const [a, b] = range();
    spans = spans.filter((s) => s.b < a || s.a > b); // a new entity replaces those it overlaps
    spans.push({ a, b, label });
    spans.sort((x, y) => x.a - y.a);
    anchor = cursor = Math.min(b + 1, tokens.tokens.length - 1);
    paint();
  }

  send.addEventListener("click", () => submit(value()));
  document.addEventListener("mouseup", () => { dragging = false; });
  return {
    show(record, body, mine, textField) {
      spans = []; suggested = []; anchor = cursor = 0; holder = null;
      if (!record) { hint.hidden = true; return; }
      tokens = recordTokens(record.payload || {}, textField);
      const toTokens = (list) => (Array.isArray(list) ? list : []).flatMap((s) => {
        const a = tokens.starts.indexOf(s.start), b = tokens.starts.findIndex((st, i) => st + tokens.tokens[i].length === s.end);
        return a >= 0 && b >= a && names.includes(s.label) ? [{ a, b, label: s.label }] : [];
      });
      spans = toTokens(parseMine("spans", mine));
      if (!mine) suggested = toTokens((record.payload || {}).suggested_spans);
      showHint();
      holder = el("div", { id: "tokens", class: "text tokens" }, ...tokens.tokens.flatMap((t, i) => [
        el("span", { class: "tok", "data-i": i, text: t,
          onmousedown: (event) => { event.preventDefault(); dragging = true; anchor = cursor = i; paint(); },
          onmouseover: () => { if (dragging) { cursor = i; paint(); } } }), " "]));
      const text = body.querySelector("#record-text");
      if (text) text.replaceWith(holder); else body.prepend(holder);
      paint();
    },
    key(event) {
      if (!tokens || !tokens.tokens.length) return false;
      const last = tokens.tokens.length - 1;
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        cursor = Math.max(0, Math.min(last, cursor + (event.key === "ArrowRight" ? 1 : -1)));
        if (!event.shiftKey) anchor = cursor;
        paint(); return true;
      }
      if (event.key === "Delete" || event.key === "Backspace") { spans = spans.filter((s) => !(s.a <= cursor && cursor <= s.b)); paint(); return true; }
      if (event.key === "Enter") { submit(value()); return true; }
      if (event.key === "+" || event.key === "-") return settle(event.key === "+");
      const i = WIDGET_KEYS.indexOf(event.key);
      if (event.key.length === 1 && i >= 0 && i < names.length) { tag(names[i]); return true; }
      return false;
    },
  };
}
