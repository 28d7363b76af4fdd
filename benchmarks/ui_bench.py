"""Web UI: time to the runs list's first page with 10,000 runs, and the size of what pages load.

A platform (PostgreSQL + RabbitMQ, ``scripts/up.sh``) whose user has 10,000 runs
(inserted as rows, as ``platform_bench.py``'s listing benchmark does) is opened in
Debian's headless Chromium (Playwright, ``/usr/bin/chromium``), signed in with the
user's token. ``ui_list_10k_ms``: median over loads of ``/`` from the navigation to
the first page's 20 rows drawn (target ≤ 1000). ``ui_assets_kb``: every file the
runs list and a run's page load from the server (page shell, modules, style sheet,
icon; API answers excluded), gzip-compressed, in KiB (target ≤ 500).
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_data import _bench_user, _insert_runs, _vacuum_analyze
from bench_platform import Platform
from bench_runs import serial_spec
from bench_stats import rounded

CHROMIUM = os.environ.get("REANA_CHROMIUM", "/usr/bin/chromium")
RUNS = 10_000
LOADS = 7


def _sign_in(page, url: str, token: str) -> None:
    page.goto(url + "/signin")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector("tr.run-row", timeout=60_000)


def measure(platform: Platform) -> dict:
    from playwright.sync_api import sync_playwright

    owner, token = _bench_user("bench-ui@example.org")
    ids = _insert_runs(owner, RUNS, "bench-ui-", "finished", serial_spec(["echo hello"]),
                       {"run_finished_at": None})
    _vacuum_analyze("workflow")
    assets: dict[str, bytes] = {}

    def keep(response):
        path = response.url.removeprefix(platform.url).split("?")[0]
        if response.ok and not path.startswith("/api/"):
            assets[path] = response.body()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("response", keep)
        _sign_in(page, platform.url, token)
        shown = page.locator(".pager span").inner_text()
        if f"{RUNS} runs" not in shown:
            raise RuntimeError(f"the list does not show {RUNS} runs: {shown!r}")
        samples = []
        for _ in range(LOADS):
            began = time.perf_counter()
            page.goto(platform.url + "/", wait_until="commit")
            page.wait_for_function("() => document.querySelectorAll('tr.run-row').length === 20",
                                   timeout=60_000)
            samples.append((time.perf_counter() - began) * 1000)
        page.goto(f"{platform.url}/details/{ids[-1]}")
        page.wait_for_selector("svg.graph", timeout=60_000)
        browser.close()
    compressed = sum(len(gzip.compress(body, 6)) for body in assets.values())
    return {
        "ui_list_10k_ms": rounded(statistics.median(samples)),
        "ui_list_10k_max_ms": rounded(max(samples)),
        "ui_assets_kb": rounded(compressed / 1024),
        "ui_assets_raw_kb": rounded(sum(len(body) for body in assets.values()) / 1024),
        "ui_assets_files": len(assets),
    }


def main() -> int:
    if not Path(CHROMIUM).exists():
        print(f"[bench] no Chromium at {CHROMIUM}: web UI benchmark skipped", file=sys.stderr)
        print(json.dumps({}))
        return 0
    with tempfile.TemporaryDirectory(prefix="reana-ui-bench-") as tmp:
        platform = Platform(Path(tmp) / "home")
        platform.configure_this_process()
        try:
            platform.start()
            results = measure(platform)
        finally:
            platform.stop()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
