// The fetch shim of a standalone export (app/export.py inlines this classic script): the
// file's URL takes the exported state, and fetch() answers from the API replies baked into
// the file. Nothing leaves the file; a request the export did not record gets a 404 that
// says so (the page shows it as any API error).
(() => {
  const data = JSON.parse(document.getElementById("bitmesh-export").textContent);
  window.__bitmeshExport = data;
  try {
    if (data.search && location.search !== data.search) history.replaceState(null, "", location.pathname + data.search);
  } catch (_) {
    /* a host that refuses URL rewrites: the views then read their defaults */
  }
  const byPath = {};
  for (const key of Object.keys(data.responses)) {
    const path = key.split("?")[0];
    (byPath[path] ||= []).push(key);
  }
  const missing = {
    status: 404,
    type: "application/json",
    body: JSON.stringify({ detail: "This exported figure holds only the data it was drawn with; open it in bitmesh to change it." }),
  };
  window.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === "string" ? input : input.url, "http://bitmesh.export/");
    const path = url.pathname + url.search;
    const method = (init.method || (typeof input === "string" ? "GET" : input.method) || "GET").toUpperCase();
    const key = method === "GET" ? path : `${method} ${path} ${init.body || ""}`;
    const only = byPath[url.pathname] && byPath[url.pathname].length === 1 ? byPath[url.pathname][0] : null;
    const hit = data.responses[key] || (method === "GET" && only ? data.responses[only] : null) || missing;
    return new Response(hit.body, { status: hit.status, headers: { "content-type": hit.type } });
  };
})();
