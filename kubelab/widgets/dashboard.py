"""The cluster's live view in a browser tab: what `minikube dashboard` opens on the local cluster.

`serve(source)` starts a small HTTP server on 127.0.0.1 (a free port) whose only pages live under
a random secret path segment (`secrets`), so another user of the machine cannot read the cluster
through it; every other path is 404. The page shows the ownership and placement views (SVG from
`kubelab.viz`) and the recent events, and fetches `svg?view=…` and `events` about once a second.
Bursts coalesce as in the widgets: a follower thread polls the source's watch streams and bumps a
generation; a request redraws only when the generation moved, renders SVG only when the DOT text
changed, and answers 304 to a page that already shows that DOT (its ETag), so the page redraws
only on change. `Dashboard.stop()` ends it (the session does so with its cluster).

Read by: tools.session (through importlib, as `%minikube dashboard`'s URL). Reads: widgets.sources,
widgets.timeline (event rows), viz.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kubelab.viz.dot import VIEWS, to_dot
from kubelab.viz.render import to_svg
from kubelab.viz.snapshot import KINDS
from kubelab.widgets.sources import resolve

WAIT = 0.25  # seconds the follower waits for a change before checking its stop flag again
EVENT_ROWS = 50  # the newest events the page lists
REFRESH_MS = 1000


class _Picture:
    """One view's last drawing: the DOT it came from, its SVG, and the generation it was drawn at."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # one redraw at a time; a request that waits then finds it fresh
        self.generation = -1
        self.dot = ""
        self.svg = ""
        self.renders = 0


