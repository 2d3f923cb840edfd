"""Screenshots of a running Odoo as a logged-in user, for ``docs/screenshots/``.

Headless Chromium driven over the DevTools protocol (``websocket-client``, which Odoo's own browser tests need
too, so it lives in Odoo's virtualenv)::

    /opt/odoo18-venv/bin/python -m apicenter_sandbox.browser_screenshot URL LOGIN PASSWORD OUT.png [PATH ...]

logs in at ``URL/web/login``, then opens each PATH (``/odoo/action-...``; ``PATH@Tab`` then clicks the notebook
tab of that name; ``PATH#chatter`` scrolls to the form's chatter) and writes ``OUT.png`` (with several paths:
``OUT-1.png``, ``OUT-2.png``…).
``./dev odoo --screenshot`` uses it for the README's picture and the configuration screens in docs/screenshots.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

WIDTH, HEIGHT = 1400, 900


class Browser:
    def __init__(self) -> None:
        import websocket  # Odoo's virtualenv has it (its tours need it)

        chromium = shutil.which("chromium") or shutil.which("google-chrome") or shutil.which("chromium-browser")
        if chromium is None:
            raise RuntimeError("no Chromium found")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.profile = tempfile.mkdtemp(prefix="apicenter-chromium-")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
             f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as reply:
                    pages = [t for t in json.load(reply) if t.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.2)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.send("Page.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)

    def open(self, url: str, ready: str = "document.readyState === 'complete'", settle: float = 2.0) -> None:
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.evaluate(f"Boolean({ready})").get("result", {}).get("value"):
                break
            time.sleep(0.3)
        time.sleep(settle)  # the web client renders after the document is ready

    def screenshot(self, out: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        out.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            shutil.rmtree(self.profile, ignore_errors=True)


def capture(url: str, login: str, password: str, out: Path, paths: list[str]) -> list[Path]:
    browser = Browser()
    written = []
    try:
        browser.open(f"{url}/web/login")
        browser.evaluate(
            f"document.querySelector('input[name=login]').value = {json.dumps(login)};"
            f"document.querySelector('input[name=password]').value = {json.dumps(password)};"
            "document.querySelector('form.oe_login_form').submit();"
        )
        # Logged in once the login page is left (a busy server takes longer than a fixed pause).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            state = browser.evaluate("document.readyState === 'complete' && !location.pathname.startsWith('/web/login')")
            if state.get("result", {}).get("value"):
                break
        for n, spec in enumerate(paths or ["/odoo"], start=1):
            path, _, tab = spec.partition("@")
            path, chatter = path.removesuffix("#chatter"), path.endswith("#chatter")
            browser.open(url + path, ready="document.querySelector('.o_action_manager .o_view_controller')")
            if tab:
                browser.evaluate(
                    "[...document.querySelectorAll('.o_notebook .nav-link')]"
                    f".find(a => a.textContent.trim() === {json.dumps(tab)})?.click()"
                )
                time.sleep(1.5)
            if chatter:  # below the form on a screen this wide: scrolled to
                browser.evaluate("document.querySelector('.o-mail-Chatter')?.scrollIntoView()")
                time.sleep(1.5)
            target = out if len(paths) <= 1 else out.with_name(f"{out.stem}-{n}{out.suffix}")
            browser.screenshot(target)
            written.append(target)
    finally:
        browser.close()
    return written


if __name__ == "__main__":
    url, login, password, out, *paths = sys.argv[1:]
    for path in capture(url, login, password, Path(out), paths):
        print(path)
