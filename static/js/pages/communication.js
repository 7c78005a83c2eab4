// /communication: the query string is the state. The page sends exactly its query string to
// /api/v1/communication and draws the answer; every control shows the answer's `query`. A URL
// naming no parameter starts from the API's first published example. View state (never sent):
// `axis`, the pinned parallelism axis, declared in app/pages.py.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtBytes, fmtNum, fmtPct, fmtTime, fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS, SITE_KEYS } from "../lib/urlstate.js";
import { mount } from "../views/communication.js";

const PAGE_ONLY = NOT_API_KEYS;
const SCALE = { bandwidth: 1e9, network_bandwidth: 1e9, latency: 1e-6, network_latency: 1e-6 };
const NUMBERS = ["dp", "tp", "pp", "cp", "ep", "chunks", "seq_len", "micro_batch", "microbatches", "compute_efficiency", "gpus_per_node", ...Object.keys(SCALE)];
const SELECTS = ["model", "gpu", "zero", "recompute", "compute_dtype", "cp_algorithm"];
const LINK_NAMES = { intra_node: "in node", network: "network", both: "both" };

let params = new URLSearchParams(location.search);
let shown = null;
let exampleList = [];
const load = latest();
const errors = errorBox($("#cm-errors"));
const chart = mount($("#cm-chart"), { onPin: pinAxis });
mountShareBar($("#share"), { getSvg: () => chart.exportSvg(), name: "bitmesh-communication", embedHeight: 900 });

function apiQuery() {
  const q = new URLSearchParams(params);
  for (const k of PAGE_ONLY) q.delete(k);
  return q.toString();
}

function writeUrl() {
  const s = params.toString().replaceAll("%2C", ",");
  const next = s ? `?${s}` : "";
  if (next !== location.search) history.replaceState(null, "", location.pathname + next);
}

function setParam(key, value) {
  if (value === null || value === "" || value === undefined) params.delete(key);
  else params.set(key, String(value));
  writeUrl();
  refresh();
}

// ------------------------------------------------------------------ controls

function fillSelect(select, items) {
  const value = select.value;
  clear(select);
  for (const it of items) select.append(h("option", { value: it.value }, it.label));
  select.value = value;
}

function syncControls(d) {
  const q = d.query;
  for (const k of [...NUMBERS, ...SELECTS]) {
    const el = $(`#cm-${k}`);
    if (!el || document.activeElement === el) continue;
    const v = q[k];
    if (k in SCALE) {
      const link = d.query[k];
      el.value = link === null || link === undefined ? "" : String(Number((link / SCALE[k]).toPrecision(6)));
    } else if (el.tagName === "SELECT" && v !== null && v !== undefined && ![...el.options].some((o) => o.value === String(v))) {
      el.append(h("option", { value: String(v) }, String(v)));
      el.value = String(v);
    } else {
      el.value = v === null || v === undefined ? "" : String(v);
    }
  }
  $("#cm-sequence_parallel").checked = Boolean(q.sequence_parallel);
  const list = $("#cm-overlap-list");
  clear(list);
  for (const o of d.overlap) {
    const box = h("input", { type: "checkbox", id: `cm-overlap_${o.name}`, checked: o.on });
    box.addEventListener("change", () => setParam(`overlap_${o.name}`, box.checked ? "true" : "false"));
    list.append(h("label", { class: "cm-overlap-item", title: o.description }, box, h("b", {}, o.name.toUpperCase()), h("span", { class: "muted" }, o.description)));
  }
  const current = apiQuery();
  const match = exampleList.find((e) => sameQuery(e.query, current));
  $("#cm-example").value = match ? match.query : "";
}

function sameQuery(a, b) {
  const norm = (s) => [...new URLSearchParams(s)].map(([k, v]) => `${k}=${v}`).sort().join("&");
  return norm(a) === norm(b);
}

