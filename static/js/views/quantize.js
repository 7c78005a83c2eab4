// The quantization lab's views, gathered for the page and the home gallery: the histogram
// morph, the block builder and the presets table (one module each), and `preview(el)`, which
// draws the API's default answer as input outline over dequantized bars.
import { svg } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { linear } from "../lib/scale.js";

export { mount as mountHistograms } from "./quantize-hist.js";
export { mount as mountBlock } from "./quantize-block.js";
export { mount as mountTable } from "./quantize-table.js";

/** Home-gallery preview: the default tensor before (outline) and after (bars) quantization. */
export async function preview(el) {
  const data = await fetchJSON("/api/v1/quantize");
  const W = Math.max(200, el.clientWidth || 300);
  const H = Math.max(100, el.clientHeight || 120);
  const { edges, counts } = data.histograms.input;
  const deq = data.histograms.dequantized.counts;
  const x = linear(edges[0], edges[edges.length - 1], 8, W - 8);
  const y = linear(0, Math.max(...counts, ...deq), H - 8, 8);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: "100%", role: "img",
    "aria-label": `${data.scheme.title}: histogram of ${data.data.n} values before and after quantization` });
  root.style.display = "block";
  deq.forEach((c, i) => {
    const x0 = x(edges[i]);
    root.append(svg("rect", { x: x0, width: Math.max(0.5, x(edges[i + 1]) - x0 - 1), y: y(c), height: H - 8 - y(c), style: { fill: "var(--c1)" } }));
  });
  const d = counts.map((c, i) => `${i ? "L" : "M"}${x(edges[i])},${y(c)}H${x(edges[i + 1])}`).join("");
  root.append(svg("path", { d, style: { fill: "none", stroke: "var(--c0)", strokeWidth: "1.5" } }));
  el.append(root);
}
