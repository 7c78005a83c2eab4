// /tour: the documented parent-page resize script (docs/api.md), plus one thing an author
// may add: each figure's state is kept in this page's URL (?<step>=<the embed's query>), so a
// reader's changes survive a reload and a shared link.
addEventListener("message", (e) => {
  const d = e.data;
  if (!d || d.type !== "bitmesh:height") return;
  for (const f of document.getElementsByTagName("iframe")) {
    if (f.contentWindow === e.source) f.style.height = d.height + "px";
  }
});
for (const f of document.getElementsByTagName("iframe")) {
  f.contentWindow.postMessage({ type: "bitmesh:ping" }, "*");
}

const frames = [...document.querySelectorAll("iframe[data-step]")];
const pageQuery = new URLSearchParams(location.search);

// a step saved in the URL replaces the article's starting state
for (const f of frames) {
  f.dataset.start = f.getAttribute("src");
  const saved = pageQuery.get(f.dataset.step);
  if (saved === null) continue;
  const src = new URL(f.src);
  f.src = `${src.origin}${src.pathname}${saved ? `?${saved}` : ""}`;
}

addEventListener("message", (e) => {
  const d = e.data;
  if (!d || d.type !== "bitmesh:state" || typeof d.url !== "string") return;
  const f = frames.find((x) => x.contentWindow === e.source);
  if (!f) return;
  const now = new URL(d.url);
  const start = new URL(f.dataset.start, location.href);
  if (now.search === start.search) pageQuery.delete(f.dataset.step);
  else pageQuery.set(f.dataset.step, now.search.slice(1));
  const s = pageQuery.toString();
  history.replaceState(null, "", location.pathname + (s ? `?${s}` : ""));
});