$("#cm-controls").addEventListener("submit", (ev) => ev.preventDefault());
for (const k of SELECTS) $(`#cm-${k}`).addEventListener("change", (ev) => setParam(k, ev.target.value));
$("#cm-sequence_parallel").addEventListener("change", (ev) => setParam("sequence_parallel", ev.target.checked ? "true" : "false"));
for (const k of NUMBERS) {
  const el = $(`#cm-${k}`);
  el.addEventListener("change", () => {
    const raw = el.value.trim();
    const v = Number(raw);
    if (raw !== "" && !Number.isFinite(v)) {
      el.setAttribute("aria-invalid", "true");
      return;
    }
    el.removeAttribute("aria-invalid");
    setParam(k, raw === "" ? null : k in SCALE ? Number((v * SCALE[k]).toPrecision(6)) : v);
  });
}
$("#cm-example").addEventListener("change", (ev) => {
  if (!ev.target.value) return;
  const keep = new URLSearchParams(location.search);
  params = new URLSearchParams(ev.target.value);
  for (const k of SITE_KEYS) if (keep.has(k)) params.set(k, keep.get(k)); // a new layout: no pin
  writeUrl();
  refresh();
});

// ------------------------------------------------------------------ drawing

function metric(label, value, raw, key, sub) {
  return h(
    "div",
    { class: "metric" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: { metric: key, value: String(raw) } }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}

function renderHeadline(d) {
  const el = $("#cm-headline");
  clear(el);
  const share = (v) => fmtPct(v / d.step_time, 0);
  el.append(
    h("p", { class: "cm-setup" }, `${d.model_title} on ${fmtInt(d.world_size)} × ${d.gpu_title}, ${d.microbatches} microbatches per step${d.schedule !== "none" ? ` (${d.schedule})` : ""}; the bill is pipeline rank ${d.critical_rank}'s, the slowest.`),
    h(
      "div",
      { class: "metrics cm-metrics" },
      metric("Step time", fmtTime(d.step_time), d.step_time, "step_time", `${fmtInt(d.tokens_per_step)} tokens`),
      metric("Compute", fmtTime(d.compute_time), d.compute_time, "compute_time", `${share(d.compute_time)} of the step at ${fmtPct(d.flops.efficiency, 0)} of peak`),
      metric("Exposed comm.", fmtTime(d.exposed_communication_time), d.exposed_communication_time, "exposed_communication_time", `${share(d.exposed_communication_time)}; ${fmtTime(d.communication_time)} in all`),
      metric("Bubble", fmtTime(d.bubble_time), d.bubble_time, "bubble_time", share(d.bubble_time)),
      metric("MFU", fmtPct(d.flops.mfu), d.flops.mfu, "mfu", `${fmtNum(d.flops.per_token / 1e9, 4)} GFLOP per token`),
      metric("Throughput", `${fmtNum(d.tokens_per_second / 1e6, 3)} M tok/s`, d.tokens_per_second, "tokens_per_second", "the whole cluster"),
    ),
  );
}

function renderBill(d) {
  const body = $("#cm-bill tbody");
  clear(body);
  $("#cm-bill-help").textContent = "Per step, on one GPU. Buffer: one call, in nccl-tests' size convention; sent: what this GPU puts on the wire in all calls. Click a row to watch one call on /collectives.";
  for (const e of d.bill) {
    const href = `/collectives?${e.collectives_query}`;
    body.append(
      h(
        "tr",
        { title: `${e.formula}\n${e.source}`, dataset: { axis: e.axis } },
        h("td", {}, e.axis.toUpperCase()),
        h("td", {}, h("a", { href }, e.collective.replace(/_/g, "-")), h("div", { class: "muted cm-what" }, `${e.what}, ${e.phase}`)),
        h("td", { class: "num" }, e.nodes > 1 ? `${e.group_size} (${e.nodes} nodes)` : String(e.group_size)),
        h("td", { class: "num" }, fmtInt(e.count)),
        h("td", { class: "num" }, fmtBytes(e.buffer_bytes)),
        h("td", { class: "num" }, fmtBytes(e.wire_bytes_per_gpu)),
        h("td", {}, LINK_NAMES[e.link] || e.link),
        h("td", { class: "num" }, fmtTime(e.time)),
        h("td", { class: "num" }, e.overlapped ? fmtTime(e.exposed_time) : h("span", {}, fmtTime(e.exposed_time), h("span", { class: "muted" }, " (no overlap)"))),
      ),
    );
  }
  const notes = $("#cm-notes");
  clear(notes);
  const on = d.overlap.filter((o) => o.on).map((o) => o.name.toUpperCase());
  const off = d.overlap.filter((o) => !o.on).map((o) => o.name.toUpperCase());
  notes.append(
    h("li", {}, `Overlap assumed for ${on.join(", ") || "nothing"}; not for ${off.join(", ") || "anything"}. An overlapped collective only shows the part longer than the compute it hides behind.`),
    h("li", {}, `Compute: ${d.flops.formula} — ${d.flops.source}; peak ${fmtNum(d.flops.peak / 1e12, 4)} TFLOP/s ${d.flops.compute_dtype.toUpperCase()} dense.`),
    ...d.notes.map((n) => h("li", {}, n)),
  );
}

// ------------------------------------------------------------------ the pinned axis

/** Pin `axis` ("" unpins) and keep it in the URL. */
function pinAxis(axis) {
  if (axis) params.set("axis", axis);
  else params.delete("axis");
  writeUrl();
  if (shown) showPin(shown);
}

/**
 * The chart with the URL's axis pinned, its bill rows marked and its totals under the chart.
 * An axis this layout does not have is dropped quietly (from the URL too): it is no API input.
 */
function showPin(d) {
  const a = d.axes.find((x) => x.axis === params.get("axis")) || null;
  if (!a && params.has("axis")) {
    params.delete("axis");
    writeUrl();
  }
  chart.update(d, a ? a.axis : "");
  for (const row of $$("#cm-bill tbody tr")) row.classList.toggle("pinned", Boolean(a) && row.dataset.axis === a.axis);
  const box = $("#cm-pin");
  box.hidden = !a;
  box.dataset.axis = a ? a.axis : "";
  if (!a) return box.replaceChildren();
  const counts = new Map();
  for (const e of d.bill.filter((x) => x.axis === a.axis)) counts.set(e.collective, (counts.get(e.collective) || 0) + 1);
  const calls = [...counts].map(([c, k]) => `${c.replace(/_/g, "-")}${k > 1 ? ` (${k} rows of the bill)` : ""}`);
  box.replaceChildren(
    h("b", {}, `${a.title} (${a.axis.toUpperCase()} ×${a.group_size})`),
    `: ${fmtTime(a.time)} of collectives per step, `,
    h("span", { dataset: { value: String(a.exposed_time) }, class: "cm-pin-exposed" }, `${fmtTime(a.exposed_time)} exposed`),
    `, ${fmtBytes(a.wire_bytes_per_gpu)} sent per GPU, in ${calls.join(", ")}. `,
    h("a", { href: `/collectives?${a.collectives_query}` }, "Watch its biggest collective →"),
    h("button", { type: "button", class: "cm-pin-clear pin-close", "aria-label": "Unpin", title: "Unpin (Esc)", onclick: () => pinAxis("") }, "×"),
  );
}

// ------------------------------------------------------------------ fetch

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/communication?${apiQuery()}`);
    shown = d;
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    renderHeadline(d);
    renderBill(d);
    showPin(d);
    document.title = `Communication: ${d.model_title} on ${fmtInt(d.world_size)} GPUs · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

async function start() {
  try {
    const [ex, models, gpus] = await Promise.all([
      fetchJSON("/api/v1/communication/examples"),
      fetchJSON("/api/v1/presets/models"),
      fetchJSON("/api/v1/presets/gpus"),
    ]);
    exampleList = ex.examples;
    fillSelect($("#cm-example"), [{ value: "", label: "Your own layout" }, ...ex.examples.map((e) => ({ value: e.query, label: e.title }))]);
    fillSelect($("#cm-model"), models.models.map((m) => ({ value: m.name, label: m.title })));
    fillSelect($("#cm-gpu"), gpus.gpus.map((g) => ({ value: g.name, label: g.title })));
    if (![...params.keys()].some((k) => !PAGE_ONLY.includes(k)) && exampleList.length) {
      const keep = new URLSearchParams(params);
      params = new URLSearchParams(exampleList[0].query);
      for (const [k, v] of keep) params.set(k, v);
      writeUrl();
    }
  } catch (err) {
    errors.show(err);
  }
  await refresh();
}

start();
