"""The Ray dashboard's Serve page loaded in headless Chromium (Debian's package), driven over the DevTools
protocol: the token cookie the dashboard's own login sets, then the page, read as a user sees it."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from rehearsal.processes import free_port, stop

__all__ = ["serve_page_text"]

_COOKIE = "ray-authentication-token"  # ray/_private/authentication/authentication_constants.py



def serve_page_text(dashboard: str, token: str | None, expect: tuple[str, ...], timeout_s: float = 90) -> str:
    """The Serve page's visible text once it shows every string in ``expect`` (raises with what it showed)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise RuntimeError("no chromium binary: apt-get install chromium (make test installs it)")
    profile = Path(tempfile.mkdtemp(prefix="tollgate-chromium-"))
    port = free_port()
    browser = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = _page_socket(port)
        with connect(page, max_size=2**24) as ws:
            ids = itertools.count(1)

            def call(method: str, **params: Any) -> dict[str, Any]:
                n = next(ids)
                ws.send(json.dumps({"id": n, "method": method, "params": params}))
                while True:
                    message = json.loads(ws.recv(timeout=30))
                    if message.get("id") == n:
                        if "error" in message:
                            raise RuntimeError(f"{method}: {message['error']}")
                        return dict(message.get("result") or {})

            if token:
                call("Network.enable")
                call("Network.setCookie", name=_COOKIE, value=token, url=dashboard, path="/")
            call("Page.navigate", url=f"{dashboard}/#/serve")
            text = ""
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                result = call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                              returnByValue=True)
                text = str(result.get("result", {}).get("value") or "")
                if all(s in text for s in expect):
                    return text
                time.sleep(1)
            raise RuntimeError(f"the Serve page did not show {expect} within {timeout_s:.0f} s; it showed:\n"
                               f"{text[:2000]}")
    finally:
        stop(browser)
        shutil.rmtree(profile, ignore_errors=True)


def _page_socket(port: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                     if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError("headless Chromium did not open its DevTools port within 30 s")
