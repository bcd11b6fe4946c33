"""A minimal headless-Chromium client over the DevTools protocol on a pipe (stdlib only).

``chromium --remote-debugging-pipe`` reads protocol commands from file descriptor 3
and writes replies and events to descriptor 4, each a JSON object followed by a NUL
byte. That is all this module needs: no websocket, no driver, no Python package. It
opens one page, records every URL the page requests, evaluates JavaScript (awaiting
promises) and takes screenshots.

Protocol reference: https://chromedevtools.github.io/devtools-protocol/
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in CI containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """The browser failed, answered with an error, or did not answer in time."""


class Chromium:
    """A headless Chromium with one page; use as a context manager.

    Parameters
    ----------
    executable : str
        Path of the browser.
    profile : Path
        An empty folder for the browser's profile.
    timeout : float
        Seconds to wait for any one answer.
    """

    def __init__(self, executable: str, profile: Path, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.requested: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0
        command_read, self._command_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        # Copies above 4, so that moving them onto 3 and 4 in the child cannot clash.
        child_read = fcntl.fcntl(command_read, fcntl.F_DUPFD_CLOEXEC, 10)
        child_write = fcntl.fcntl(reply_write, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(command_read)
        os.close(reply_write)

        def onto_3_and_4() -> None:  # in the child, before exec: dup2 makes them inheritable
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        profile.mkdir(parents=True, exist_ok=True)
        self._log = profile / "chromium.log"  # a file, so a chatty browser never blocks
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                preexec_fn=onto_3_and_4,
                close_fds=False,  # keep 3 and 4; Python's own descriptors are close-on-exec
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        os.close(child_read)
        os.close(child_write)
        self.session = ""

    def __enter__(self) -> Chromium:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        self.send("Page.enable", session=self.session)
        self.send("Network.enable", session=self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(BrowserError):  # it may close before it answers
            self.send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        finally:
            os.close(self._command_write)
            os.close(self._reply_read)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no answer from the browser within {self.timeout} s")
            ready, _, _ = select.select([self._reply_read], [], [], remaining)
            if ready:
                chunk = os.read(self._reply_read, 1 << 16)
                if not chunk:
                    raise BrowserError(f"the browser exited: {self._stderr_tail()}")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        payload = json.loads(message)
        if payload.get("method") == "Network.requestWillBeSent":
            self.requested.append(payload["params"]["request"]["url"])
        return payload

    def _stderr_tail(self) -> str:
        return self._log.read_text(errors="replace")[-2000:]

    def send(self, method: str, params: dict | None = None, session: str = "") -> dict:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._command_write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_for(self, event: str) -> dict:
        """Wait for the page's ``event`` (e.g. ``Page.loadEventFired``); return its params."""
        deadline = time.monotonic() + self.timeout
        while True:
            for index, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == self.session:
                    return self._events.pop(index).get("params", {})
            self._events.append(self._read_message(deadline))

    def open(self, url: str, width: int = 1280, height: int = 900) -> None:
        """Load ``url`` in a ``width`` x ``height`` viewport and wait for its load event."""
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.send("Emulation.setDeviceMetricsOverride", metrics, session=self.session)
        self._events.clear()
        self.send("Page.navigate", {"url": url}, session=self.session)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page, awaiting a promise; return the JSON value."""
        params = {"expression": expression, "awaitPromise": True, "returnByValue": True}
        result = self.send("Runtime.evaluate", params, session=self.session)
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, max_height: int = 16000, top: float = 0.0) -> Path:
        """Save a PNG of the page from ``top`` down (at most ``max_height`` CSS pixels)."""
        size = self.send("Page.getLayoutMetrics", session=self.session)["cssContentSize"]
        clip = {
            "x": 0,
            "y": top,
            "width": size["width"],
            "height": min(size["height"] - top, max_height),
            "scale": 1,
        }
        params = {"format": "png", "clip": clip, "captureBeyondViewport": True}
        data = self.send("Page.captureScreenshot", params, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
        return path
