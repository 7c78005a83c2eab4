// The value formula of one code, evaluated step by step with its actual numbers, as DOM
// (coloured by field) or as SVG text lines (for the exported figure).
import { h } from "../lib/dom.js";
import { num } from "../lib/api.js";
import { fmtNum, fmtPow2 } from "../lib/format.js";

const SUB = { 0: "₀", 1: "₁", 2: "₂" };

function pow2Decimal(k) {
  if (k >= -20 && k <= 20) {
    const v = 2 ** k;
    return String(v);
  }
  return null;
}

/**
 * Steps as arrays of [text, field] parts (field: "sign", "exp", "man" or null).
 * `info` is a FormatInfo, `d` a decode payload.
 */
export function formulaSteps(info, d) {
  const cls = d.class ?? d.cls;
  const bias = info.bias;
  const M = info.mantissa_bits;
  const signed = (info.sign_bits ?? 1) > 0 && d.sign !== null && d.sign !== undefined;
  const mbits = M ? d.mantissa.toString(2).padStart(M, "0") : "";
  const steps = [];
  const signSym = signed ? [["(−1)", null], ["s", "sign"], [" × ", null]] : [];
  const signNum = signed ? [["(−1)", null], [String(d.sign), "sign"], [" × ", null]] : [];
  const signWord = signed ? [[d.sign ? "−1 × " : "+1 × ", "sign"]] : [];
  if (cls === "normal" || cls === "subnormal") {
    const sub = cls === "subnormal";
    if (M === 0) {
      // E8M0: a pure power of two, no sign and no mantissa (OCP MX v1.0, section 5.4)
      steps.push({ note: "E8M0 stores only an exponent: the value is a power of two.", parts: [["2^(", null], ["e", "exp"], [` − ${bias})`, null]] });
      steps.push({ parts: [["= 2^(", null], [String(d.exponent), "exp"], [` − ${bias})`, null]] });
    } else if (sub) {
      steps.push({
        note: "Exponent field 0: a subnormal. No hidden 1, and the exponent is fixed at 1 − bias.",
        parts: [...signSym, ["2^(1 − ", null], [String(bias), null], [") × 0.", null], ["m", "man"], [SUB[2], null]],
      });
      steps.push({ parts: [["= ", null], ...signNum, [`2^(1 − ${bias}) × 0.`, null], [mbits, "man"], [SUB[2], null]] });
    } else {
      steps.push({
        note: "Normal number: a hidden leading 1 before the mantissa bits.",
        parts: [...signSym, ["2^(", null], ["e", "exp"], [` − ${bias}) × 1.`, null], ["m", "man"], [SUB[2], null]],
      });
      steps.push({ parts: [["= ", null], ...signNum, ["2^(", null], [String(d.exponent), "exp"], [` − ${bias}) × 1.`, null], [mbits, "man"], [SUB[2], null]] });
    }
    const k = d.exponent_unbiased ?? (sub ? 1 - bias : d.exponent - bias);
    const sig = d.significand ?? String((sub ? 0 : 1) + d.mantissa / 2 ** M);
    const p = pow2Decimal(k);
    const line = [["= ", null], ...signWord, [fmtPow2(k), "exp"]];
    if (M > 0) line.push([" × ", null], [sig, "man"]);
    steps.push({ parts: line });
    if (p !== null && M > 0 && k !== 0) steps.push({ parts: [["= ", null], ...signWord, [p, "exp"], [" × ", null], [sig, "man"]] });
    // long expansions live in the "exact decimal" box; the formula ends on a readable number
    const exact = d.exact.replace("-", "−");
    const short = exact.length <= 24;
    steps.push({ parts: [[short ? "= " : "≈ ", null], [short ? exact : fmtNum(num(d.value), 10), null]], result: true });
  } else if (cls === "zero") {
    steps.push({ note: "Exponent and mantissa all zero: zero (its sign bit still gives +0 or −0).", parts: [...signNum, ["0", null]] });
    steps.push({ parts: [["= ", null], [d.sign ? "−0" : "0", null]], result: true });
  } else if (cls === "inf") {
    steps.push({ note: "Exponent field all ones and mantissa 0: infinity (IEEE 754 convention).", parts: [...signNum, ["∞", null]] });
    steps.push({ parts: [["= ", null], [d.sign ? "−∞" : "+∞", null]], result: true });
  } else {
    const reason = Array.isArray(d.formula) && d.formula.length ? d.formula[0] : "This code is reserved for NaN.";
    steps.push({ note: reason, parts: [["NaN", null]], result: true });
  }
  return steps;
}

/** Render steps into `el`. */
export function renderFormula(el, steps) {
  el.replaceChildren(
    ...steps.map((st) =>
      h(
        "div",
        { class: `fx-step${st.result ? " fx-step-result" : ""}` },
        st.note ? h("div", { class: "fx-step-note" }, st.note) : null,
        h("div", { class: "fx-step-math mono" }, st.parts.map(([t, f]) => (f ? h("span", { class: `f-${f}` }, t) : t))),
      ),
    ),
  );
}

/** Plain text lines of the steps (for SVG export). */
export function formulaText(steps) {
  return steps.map((st) => st.parts.map(([t]) => t).join(""));
}
