// Light/dark theme: ?theme= (for embeds) beats the saved choice, which beats the OS setting.
// ?theme=auto follows the reader's OS setting, live, and ignores any saved choice.
const KEY = "bitmesh-theme";
const listeners = new Set();
const osDark = matchMedia("(prefers-color-scheme: dark)");

function initial() {
  const q = new URLSearchParams(location.search).get("theme");
  if (q === "dark" || q === "light") return q;
  if (q === "auto") return osDark.matches ? "dark" : "light";
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === "dark" || saved === "light") return saved;
  } catch (_) { /* storage may be blocked in iframes */ }
  return osDark.matches ? "dark" : "light";
}

export function currentTheme() {
  return document.documentElement.dataset.theme || "light";
}

export function setTheme(theme, persist = true) {
  document.documentElement.dataset.theme = theme;
  if (persist) {
    try { localStorage.setItem(KEY, theme); } catch (_) { /* ignore */ }
  }
  for (const cb of listeners) cb(theme);
}

/** Call `cb(theme)` whenever the theme changes; returns an unsubscribe function. */
export function onThemeChange(cb) {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

setTheme(initial(), false);
if (new URLSearchParams(location.search).get("theme") === "auto") {
  osDark.addEventListener("change", (e) => setTheme(e.matches ? "dark" : "light", false));
}
