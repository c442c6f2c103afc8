"""Take the screenshots of the user guide from a running reliefops server.

    .venv/bin/python docs/screenshots/take.py --url http://127.0.0.1:8000 --username ops.admin

The password is read from RELIEFOPS_PASSWORD, or asked for. The script signs in through the
sign-in form in headless Chromium (RELIEFOPS_CHROMIUM, default /usr/bin/chromium) and saves
home.png, admin-areas.png, site-detail.png, items.png, dashboard.png, sitrep.png and
donor-report.png beside itself (or into --out).
Load the Kashmir 2005 scenario first (`reliefops scenario load kashmir-2005`) so that the pictures
show real places.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="address of the running server")
    parser.add_argument("--username", required=True, help="an account that may view the reference data")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNG files")
    parser.add_argument("--site", default="Balakot", help="name of the site whose page is shown")
    parser.add_argument(
        "--chromium",
        default=os.environ.get("RELIEFOPS_CHROMIUM") or "/usr/bin/chromium",
        help="Chromium executable",
    )
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    return parser.parse_args(argv)


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def shoot(page: Page, out: Path, name: str) -> None:
    path = out / name
    page.screenshot(path=str(path), full_page=False)
    print(f"saved {path}")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    password = os.environ.get("RELIEFOPS_PASSWORD") or getpass.getpass(f"Password for {args.username}: ")
    server = urlsplit(args.url).netloc
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=args.url.rstrip("/"),
            viewport={"width": args.width, "height": args.height},
            device_scale_factor=1,
        )
        # The pages must work offline: refuse anything from another host, as a field hub would.
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if urlsplit(route.request.url).netloc == server else route.abort()
            ),
        )
        page = context.new_page()
        sign_in(page, args.username, password)

        page.goto("/")
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        shoot(page, args.out, "home.png")

        page.goto("/places/areas/")
        expect(page.locator("#results tbody tr").first).to_be_visible()
        shoot(page, args.out, "admin-areas.png")

        page.goto("/places/sites/?" + f"q={args.site}")
        page.locator("#results tbody tr td a").first.click()
        expect(page.locator(".facts")).to_be_visible()
        shoot(page, args.out, "site-detail.png")

        page.goto("/catalog/items/")
        expect(page.locator("#results tbody tr").first).to_be_visible()
        shoot(page, args.out, "items.png")

        page.goto("/")
        expect(page.locator("#operations-map path.district").first).to_be_attached()
        page.locator("#coverage").evaluate("section => section.scrollIntoView()")
        shoot(page, args.out, "dashboard.png")

        page.goto("/reports/sitrep/")
        expect(page.locator(".distributed-sentence")).to_be_visible()
        shoot(page, args.out, "sitrep.png")

        page.goto("/reports/donors/")
        page.locator("table.data tbody tr td a").first.click()
        expect(page.locator("table.grant-items")).to_be_visible()
        shoot(page, args.out, "donor-report.png")

        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
