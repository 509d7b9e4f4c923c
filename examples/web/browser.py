"""Serve the page from the repository root and drive it in headless Chromium.

Used by tests/test_web.py and to make the README's screenshot:

    (cd examples/web && npm ci)      # @mediapipe/tasks-audio, pinned in package.json
    python examples/web/browser.py examples/audio/rain.wav --screenshot examples/web/screenshot.png

Needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)
and selenium (the dev extra).
"""

import argparse
import contextlib
import functools
import http.server
import os
import pathlib
import shutil
import tempfile
import threading
import time
import urllib.parse

REPO = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """The repository root, plus /clips/NAME from a folder of test clips."""

    clips = None

    def translate_path(self, path):
        name = urllib.parse.urlsplit(path).path
        if name.startswith("/clips/") and self.clips:
            return os.path.join(self.clips, os.path.basename(name))
        return super().translate_path(path)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def page(model="erann-esc10", clip=None, width=1100, height=1000, microphone=None):
    """A Chromium WebDriver on the page with `model`, classifying `clip` (a
    local audio file) once loaded; waits until it is done or failed. With
    `microphone` (a WAV file), Chromium's fake capture device plays that file
    as the microphone, and the page is listening when this yields."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory() as clips:
        query = {"model": model}
        if clip:
            shutil.copy(clip, os.path.join(clips, os.path.basename(clip)))
            query["audio"] = f"/clips/{os.path.basename(clip)}"
        handler = type("Handler", (_Handler,), {"clips": clips})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(REPO))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--window-size={width},{height}",
        ):
            options.add_argument(flag)
        if microphone:
            options.add_argument("--use-fake-ui-for-media-stream")
            options.add_argument("--use-fake-device-for-media-stream")
            options.add_argument(f"--use-file-for-fake-audio-capture={microphone}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            port = server.server_address[1]
            driver.get(f"http://127.0.0.1:{port}/examples/web/?{urllib.parse.urlencode(query)}")
            wait(driver, "done" if clip else "ready")
            if microphone:
                driver.find_element("id", "mic").click()
                wait(driver, "listening")
            yield driver
        finally:
            driver.quit()
            server.shutdown()


def wait(driver, flag, seconds=120):
    """Waits for window.erann[flag] (the page's state); raises on its error."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        state = driver.execute_script("return window.erann || null")
        if state and state.get("error"):
            raise RuntimeError(f"the page failed: {state['error']}")
        if state and state.get(flag):
            return state
        time.sleep(0.2)
    raise TimeoutError(f"the page did not get {flag} in {seconds} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip")
    parser.add_argument("--model", default="erann-esc10")
    parser.add_argument("--screenshot", default="examples/web/screenshot.png")
    args = parser.parse_args()
    with page(args.model, os.path.abspath(args.clip)) as driver:
        driver.save_screenshot(args.screenshot)
    print(f"wrote {args.screenshot}")


if __name__ == "__main__":
    main()
