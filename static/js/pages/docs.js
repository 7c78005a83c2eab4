// Renders /api/v1/openapi.json as readable docs (Swagger UI needs a CDN and inline script,
// which our CSP forbids). Each endpoint lists its parameters, their descriptions and
// examples, and the worked requests the server publishes as `x-examples` (each tested to
// answer 200), as links and as curl lines against this server's own origin.
import { fetchJSON, errorBox } from "../lib/api.js";
import { h, clear } from "../lib/dom.js";

const root = document.getElementById("docs");
const errors = errorBox(root.parentElement);

function resolve(spec, schema) {
  if (schema && schema.$ref) {
    const parts = schema.$ref.replace(/^#\//, "").split("/");
    return parts.reduce((o, k) => o[k], spec);
  }
  return schema || {};
}

function typeOf(spec, schema) {
  const s = resolve(spec, schema);
  if (s.anyOf) return s.anyOf.map((x) => typeOf(spec, x)).join(" | ");
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(" | ");
  if (s.type === "array") return `${typeOf(spec, s.items)}[]`;
  return s.type || s.title || "object";
}

function example(param) {
  if (param.example !== undefined) return param.example;
  if (param.examples) {
    const ex = Object.values(param.examples)[0];
    if (ex && ex.value !== undefined) return ex.value;
  }
  const s = param.schema || {};
  if (s.examples && s.examples.length) return s.examples[0];
  if (s.example !== undefined) return s.example;
  return undefined;
}

function fieldsTable(spec, schema) {
  const s = resolve(spec, schema);
  if (!s.properties) return null;
  return h("div", { class: "table-scroll" }, h("table", { class: "data" },
    h("thead", {}, h("tr", {}, h("th", {}, "field"), h("th", {}, "type"), h("th", {}, "description"))),
    h("tbody", {}, Object.entries(s.properties).map(([name, prop]) =>
      h("tr", {}, h("td", {}, h("code", {}, name)), h("td", {}, h("code", {}, typeOf(spec, prop))),
        h("td", {}, resolve(spec, prop).description || prop.description || ""))))));
}

function render(spec) {
  clear(root);
  const byTag = new Map();
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  for (const [tag, items] of byTag) {
    const section = h("section", { class: "panel" }, h("h2", {}, tag));
    for (const { path, method, op } of items) {
      const params = op.parameters || [];
      const urls = op["x-examples"] || [];
      const details = h("details", { class: "docs-endpoint" },
        h("summary", {}, h("span", { class: `docs-method ${method}` }, method.toUpperCase()), path,
          op.summary ? h("span", { class: "muted" }, ` — ${op.summary}`) : null));
      if (op.description) details.append(h("p", {}, op.description));
      if (params.length) {
        details.append(h("div", { class: "table-scroll" }, h("table", { class: "data" },
          h("thead", {}, h("tr", {}, h("th", {}, "parameter"), h("th", {}, "in"), h("th", {}, "type"),
            h("th", {}, "description"), h("th", {}, "example"))),
          h("tbody", {}, params.map((p) => h("tr", {},
            h("td", {}, h("code", {}, p.name), p.required ? " *" : ""), h("td", {}, p.in),
            h("td", {}, h("code", {}, typeOf(spec, p.schema))),
            h("td", {}, p.description || (p.schema && p.schema.description) || ""),
            h("td", {}, example(p) !== undefined ? h("code", {}, String(example(p))) : "")))))));
      }
      for (const url of urls) {
        details.append(h("p", {}, "Example: ", h("a", { href: url }, h("code", {}, url))));
        details.append(h("pre", { class: "code" }, `curl -s '${location.origin}${url}'`));
      }
      const ok = op.responses && op.responses["200"];
      const schema = ok && ok.content && ok.content["application/json"] && ok.content["application/json"].schema;
      const table = schema ? fieldsTable(spec, schema) : null;
      if (table) details.append(h("h3", {}, "Response fields"), table);
      section.append(details);
    }
    root.append(section);
  }
}

fetchJSON("/api/v1/openapi.json").then(render).catch((err) => errors.show(err));