class Dashboard:
    """A running dashboard: `url` (with its secret path), `renders` per view, `stop()`."""

    def __init__(self, source: Any = None, port: int = 0, host: str = "127.0.0.1") -> None:
        self.source = resolve(source)
        self.token = secrets.token_urlsafe(18)
        self.generation = 0
        self._pictures = {view: _Picture() for view in VIEWS}
        self._stop = threading.Event()
        self._changes = self.source.changes([*KINDS, "Event"], None)
        self._follower = threading.Thread(target=self._follow, name="kubelab-dashboard-watch", daemon=True)
        self._follower.start()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="kubelab-dashboard", daemon=True)
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}/{self.token}/"

    @property
    def renders(self) -> dict[str, int]:
        """SVG renders per view (a refresh whose DOT did not change renders nothing)."""
        return {view: picture.renders for view, picture in self._pictures.items()}

    def _follow(self) -> None:
        while not self._stop.is_set():
            if self._changes.poll(WAIT, self._stop):
                self.generation += 1  # everything that came in one poll is one change

    def picture(self, view: str) -> tuple[str, str]:
        """(DOT, SVG) of the view as the cluster is now, redrawn only if something changed since."""
        picture = self._pictures[view]
        with picture.lock:
            generation = self.generation
            if picture.generation != generation:
                dot = to_dot(self.source.snapshot(None), view)
                if dot != picture.dot:
                    picture.dot, picture.svg = dot, to_svg(dot)
                    picture.renders += 1
                picture.generation = generation
            return picture.dot, picture.svg

    def events_html(self) -> str:
        """The newest events as `kubectl get events -A` lists them (an HTML table)."""
        from kubelab.server.printers_core import event_row
        from kubelab.widgets.timeline import COLUMNS, events_table

        now = self.source.now()
        rows = []
        for event in self.source.events(None)[-EVENT_ROWS:]:
            cells = event_row(event, now)
            rows.append(((event.get("metadata") or {}).get("namespace") or "", cells[0], cells[1], cells[2],
                         cells[3], cells[6]))
        return events_table(("NAMESPACE", *COLUMNS), rows)

    def stop(self) -> None:
        """Stop serving and following the cluster."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._changes.stop()
        self._follower.join(timeout=2)


def serve(source: Any = None, port: int = 0) -> Dashboard:
    """Start a dashboard for `source` (a `kubelab.Cluster`, a context name, or None for `%kube`'s target)."""
    return Dashboard(source, port)


def _etag(text: str) -> str:
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def _handler(dashboard: Dashboard) -> type[BaseHTTPRequestHandler]:
    prefix = f"/{dashboard.token}"
    token = dashboard.token.encode()

    class Handler(BaseHTTPRequestHandler):
        server_version = "kubelab-dashboard"

        def do_GET(self) -> None:  # noqa: N802 — http.server's name
            parts = urlsplit(self.path)
            segment, slash, tail = parts.path.lstrip("/").partition("/")
            if not secrets.compare_digest(segment.encode(errors="replace"), token):  # in constant time
                return self._send(HTTPStatus.NOT_FOUND, "404 page not found\n", "text/plain")
            rest = slash + tail
            try:
                if rest == "":  # the page's relative fetches need the trailing slash
                    self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                    self.send_header("Location", prefix + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif rest == "/":
                    self._send(HTTPStatus.OK, page(dashboard.source.name), "text/html")
                elif rest == "/svg":
                    view = (parse_qs(parts.query).get("view") or ["ownership"])[0]
                    if view not in VIEWS:
                        return self._send(HTTPStatus.BAD_REQUEST, f"unknown view {view!r}: choose one of "
                                          f"{', '.join(VIEWS)}\n", "text/plain")
                    dot, svg = dashboard.picture(view)
                    self._send_tagged(svg, "image/svg+xml", _etag(dot))
                elif rest == "/events":
                    html = dashboard.events_html()
                    self._send_tagged(html, "text/html", _etag(html))
                else:
                    self._send(HTTPStatus.NOT_FOUND, "404 page not found\n", "text/plain")
            except Exception as err:  # noqa: BLE001 — a closed cluster or a drawing bug: say so to the page
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, f"{type(err).__name__}: {err}\n", "text/plain")

        def _send_tagged(self, body: str, ctype: str, tag: str) -> None:
            if self.headers.get("If-None-Match") == tag:
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            self._send(HTTPStatus.OK, body, ctype, {"ETag": tag})

        def _send(self, status: HTTPStatus, body: str, ctype: str, extra: dict[str, str] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{ctype}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")  # the secret path never leaves in a Referer
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — http.server's signature
            pass  # one line per second per view would flood the notebook's log

    return Handler


def page(name: str) -> str:
    """The dashboard's HTML: two views and the events, each refreshed when its ETag changes."""
    panels = "".join(f'<section><h2>{view}</h2><div id="{view}" class="pic">loading…</div></section>'
                     for view in VIEWS)
    fetches = ", ".join(f'load("{view}", "svg?view={view}")' for view in VIEWS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kubelab · {escape(name)}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; color: #263238 }}
h1 {{ font-size: 1.2em }} h2 {{ font-size: 1em; color: #607d8b; text-transform: capitalize }}
.pic {{ overflow: auto; max-width: 100%; border: 1px solid #eceff1; padding: 4px }}
#state {{ color: #607d8b; font-size: 90% }}
</style></head>
<body><h1>kubelab · {escape(name)} <span id="state"></span></h1>
{panels}
<section><h2>events</h2><div id="events">loading…</div></section>
<script>
const tags = {{}};
async function load(id, url) {{
  const headers = tags[id] ? {{"If-None-Match": tags[id]}} : {{}};
  const r = await fetch(url, {{headers, cache: "no-store"}});
  if (r.status === 304) return;
  if (!r.ok) throw new Error(await r.text());
  tags[id] = r.headers.get("ETag");
  const text = await r.text();
  const at = text.indexOf("<svg");
  document.getElementById(id).innerHTML = at > 0 ? text.slice(at) : text;
}}
async function tick() {{
  try {{
    await Promise.all([{fetches}, load("events", "events")]);
    document.getElementById("state").textContent = "· live";
  }} catch (e) {{
    document.getElementById("state").textContent = "· not updated: " + e.message;
  }}
  setTimeout(tick, {REFRESH_MS});
}}
tick();
</script></body></html>
"""
