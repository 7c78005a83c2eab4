// "Copy link", "Copy embed code" and "Download SVG" for every view.
import { h } from "./dom.js";

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

/** The iframe snippet for the current view (same query string, /embed/ path). */
export function embedCode(height = 480) {
  const src = `${location.origin}/embed${location.pathname}${location.search}`;
  const title = document.title.replace(/ · bitmesh$/, "");
  return (
    `<iframe src="${src}" title="${title} (bitmesh)" width="100%" height="${height}" ` +
    `style="border:0;max-width:800px" loading="lazy"></iframe>\n` +
    `<script>addEventListener("message",e=>{if(e.data&&e.data.type==="bitmesh:height")` +
    `for(const f of document.querySelectorAll('iframe[src^="${location.origin}/embed/"]'))` +
    `if(f.contentWindow===e.source)f.style.height=e.data.height+"px"})</script>`
  );
}

/** Copy an SVG element with its computed colours inlined, so it renders outside the page. */
export function serializeSvg(svgEl) {
  const clone = svgEl.cloneNode(true);
  const src = [svgEl, ...svgEl.querySelectorAll("*")];
  const dst = [clone, ...clone.querySelectorAll("*")];
  const props = ["fill", "stroke", "stroke-width", "stroke-dasharray", "opacity", "font-family",
    "font-size", "font-weight", "text-anchor", "dominant-baseline", "fill-opacity"];
  src.forEach((node, i) => {
    const cs = getComputedStyle(node);
    for (const p of props) {
      const v = cs.getPropertyValue(p);
      if (v) dst[i].setAttribute(p, v);
    }
  });
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  const bg = getComputedStyle(document.body).backgroundColor;
  const w = svgEl.viewBox.baseVal && svgEl.viewBox.baseVal.width ? svgEl.viewBox.baseVal.width : svgEl.clientWidth;
  const hh = svgEl.viewBox.baseVal && svgEl.viewBox.baseVal.height ? svgEl.viewBox.baseVal.height : svgEl.clientHeight;
  const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  rect.setAttribute("width", w);
  rect.setAttribute("height", hh);
  rect.setAttribute("fill", bg);
  clone.insertBefore(rect, clone.firstChild);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(clone)}`;
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Mount the share bar in `el`. `getSvg()` returns an <svg> element to download (a view that
 * draws on canvas builds one for export); `name` is the file's base name.
 */
export function mountShareBar(el, { getSvg, name = "bitmesh", embedHeight = 480 } = {}) {
  const status = h("span", { class: "status", "aria-live": "polite" });
  const flash = (msg) => {
    status.textContent = msg;
    setTimeout(() => {
      if (status.textContent === msg) status.textContent = "";
    }, 1800);
  };
  const bar = h(
    "div",
    { class: "share-bar" },
    h("button", { type: "button", onclick: async () => flash((await copy(location.href)) ? "Link copied" : "Copy failed") }, "Copy link"),
    h("button", { type: "button", onclick: async () => flash((await copy(embedCode(embedHeight))) ? "Embed code copied" : "Copy failed") }, "Copy embed code"),
    getSvg
      ? h("button", {
          type: "button",
          onclick: () => {
            const svgEl = getSvg();
            if (svgEl) download(`${name}.svg`, serializeSvg(svgEl), "image/svg+xml");
          },
        }, "Download SVG")
      : null,
    status,
  );
  el.append(bar);
  return bar;
}
