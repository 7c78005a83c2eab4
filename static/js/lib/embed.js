// Embed chrome: tell the parent page our height, and link back to the full page.
import "./theme.js";

const source = document.getElementById("embed-source");
if (source) {
  const path = location.pathname.replace(/^\/embed/, "") || "/";
  source.href = path + location.search;
}

let last = 0;
function report() {
  const height = Math.ceil(document.documentElement.scrollHeight);
  if (height !== last && window.parent !== window) {
    last = height;
    window.parent.postMessage({ type: "bitmesh:height", height }, "*");
  }
}
new ResizeObserver(report).observe(document.documentElement);
window.addEventListener("load", report);
