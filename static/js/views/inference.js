// /inference's drawings from one /api/v1/inference answer: the roofline with every op of
// prefill and decode, the time bars, the latency–throughput curve. Also the home preview.
//
// mount({roofline, bars, curve}, {onPick}) -> {update(data, pin), exportSvg(), destroy()}: `pin`
// is the pinned op ("phase:name"), marked on the roofline and the bars; onPick(key) on a click.
import { svg } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { mount as mountRoofline } from "./inference-roofline.js";
import { mount as mountBars } from "./inference-bars.js";
import { mount as mountCurve } from "./inference-curve.js";
import { ensureStylesheet } from "./collectives-svgchart.js";

/**
 * One <svg> holding several charts stacked, placed in `host` so that the share bar can read
 * their computed colours; it removes itself after the download.
 */
export function stackSvgs(host, parts) {
  const width = Math.max(...parts.map((p) => Number(p.getAttribute("width")) || 0));
  let y = 0;
  const out = svg("svg", { class: "inf-svg", xmlns: "http://www.w3.org/2000/svg" });
  for (const p of parts) {
    const g = svg("g", { transform: `translate(0 ${y})` });
    for (const child of p.childNodes) g.append(child.cloneNode(true));
    out.append(g);
    y += (Number(p.getAttribute("height")) || 0) + 16;
  }
  out.setAttribute("viewBox", `0 0 ${width} ${y}`);
  out.setAttribute("width", width);
  out.setAttribute("height", y);
  out.style.position = "absolute";
  out.style.left = "-10000px";
  host.append(out);
  setTimeout(() => out.remove(), 0);
  return out;
}

export function mount(els, { onPick } = {}) {
  const roofline = mountRoofline(els.roofline, { onPick });
  const bars = mountBars(els.bars, { onPick });
  const curve = mountCurve(els.curve);
  const charts = [roofline, bars, curve];
  let shown = null;
  return {
    update(data, pin = null) {
      roofline.update(data, pin);
      bars.update(data, pin);
      if (data !== shown) curve.update(data);
      shown = data;
    },
    exportSvg() {
      return stackSvgs(els.roofline, charts.map((c) => c.exportSvg()));
    },
    destroy() {
      for (const c of charts) c.destroy();
    },
  };
}

/** The home gallery's preview: the default query's roofline. */
export async function preview(el) {
  ensureStylesheet("/static/css/views/inference.css");
  const data = await fetchJSON("/api/v1/inference?batch=16");
  const chart = mountRoofline(el);
  chart.update(data);
}
