"""A PNG of the segment dashboard from a running Superset, taken by headless Chromium.

Run with the BI environment's Python and Superset's environment (`make bi-screenshot` does).
It logs in the way Superset's own reports do (a session cookie made for the admin user with the
instance's secret key), so no password is typed into a page. Needs Debian's `chromium` and
`chromium-driver`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1600,2200",
]  # fmt: skip


def admin_cookies() -> dict[str, str]:
    from flask import current_app
    from superset.app import create_app

    with create_app().app_context():
        from superset import security_manager
        from superset.utils.machine_auth import MachineAuthProvider

        assert current_app
        return MachineAuthProvider.get_auth_cookies(security_manager.find_user(username="admin"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--slug", default="customer-segments")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for every chart to render")
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")  # a fresh profile: nothing cached
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        browser.get(f"{args.url}/health")  # a page of the same origin, to set the cookie on
        for name, value in admin_cookies().items():
            browser.add_cookie({"name": name, "value": value, "path": "/"})
        browser.get(f"{args.url}/superset/dashboard/{args.slug}/?standalone=1")
        deadline = time.monotonic() + args.wait
        # Rendered when every chart holder is there and no loading spinner is left.
        while time.monotonic() < deadline:
            holders = browser.find_elements(By.CSS_SELECTOR, ".chart-holder, .dashboard-chart")
            loading = browser.find_elements(By.CSS_SELECTOR, ".loading, [aria-label='loading']")
            if holders and not loading:
                break
            time.sleep(1)
        time.sleep(3)  # ECharts animates its first draw
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1600, max(1200, min(height + 100, 4000)))
        time.sleep(1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(args.out))
        print(f"{args.out}: {len(holders)} chart(s)")
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
