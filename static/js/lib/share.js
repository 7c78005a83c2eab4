// The share bar of every view: copy link, copy embed code (the author picks theme, controls
// and width; the snippet carries the height measured at that width), download the figure
// (SVG with styles inlined for SVG views, PNG at 2x for canvas views, both titled, attributed
// and named after the view and its state) and download a standalone HTML file.
import { h } from "./dom.js";
import { currentTheme } from "./theme.js";
import { SITE_KEYS } from "./urlstate.js";

const SVG_NS = "http://www.w3.org/2000/svg";
/** Narrowest, default and widest embed width, as the server declares them (base.html). */
function embedWidths() {
  const [min, def, max] = (document.body.dataset.embedWidths || "").split(",").map(Number);
  return { min, max, default: def };
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    const ta = h("textarea", { readonly: true }, text);
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/** The view's key and full-page path (from the layout's body attributes). */
function here() {
  const d = document.body.dataset;
  return { view: d.view || "bitmesh", page: d.page || location.pathname.replace(/^\/embed/, "") };
}

/** The current state's query string without the embed-only keys ("" or "?..."). */
export function stateQuery(extra = {}) {
  const q = new URLSearchParams(location.search);
  for (const k of SITE_KEYS) q.delete(k);
  for (const [k, v] of Object.entries(extra)) if (v !== null && v !== undefined) q.set(k, v);
  const s = q.toString().replaceAll("%2C", ",");
  return s ? `?${s}` : "";
}

/** The embed URL of the current state with the author's theme and controls. */
export function embedSrc({ theme = "light", controls = "1" } = {}) {
  const extra = { theme, controls: controls === "1" ? null : controls };
  return `${location.origin}/embed${here().page}${stateQuery(extra)}`;
}

/** A file name from the view and its state: bitmesh-pipeline-schedule=zb_h1-stages=8. */
export function fileBase() {
  const { view, page } = here();
  const parts = [view, ...page.split("/").filter(Boolean).slice(1)];
  for (const [k, v] of new URLSearchParams(stateQuery())) parts.push(`${k}=${v}`);
  const slug = parts.join("-").replace(/[^A-Za-z0-9_.=,+-]+/g, "_").slice(0, 150);
  return `bitmesh-${slug}`;
}

function figureTitle() {
  return document.title.replace(/ · bitmesh$/, "");
}

const escapeAttr = (s) => String(s).replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");

/** The iframe snippet: width, measured height, title, lazy loading; optionally the resizer. */
export function embedCode({ theme, controls, width, height, resize = false }) {
  const src = embedSrc({ theme, controls });
  const frame =
    `<iframe src="${escapeAttr(src)}" width="${width}" height="${height}" ` +
    `title="${escapeAttr(figureTitle())} (bitmesh)" loading="lazy" ` +
    `style="border:0;width:100%;max-width:${width}px"></iframe>`;
  if (!resize) return frame;
  return `${frame}\n<script>${RESIZER}</script>`;
}

/** The parent-page resizer (docs/api.md shows it unminified). */
const RESIZER =
  'addEventListener("message",e=>{const d=e.data;if(!d||d.type!=="bitmesh:height")return;' +
  'for(const f of document.getElementsByTagName("iframe"))if(f.contentWindow===e.source)f.style.height=d.height+"px"});' +
  'for(const f of document.getElementsByTagName("iframe"))f.contentWindow.postMessage({type:"bitmesh:ping"},"*")';

/**
 * Measure the embed's content height at `width` px: load it in an off-screen iframe and wait
 * for its height messages to settle.
 */
export function measureEmbed(src, width, { settle = 700, timeout = 15000 } = {}) {
  return new Promise((resolve) => {
    const frame = h("iframe", { src, title: "measuring", "aria-hidden": "true", tabindex: "-1" });
    Object.assign(frame.style, { position: "absolute", left: "-10000px", top: "0", width: `${width}px`, height: "200px", border: "0" });
    let height = 0;
    let timer = null;
    const done = () => {
      removeEventListener("message", onMessage);
      frame.remove();
      resolve(height);
    };
    const onMessage = (e) => {
      if (e.source !== frame.contentWindow || !e.data || e.data.type !== "bitmesh:height") return;
      height = e.data.height;
      clearTimeout(timer);
      timer = setTimeout(done, settle);
    };
    addEventListener("message", onMessage);
    setTimeout(() => (height ? null : done()), timeout);
    document.body.append(frame);
  });
}

// ---------------------------------------------------------------- figure downloads

const SVG_PROPS = ["fill", "stroke", "stroke-width", "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "opacity",
  "fill-opacity", "stroke-opacity", "font-family", "font-size", "font-weight", "font-style", "text-anchor",
  "dominant-baseline", "letter-spacing", "visibility"];

function svgSize(svgEl) {
  const vb = svgEl.viewBox && svgEl.viewBox.baseVal;
  if (vb && vb.width) return { x: vb.x, y: vb.y, w: vb.width, h: vb.height };
  const r = svgEl.getBoundingClientRect();
  return { x: 0, y: 0, w: r.width || svgEl.clientWidth, h: r.height || svgEl.clientHeight };
}

/**
 * A standalone SVG file of `svgEl`: computed styles inlined (it renders without our CSS), the
 * page's background, a <title>, and an attribution line with the URL of the exact state.
 */
export function serializeSvg(svgEl, { title = figureTitle(), source = location.href } = {}) {
  const clone = svgEl.cloneNode(true);
  const src = [svgEl, ...svgEl.querySelectorAll("*")];
  const dst = [clone, ...clone.querySelectorAll("*")];
  src.forEach((node, i) => {
    const cs = getComputedStyle(node);
    if (cs.display === "none") dst[i].setAttribute("display", "none");
    for (const p of SVG_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) dst[i].setAttribute(p, v);
    }
    dst[i].removeAttribute("class");
  });
  const { x, y, w, h: hh } = svgSize(svgEl);
  const foot = 18;
  clone.setAttribute("xmlns", SVG_NS);
  clone.setAttribute("viewBox", `${x} ${y} ${w} ${hh + foot}`);
  clone.setAttribute("width", w);
  clone.setAttribute("height", hh + foot);
  const make = (tag, attrs, text) => {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const bodyStyle = getComputedStyle(document.body);
  const muted = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#666";
  clone.insertBefore(make("rect", { x, y, width: w, height: hh + foot, fill: bodyStyle.backgroundColor }), clone.firstChild);
  clone.insertBefore(make("desc", {}, `Drawn by bitmesh from ${source}`), clone.firstChild);
  clone.insertBefore(make("title", {}, title), clone.firstChild);
  clone.append(make("text", { x: x + w - 4, y: y + hh + foot - 5, "text-anchor": "end", "font-size": 10,
    "font-family": bodyStyle.fontFamily, fill: muted }, `bitmesh · ${source}`));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(clone)}`;
}

/** A PNG of `canvas` at 2x its CSS size, on the page background, with the attribution line. */
export function canvasPng(canvas, { source = location.href, scale = 2 } = {}) {
  const r = canvas.getBoundingClientRect();
  const foot = 18;
  const out = h("canvas", { width: Math.round(r.width * scale), height: Math.round((r.height + foot) * scale) });
  const ctx = out.getContext("2d");
  const bodyStyle = getComputedStyle(document.body);
  ctx.fillStyle = bodyStyle.backgroundColor;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0, r.width * scale, r.height * scale);
  ctx.scale(scale, scale);
  ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#666";
  ctx.font = `10px ${bodyStyle.fontFamily}`;
  ctx.textAlign = "right";
  ctx.fillText(`bitmesh · ${source}`, r.width - 4, r.height + foot - 5);
  return new Promise((resolve) => out.toBlob(resolve, "image/png"));
}

function download(name, data, type) {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The biggest element matching `sel` in the view: its main canvas or drawing. */
function biggest(sel) {
  const area = (el) => { const r = el.getBoundingClientRect(); return r.width * r.height; };
  return [...document.querySelectorAll(sel)].filter((el) => area(el) > 0).sort((a, b) => area(b) - area(a))[0] || null;
}
const mainCanvas = () => biggest("main canvas");

/** Download the figure: the view's SVG if it has one now, else its main canvas as PNG. */
export async function downloadFigure(getSvg) {
  const svgEl = getSvg ? getSvg() : mainCanvas() ? null : biggest("main svg");
  if (svgEl) {
    download(`${fileBase()}.svg`, serializeSvg(svgEl), "image/svg+xml");
    return "SVG";
  }
  const canvas = mainCanvas();
  if (!canvas) return null;
  download(`${fileBase()}.png`, await canvasPng(canvas), "image/png");
  return "PNG";
}

/** The standalone file of the current state (GET /export/<page>.html?...). */
export function exportHref() {
  return `/export${here().page}.html${stateQuery()}`;
}

// ---------------------------------------------------------------- the embed dialog

function choice(label, name, options, value) {
  return h("label", { class: "embed-option" }, h("span", {}, label),
    h("select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
}

/** "Copy embed code": a dialog where the author picks theme, controls and width. */
function embedDialog(flash) {
  const form = h("form", { method: "dialog", class: "embed-form" },
    choice("Theme", "theme", [["light", "light"], ["dark", "dark"], ["auto", "reader's OS setting"]], currentTheme()),
    choice("Controls", "controls", [["1", "full"], ["compact", "play / scrub only"], ["0", "none (static figure)"]], "1"),
    h("label", { class: "embed-option" }, h("span", {}, "Width (px)"),
      h("input", { name: "width", type: "number", min: embedWidths().min, max: embedWidths().max, step: 10, value: embedWidths().default })),
    h("label", { class: "embed-option embed-check" }, h("input", { name: "resize", type: "checkbox" }),
      h("span", {}, "add the resize script (for hosts that keep <script>)")));
  const code = h("textarea", { class: "embed-code", readonly: true, rows: 5, "aria-label": "Embed code", spellcheck: "false" });
  const note = h("p", { class: "muted embed-note", "aria-live": "polite" });
  const copyBtn = h("button", { type: "button", class: "primary" }, "Copy");
  const closeBtn = h("button", { type: "button" }, "Close");
  const dialog = h("dialog", { class: "embed-dialog", "aria-labelledby": "embed-dialog-title" },
    h("h2", { id: "embed-dialog-title" }, "Embed this figure"), form, code, note, h("div", { class: "embed-actions" }, copyBtn, closeBtn));
  let run = 0;
  const update = async () => {
    const mine = ++run;
    const f = new FormData(form);
    const w = embedWidths();
    const width = Math.min(w.max, Math.max(w.min, Number(f.get("width")) || w.default));
    const opts = { theme: f.get("theme"), controls: f.get("controls"), width, resize: f.get("resize") === "on" };
    note.textContent = `Measuring the embed at ${width} px…`;
    copyBtn.disabled = true;
    const height = await measureEmbed(embedSrc(opts), width);
    if (mine !== run) return;
    code.value = embedCode({ ...opts, height: height || 600 });
    note.textContent = height ? `Height ${height} px, measured at ${width} px wide.` : "Could not measure the height; 600 px assumed.";
    copyBtn.disabled = false;
  };
  form.addEventListener("change", update);
  copyBtn.addEventListener("click", async () => flash((await copy(code.value)) ? "Embed code copied" : "Copy failed"));
  closeBtn.addEventListener("click", () => dialog.close());
  document.body.append(dialog);
  return { open: () => { dialog.showModal(); update(); } };
}

/**
 * Mount the share bar in `el`. `getSvg()` returns the view's <svg> to download (a canvas view
 * without one gets a PNG of its main canvas). Other options are accepted for old callers.
 */
export function mountShareBar(el, { getSvg } = {}) {
  const status = h("span", { class: "status", "aria-live": "polite" });
  const flash = (msg) => {
    status.textContent = msg;
    setTimeout(() => {
      if (status.textContent === msg) status.textContent = "";
    }, 1800);
  };
  let dialog = null;
  const figure = h("button", { type: "button", "data-share": "figure" }, getSvg ? "Download SVG" : "Download image");
  figure.addEventListener("click", async () => {
    const kind = await downloadFigure(getSvg);
    flash(kind ? `${kind} downloaded` : "Nothing drawn yet");
  });
  const html = h("a", { class: "button", "data-share": "html", href: exportHref(), download: "" }, "Download HTML");
  const fresh = () => {
    html.href = exportHref();
    html.download = `${fileBase()}.html`;
  };
  for (const ev of ["pointerdown", "focus", "click"]) html.addEventListener(ev, fresh);
  const bar = h(
    "div",
    { class: "share-bar" },
    h("button", { type: "button", "data-share": "link", onclick: async () => flash((await copy(location.href)) ? "Link copied" : "Copy failed") }, "Copy link"),
    h("button", { type: "button", "data-share": "embed", onclick: () => (dialog ||= embedDialog(flash)).open() }, "Copy embed code"),
    figure,
    html,
    status,
  );
  el.append(bar);
  return bar;
}
