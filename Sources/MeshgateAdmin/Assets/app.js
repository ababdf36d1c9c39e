// meshgate dashboard. Plain JavaScript, no dependencies. Everything shown comes from
// /admin/api/ (documented in docs/dashboard.md); audit data is attacker-influenced (hosts, paths,
// tool names), so it only ever reaches the page through textContent, never as HTML.
"use strict";

let csrf = null;
const pages = ["live", "inventory", "spend", "policy", "health"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(text) { return el("span", { class: "badge " + text }, text); }

function shortTime(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : ""; }

async function api(path, options) {
  const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (init.method === "POST") init.headers["X-CSRF-Token"] = csrf || "";
  const response = await fetch(path, init);
  if (response.status === 401) { location.href = "/"; throw new Error("signed out"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
  return body;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- Live -------------------------------------------------------------------------------------

const live = { source: null, paused: false, held: [], last: 0, maxRows: 500 };

function liveQuery() {
  const form = document.getElementById("live-filters");
  const params = new URLSearchParams();
  for (const name of ["event", "action", "identity", "host", "rule"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function liveRow(seq, record) {
  const who = [record.identity, record.team].filter(Boolean).join(" / ");
  const target = record.host || record.qname || record.mcp_server || record.ruleset || "";
  const path = record.path ? record.path : "";
  const row = el("tr", { class: "fresh", "data-seq": String(seq) },
    el("td", {}, shortTime(record.ts)),
    el("td", {}, record.event),
    el("td", {}, badge(record.action)),
    el("td", {}, who),
    el("td", { title: target + path }, target + (record.mcp_tool ? " · " + record.mcp_tool : "")),
    el("td", {}, record.rule || ""),
    el("td", {}, (record.detections || []).join(", ")));
  row.addEventListener("click", () => showDecision(seq));
  return row;
}

function addDecisions(items) {
  const tbody = document.querySelector("#live-table tbody");
  for (const item of items) {
    if (item.seq <= live.last) continue;
    live.last = item.seq;
    tbody.prepend(liveRow(item.seq, item.record));
  }
  while (tbody.rows.length > live.maxRows) tbody.deleteRow(tbody.rows.length - 1);
}

async function showDecision(seq) {
  const panel = document.getElementById("live-detail");
  try {
    const item = await api("/admin/api/decisions/" + seq);
    document.getElementById("detail-seq").textContent = "#" + seq;
    document.getElementById("detail-json").textContent = JSON.stringify(item.record, null, 2);
  } catch (error) {
    document.getElementById("detail-json").textContent = String(error.message);
  }
  panel.hidden = false;
}

function setLiveStatus(text) { document.getElementById("live-status").textContent = text; }

async function startLive() {
  if (live.source) live.source.close();
  live.last = 0;
  live.held = [];
  document.querySelector("#live-table tbody").replaceChildren();
  const params = liveQuery();
  params.set("limit", "200");
  const first = await api("/admin/api/decisions?" + params);
  addDecisions(first.decisions);
  params.delete("limit");
  params.set("since", String(first.next));
  const source = new EventSource("/admin/api/decisions/stream?" + params);
  source.addEventListener("decision", (message) => {
    const item = JSON.parse(message.data);
    if (live.paused) {
      live.held.push(item);
      if (live.held.length > live.maxRows) live.held.shift();
      setLiveStatus("paused: " + live.held.length + " new");
    } else {
      addDecisions([item]);
    }
  });
  source.addEventListener("open", () => setLiveStatus(live.paused ? "paused" : "live"));
  source.addEventListener("error", () => {
    setLiveStatus("reconnecting…");
    // EventSource retries by itself; a session that ended (a restart, a sign-out elsewhere) sends
    // the page back to the login form instead of retrying forever.
    api("/admin/api/session").catch(() => {});
  });
  live.source = source;
}

function togglePause() {
  live.paused = !live.paused;
  document.getElementById("pause").textContent = live.paused ? "Resume" : "Pause";
  if (!live.paused) {
    addDecisions(live.held);
    live.held = [];
  }
  setLiveStatus(live.paused ? "paused" : "live");
}

// ---- MCP inventory ----------------------------------------------------------------------------

async function loadInventory() {
  const data = await api("/admin/api/inventory");
  const rows = data.servers.map((s) => {
    const done = Object.entries(s.actions).map(([action, n]) => el("span", {}, badge(action), " " + n + " "));
    const tools = el("div", { class: "tools" }, s.tools.map((t) =>
      el("span", { title: "last " + shortTime(t.last_seen) }, t.name + " ×" + t.calls,
        t.blocked ? el("span", { class: "badge block" }, "blocked " + t.blocked) : null,
        t.drift ? el("span", { class: "badge drift" }, "drift: " + t.drift) : null)));
    const who = s.identities.concat(s.teams.map((t) => "team " + t)).join(", ");
    return el("tr", { "data-url": s.url },
      el("td", {}, s.url, s.registered_as ? el("div", { class: "muted" }, "registry: " + s.registered_as) : null),
      el("td", {}, badge(s.governance)),
      el("td", {}, s.transport),
      el("td", {}, s.protocol_version || ""),
      el("td", {}, shortTime(s.first_seen)),
      el("td", {}, shortTime(s.last_seen)),
      el("td", {}, who),
      el("td", {}, s.calls),
      el("td", {}, done),
      el("td", {}, tools));
  });
  fill(document.querySelector("#inventory-table tbody"), rows.length ? rows
    : [el("tr", {}, el("td", { colSpan: 10, class: "muted" }, "No MCP traffic seen yet."))]);
}

// ---- Token spend ------------------------------------------------------------------------------

function usageBar(used, limit) {
  if (!limit) return el("span", { class: "muted" }, "no cap");
  const share = Math.min(1, used / limit);
  const bar = el("div", { class: "bar" + (used >= limit ? " over" : ""), title: Math.round(share * 100) + "%" }, el("span", {}));
  bar.firstChild.style.width = (share * 100).toFixed(1) + "%";
  return bar;
}

function dayChart(days) {
  const totals = new Map();
  for (const row of days) totals.set(row.day, (totals.get(row.day) || 0) + row.input_tokens + row.output_tokens);
  const keys = [...totals.keys()].sort().slice(-14);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const width = Math.max(1, keys.length) * 44 + 10;
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", "140");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "tokens per day");
  const max = Math.max(1, ...keys.map((k) => totals.get(k)));
  keys.forEach((day, i) => {
    const h = Math.round((totals.get(day) / max) * 100);
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("class", "day");
    rect.setAttribute("x", String(10 + i * 44));
    rect.setAttribute("y", String(110 - h));
    rect.setAttribute("width", "30");
    rect.setAttribute("height", String(Math.max(h, 1)));
    const title = document.createElementNS(ns, "title");
    title.textContent = day + ": " + totals.get(day) + " tokens";
    rect.append(title);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", String(10 + i * 44));
    label.setAttribute("y", "125");
    label.textContent = day.slice(5);
    svg.append(rect, label);
  });
  if (!keys.length) {
    const empty = document.createElementNS(ns, "text");
    empty.setAttribute("x", "10"); empty.setAttribute("y", "60");
    empty.textContent = "no AI calls recorded yet";
    svg.append(empty);
  }
  return svg;
}

async function loadSpend() {
  const data = await api("/admin/api/usage");
  const error = document.getElementById("spend-error");
  error.hidden = !data.window_error;
  error.textContent = data.window_error || "";
  const window = data.window || { teams: [], identities: [] };
  fill(document.querySelector("#spend-teams tbody"), window.teams.map((t) => el("tr", { "data-team": t.team },
    el("td", {}, t.team), el("td", { class: "used" }, t.used), el("td", {}, t.limit === null ? "—" : t.limit),
    el("td", {}, usageBar(t.used, t.limit)), el("td", {}, t.window || ""), el("td", {}, shortTime(t.resets_at)))));
  fill(document.querySelector("#spend-identities tbody"), window.identities.map((i) => el("tr", {},
    el("td", {}, i.identity || "(anonymous)"), el("td", {}, i.team || ""), el("td", {}, i.used),
    el("td", {}, i.limit === undefined ? "" : i.limit))));
  document.getElementById("spend-chart").replaceChildren(dayChart(data.history.days));
  fill(document.querySelector("#spend-models tbody"), data.history.models.map((m) => el("tr", {},
    el("td", {}, m.provider), el("td", {}, m.model), el("td", {}, m.input_tokens), el("td", {}, m.output_tokens), el("td", {}, m.calls))));
}

// ---- Policy -----------------------------------------------------------------------------------

async function loadPolicy() {
  const data = await api("/admin/api/policy");
  const blocks = data.rulesets.map((r) => el("div", { class: "ruleset" },
    el("h2", {}, r.name + " ", el("span", { class: "muted" }, "version " + r.version + " · " + r.file)),
    el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, el("th", {}, "rule"), el("th", {}, "action"), el("th", {}, "hits"), el("th", {}, "description"))),
      el("tbody", {}, r.rules.map((rule) => el("tr", { "data-rule": rule.id },
        el("td", {}, rule.id), el("td", {}, badge(rule.action)), el("td", { class: "hits" }, rule.hits), el("td", {}, rule.description || "")))))));
  if (!blocks.length) blocks.push(el("p", { class: "muted" }, "No rules are loaded: every request is allowed."));
  document.getElementById("policy-rulesets").replaceChildren(...blocks);
  fill(document.querySelector("#policy-changes tbody"), data.changes.map((c) => el("tr", {},
    el("td", {}, shortTime(c.ts)), el("td", {}, c.ruleset), el("td", {}, c.change), el("td", {}, c.old_version || ""),
    el("td", {}, c.new_version || ""), el("td", {}, c.requested_by || ""))));
}

async function runRulesTest(event) {
  event.preventDefault();
  const form = event.target;
  const headers = form.elements.headers.value.split("\n").map((l) => l.trim()).filter(Boolean);
  const request = { url: form.elements.url.value.trim(), method: form.elements.method.value.trim() || "GET", headers,
    body: form.elements.body.value, identity: form.elements.identity.value.trim() };
  const out = document.getElementById("rules-test-result");
  try {
    const decision = await api("/admin/api/rules/test", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
    out.textContent = JSON.stringify(decision, null, 2);
    out.className = "";
  } catch (error) {
    out.textContent = error.message;
    out.className = "error";
  }
}

// ---- Health -----------------------------------------------------------------------------------

async function loadHealth() {
  const data = await api("/admin/api/health");
  document.getElementById("health-summary").replaceChildren(badge(data.ok ? "allow" : "block"), data.ok ? " serving" : " degraded");
  const checks = (data.health && data.health.checks) || {};
  fill(document.querySelector("#health-checks tbody"), Object.entries(checks).map(([name, check]) => {
    const details = Object.entries(check.details || {}).map(([k, v]) => k + ": " + v);
    if (check.reason) details.unshift(check.reason);
    return el("tr", { "data-check": name }, el("td", {}, name), el("td", {}, badge(check.ok ? "allow" : "block"), check.ok ? " ok" : " failing"),
      el("td", {}, details.join("; ")));
  }));
  fill(document.querySelector("#health-listeners tbody"), (data.listeners || []).map((l) => el("tr", {}, el("td", {}, l.name), el("td", {}, l.address))));
  document.getElementById("health-decisions").textContent = JSON.stringify(data.decisions || {}, null, 2);
}

// ---- Navigation -------------------------------------------------------------------------------

const loaders = { inventory: loadInventory, spend: loadSpend, policy: loadPolicy, health: loadHealth };
let refresh = null;

function show(page) {
  if (!pages.includes(page)) page = "live";
  for (const name of pages) document.getElementById("page-" + name).hidden = name !== page;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.page === page);
  clearInterval(refresh);
  const load = loaders[page];
  if (load) {
    const run = () => load().catch((error) => console.warn(page, error));
    run();
    refresh = setInterval(run, 3000);
  }
}

async function main() {
  try {
    csrf = (await api("/admin/api/session")).csrf;
  } catch (error) {
    return;
  }
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf || "" } });
    location.href = "/";
  });
  document.getElementById("pause").addEventListener("click", togglePause);
  const filters = document.getElementById("live-filters");
  filters.addEventListener("change", () => startLive());
  filters.addEventListener("submit", (event) => { event.preventDefault(); startLive(); });
  document.getElementById("rules-test").addEventListener("submit", runRulesTest);
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
  startLive().catch((error) => setLiveStatus(error.message));
}

document.addEventListener("DOMContentLoaded", main);
