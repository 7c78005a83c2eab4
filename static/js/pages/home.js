// Home gallery: each card gets a small live preview drawn by its own view module
// (static/js/views/<key>.js exports `preview(el)`), so the gallery grows with the views.
import { h } from "../lib/dom.js";

const cards = [...document.querySelectorAll("[data-preview]")];

const io = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    io.unobserve(entry.target);
    const el = entry.target;
    import(`../views/${el.dataset.preview}.js`)
      .then((mod) => (mod.preview ? mod.preview(el) : null))
      .catch((err) => {
        el.append(h("p", { class: "muted preview-error" }, "Preview unavailable"));
        console.warn(`preview ${el.dataset.preview}:`, err);
      });
  }
}, { rootMargin: "100px" });

for (const el of cards) io.observe(el);
