// /formats: a card per format, grouped by family, then the block formats (MX, NVFP4) in their
// own group, all computed by the API.
import { errorBox, fetchJSON } from "../lib/api.js";
import { cssVar } from "../lib/colors.js";
import { $, svg } from "../lib/dom.js";
import { mountShareBar } from "../lib/share.js";
import { fieldsOf } from "../views/bitfield.js";
import { blockSection } from "../views/blockformat.js";
import * as formatsView from "../views/formats.js";

const app = $("#app");
const errors = errorBox(app);
let formats = [];
let groups = [];
let blocks = [];

/** An SVG table of every format's bit layout (for "Download SVG"). */
function layoutSvg() {
  const row = 28;
  const cell = 14;
  const W = 760;
  const H = 30 + formats.length * row;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "monospace", "font-size": 12 });
  root.append(svg("text", { x: 10, y: 18, "font-weight": 700, fill: cssVar("--text") }, "bitmesh · bit layouts (sign / exponent / mantissa)"));
  formats.forEach((f, i) => {
    const y = 30 + i * row;
    root.append(svg("text", { x: 10, y: y + 12, fill: cssVar("--text") }, f.name));
    let x = 190;
    for (const field of fieldsOf(f)) {
      for (let b = field.from; b >= field.to; b -= 1) {
        root.append(svg("rect", { x, y, width: cell - 2, height: 16, rx: 2, fill: cssVar(`--${field.key}`) }));
        x += cell;
      }
      x += 4;
    }
  });
  return root;
}

async function main() {
  try {
    ({ formats, groups, blocks } = await fetchJSON("/api/v1/formats"));
  } catch (err) {
    $("#fmt-cards").replaceChildren();
    errors.show(err);
    return;
  }
  const base = location.pathname.startsWith("/embed/") ? "/embed" : "";
  const elementGroups = groups.filter((g) => g.kind === "element");
  formatsView.mount($("#fmt-cards"), { formats, groups: elementGroups, base });
  for (const g of groups.filter((x) => x.kind === "block")) $("#fmt-cards").append(blockSection(g, blocks, base));
  mountShareBar($("#share"), { getSvg: layoutSvg, name: "bitmesh-formats", embedHeight: 900 });
  app.dataset.ready = "1";
}

main();
