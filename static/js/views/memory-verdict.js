// The verdict of /memory: the fullest GPU's total against capacity and the stated overhead,
// the advice in the order a practitioner would try it (each with its cost), and the compact
// summary that stays on screen on a phone while the controls change. All from the answer.
import { h } from "../lib/dom.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";

const WORDS = { fits: "Fits", tight: "Fits, barely", over: "Does not fit" };
const SHORT = { fits: "fits", tight: "fits, barely", over: "still over" };

function meter(data) {
  const { total, capacity: cap, usable } = data;
  // the meter spans max(total, capacity): used up to capacity, then the overflow hatched
  const span = Math.max(total, cap);
  const pct = (x) => `${(100 * x) / span}%`;
  const used = fmtPct(data.utilisation, 0);
  return h("div", { class: "mem-meter", role: "img", "aria-label": `${used} of capacity` },
    h("div", { class: "mem-meter-fill", style: { width: pct(Math.min(total, cap)) } }),
    h("div", { class: "mem-meter-over", style: { left: pct(cap), width: pct(Math.max(0, total - cap)) } }),
    h("div", { class: "mem-meter-usable", style: { left: pct(usable) }, title: `capacity − ${fmtBytes(data.overhead)} overhead` }),
    h("div", { class: "mem-meter-cap", style: { left: pct(cap) } }));
}

function headline(data) {
  const used = fmtPct(data.utilisation, 0);
  const overhead = fmtBytes(data.overhead);
  if (data.verdict === "over") return `${fmtBytes(-data.headroom)} over · needs ${used} of capacity`;
  if (data.verdict === "tight") return `only ${fmtBytes(data.headroom)} free, less than the ${overhead} kept for the CUDA context, NCCL buffers and fragmentation`;
  return `${fmtBytes(data.headroom)} free, ${overhead} of it kept for overhead · uses ${used} of capacity`;
}

function setClasses(el, verdict) {
  for (const v of ["fits", "tight", "over"]) el.classList.toggle(v, v === verdict || (v === "fits" && verdict === "tight"));
}

function badge(data) {
  const fits = data.verdict !== "over";
  return h("div", { class: "mem-verdict-badge", "data-fits": String(data.fits), "data-verdict": data.verdict },
    h("span", { class: "mem-verdict-icon", "aria-hidden": "true" }, fits ? "✓" : "✕"),
    h("span", { class: "mem-verdict-text" }, WORDS[data.verdict]));
}

function adviceBlock(data, onApply) {
  const advice = data.advice;
  if (!advice.length) {
    return data.verdict === "over" ? h("p", { class: "mem-advice muted" }, "Nothing the advice tries lowers this layout; try a bigger GPU.") : null;
  }
  const items = advice.map((a) => {
    // a change that adds GPUs says so; the others keep the budget (a new degree halves dp)
    const more = a.world_size !== data.world_size;
    const title = more ? `Apply this change: ${fmtInt(a.world_size)} GPUs instead of ${fmtInt(data.world_size)}` : "Apply this change (same GPU count)";
    const btn = h("button", { type: "button", class: `mem-advice-btn ${a.verdict}`, title, "data-rank": String(a.rank) },
      h("span", { class: "mem-advice-main" },
        h("code", {}, a.change), ` → ${fmtBytes(a.total)} `, h("span", { class: "mem-advice-verdict" }, SHORT[a.verdict]),
        more ? h("span", { class: "mem-advice-gpus" }, ` · ${fmtInt(a.world_size)} GPUs`) : null),
      a.cost ? h("span", { class: "mem-advice-cost" }, a.cost) : null);
    btn.addEventListener("click", () => onApply(a.params));
    return btn;
  });
  return h("div", { class: "mem-advice" },
    h("span", { class: "mem-advice-title" }, data.verdict === "fits" ? "To lower it further, in the order to try" : "What to change, in the order to try"),
    h("div", { class: "mem-advice-list" }, items),
    data.verdict === "over" && advice.every((a) => a.verdict === "over") ? h("span", { class: "muted" }, "No single change is enough: apply one and look again.") : null);
}

/** The verdict panel: badge, total of capacity, headline, meter and advice. */
export function renderVerdict(el, data, gpuName, onApply) {
  setClasses(el, data.verdict);
  const where = data.per_stage.length > 1 ? ` on stage ${data.worst_stage}, the fullest` : "";
  const advice = adviceBlock(data, onApply);
  el.replaceChildren(
    h("div", { class: "mem-verdict-row" }, badge(data),
      h("div", { class: "mem-verdict-numbers" },
        h("div", { class: "mem-verdict-total" },
          h("span", { class: "mem-total-value", "data-bytes": String(data.total) }, fmtBytes(data.total)),
          h("span", { class: "mem-of" }, ` of ${fmtBytes(data.capacity)} on one ${gpuName}`)),
        h("div", { class: "mem-verdict-sub" }, `${headline(data)}${where}.`))),
    meter(data),
    ...(advice ? [advice] : []));
}

/** The phone's sticky summary: the verdict word, total of capacity and the meter. */
export function renderSticky(el, data) {
  setClasses(el, data.verdict);
  el.replaceChildren(h("div", { class: "mem-sticky-bar" },
    h("span", { class: "mem-sticky-word", "data-verdict": data.verdict }, WORDS[data.verdict]),
    h("span", { class: "mem-sticky-total" }, `${fmtBytes(data.total)} of ${fmtBytes(data.capacity)}`),
    meter(data)));
}
