// Embed chrome, for every /embed/<view>: report our height to the parent page (and again
// whenever it asks with {type: "bitmesh:ping"}), and keep the "open in bitmesh" link on the
// full page with the reader's current state (views keep their state in the URL).
import "./theme.js";
import { SITE_KEYS } from "./urlstate.js";

/** The full page's URL for the current state: same query, less the embed-only keys. */
export function pageUrl() {
  const body = document.body.dataset;
  const q = new URLSearchParams(location.search);
  for (const k of SITE_KEYS) q.delete(k);
  const s = q.toString().replaceAll("%2C", ",");
  return `${body.origin || ""}${body.page || "/"}${s ? `?${s}` : ""}`;
}

const source = document.getElementById("embed-source");
if (source) {
  const refresh = () => {
    source.href = pageUrl();
  };
  refresh();
  // views rewrite the URL with history.replaceState, so the link is brought up to date just
  // before it is used (hover, focus, click, middle click)
  for (const ev of ["pointerenter", "focus", "pointerdown", "click", "auxclick"]) source.addEventListener(ev, refresh);
}

/** The content's height: the body (embeds have no min-height), not the iframe's viewport. */
export function contentHeight() {
  const b = document.body;
  const style = getComputedStyle(b);
  return Math.ceil(b.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
}

let last = 0;
function report(force = false) {
  const height = contentHeight();
  if ((force || height !== last) && window.parent !== window) {
    last = height;
    window.parent.postMessage({ type: "bitmesh:height", height, url: location.href }, "*");
  }
}
new ResizeObserver(() => report()).observe(document.body);
window.addEventListener("load", () => report());
window.addEventListener("message", (e) => {
  if (e.source === window.parent && e.data && e.data.type === "bitmesh:ping") report(true);
});

// Tell the parent when the view rewrites its URL (a reader changed the state), so a page of
// embeds (the /tour) can keep each figure's state in its own URL.
const replace = history.replaceState.bind(history);
history.replaceState = (state, title, url) => {
  replace(state, title, url);
  if (window.parent !== window) window.parent.postMessage({ type: "bitmesh:state", url: location.href }, "*");
};
