// A headline figure: label over a big value, with the raw number in data-value so tests and
// readers can compare it with the API's answer.
import { h } from "./dom.js";

/** metric("Capacity", "160", 160, "capacity", "ceil(…)", "hover text") -> <div class="metric"> */
export function metric(label, value, raw, key, sub, title) {
  return h(
    "div",
    { class: "metric", title },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: { metric: key, value: String(raw) } }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}
