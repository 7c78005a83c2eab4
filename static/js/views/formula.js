// The value formula of one code as /decode states it: each step's parts name the bit field
// they show, so the page colours them (sign, exponent, mantissa) and prints the API's text.
import { h } from "../lib/dom.js";

const FIELD_CLASS = { sign: "f-sign", exponent: "f-exp", mantissa: "f-man" };

/** Render a decode payload's `steps` into `el`. */
export function renderFormula(el, steps) {
  el.replaceChildren(
    ...steps.map((st) =>
      h(
        "div",
        { class: `fx-step${st.result ? " fx-step-result" : ""}` },
        st.note ? h("div", { class: "fx-step-note" }, st.note) : null,
        h("div", { class: "fx-step-math mono" }, st.parts.map((p) => (p.field ? h("span", { class: FIELD_CLASS[p.field] }, p.text) : p.text))),
      ),
    ),
  );
}
