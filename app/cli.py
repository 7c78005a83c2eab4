"""The `bitmesh` command: `bitmesh serve` runs the app, `bitmesh export` writes a view's
standalone HTML file without a running server or a browser (the same code as
GET /export/<page>.html, called in process, so the same file).

    bitmesh export pipeline --param schedule=zb_h1 --param stages=8 -o figure.html
    bitmesh export format --param name=bfloat16 -o bf16.html
    bitmesh serve --port 8000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_ORIGIN = "http://127.0.0.1:8000"


def _params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param takes key=value, not {pair!r}")
        out[key] = value
    return out


def _export(args: argparse.Namespace) -> int:
    from app.export import ExportError, export_view, file_name

    params = _params(args.param)
    try:
        text = export_view(args.view, params, args.origin.rstrip("/"))
    except ExportError as exc:
        print(f"bitmesh export: {exc}", file=sys.stderr)
        return 1
    out = Path(args.output or file_name("/" + args.view, "&".join(args.param)))
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text.encode()):,} bytes)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("app.main:app", host=args.host, port=args.port, reload=args.reload)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bitmesh", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write a view's standalone HTML file")
    ex.add_argument("view", help="a view key (pipeline, memory, format, ...) or a page path")
    ex.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    ex.add_argument("-o", "--output", help="file to write (default: named after the view)")
    ex.add_argument("--origin", default=DEFAULT_ORIGIN, help="where 'open in bitmesh' links")
    ex.set_defaults(run=_export)
    sv = sub.add_parser("serve", help="run the web app")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--reload", action="store_true")
    sv.set_defaults(run=_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
