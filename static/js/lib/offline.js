// The fetch shim of a standalone export (app/export.py inlines this classic script): the
// file's URL takes the exported state, and fetch() answers from the API replies baked into
// the file. Nothing leaves the file. A request is answered by the reply baked under its exact
// URL, else by a reply of the same method and path whose explicit parameters the request all
// sends with equal values and whose echoed effective `query` holds every other parameter the
// request sends (so "8192" and 8192, "true" and true, "a,b" and ["a","b"] match, and a page
// that spells the defaults out finds the reply computed without them). Anything else gets a
// 404 that says so (the page shows it as any API error) and a console error naming the URL.
(() => {
  const data = JSON.parse(document.getElementById("bitmesh-export").textContent);
  window.__bitmeshExport = data;
  try {
    if (data.search && location.search !== data.search) history.replaceState(null, "", location.pathname + data.search);
  } catch (_) {
    /* a host that refuses URL rewrites: the views then read their defaults */
  }
  const norm = (v) => {
    if (v === null || v === undefined) return "";
    if (Array.isArray(v)) return v.map(norm).join(",");
    const s = String(v).trim();
    if (s === "True" || s === "False") return s.toLowerCase();
    const n = Number(s);
    return s !== "" && Number.isFinite(n) ? String(n) : s;
  };
  const parse = (url) => new URL(url, "http://bitmesh.export/");
  const candidates = {}; // "METHOD path" -> [{params, echo, reply}]
  for (const [key, reply] of Object.entries(data.responses)) {
    const [method, rest] = key.includes(" ") ? key.split(" ", 2) : ["GET", key];
    const u = parse(rest);
    let echo = null;
    try {
      const body = JSON.parse(reply.body);
      echo = body && typeof body.query === "object" && body.query !== null ? body.query : null;
    } catch (_) {
      /* not JSON: only an exact match serves it */
    }
    (candidates[`${method} ${u.pathname}`] ||= []).push({ params: [...u.searchParams], echo, reply });
  }
  const fits = (asked, c) => {
    const sent = new Map(asked.map(([k, v]) => [k, norm(v)]));
    if (!c.params.every(([k, v]) => sent.get(k) === norm(v))) return false;
    const explicit = new Set(c.params.map(([k]) => k));
    return [...sent].every(([k, v]) => explicit.has(k) || (c.echo !== null && k in c.echo && norm(c.echo[k]) === v));
  };
  const missing = {
    status: 404,
    type: "application/json",
    body: JSON.stringify({ detail: "This exported figure holds only the data it was drawn with; open it in bitmesh to change it." }),
  };
  const lookup = (method, url, body) => {
    const u = parse(url);
    const path = u.pathname + u.search;
    const exact = method === "GET" ? data.responses[path] : data.responses[`${method} ${path} ${body || ""}`];
    if (exact) return exact;
    if (method !== "GET") return null;
    const hit = (candidates[`GET ${u.pathname}`] || []).find((c) => fits([...u.searchParams], c));
    return hit ? hit.reply : null;
  };
  window.__bitmeshLookup = lookup;
  window.fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const method = (init.method || (typeof input === "string" ? "GET" : input.method) || "GET").toUpperCase();
    let hit = lookup(method, url, init.body);
    if (!hit) {
      console.error(`bitmesh export: no data baked in for ${method} ${url}`);
      hit = missing;
    }
    return new Response(hit.body, { status: hit.status, headers: { "content-type": hit.type } });
  };
})();
