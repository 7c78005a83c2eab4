// A responsive SVG chart with its legend, shared by the collectives and communication
// charts: `draw(root, legend, width, state)` runs on the next animation frame after
// update(state), a resize or a theme change, on an emptied <svg> and legend.
//
// svgChart(el, {className, label, draw}) -> {update(state), exportSvg(), destroy()}
import { svg, h, clear } from "../lib/dom.js";
import { createRedraw } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";

export function svgChart(el, { className, label, legendClass = "", draw }) {
  let state = null;
  let width = 0;
  const root = svg("svg", { class: className, role: "img", "aria-label": label });
  const legend = h("div", { class: `legend ${legendClass}` });
  el.append(root, legend);
  const redraw = createRedraw(() => {
    clear(root);
    clear(legend);
    if (state && width) draw(root, legend, width, state);
  });
  const unResize = onResize(el, (w) => {
    width = w;
    redraw();
  });
  const unTheme = onThemeChange(redraw);
  return {
    update(next) {
      state = next;
      redraw();
    },
    exportSvg() {
      return root;
    },
    destroy() {
      unResize();
      unTheme();
      root.remove();
      legend.remove();
    },
  };
}

/** Load a view's stylesheet on a page that does not (the home gallery's previews). */
export function ensureStylesheet(href) {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href }));
}
