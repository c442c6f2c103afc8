"""Take the screenshots of the user guide from a running reliefops server.

    .venv/bin/python docs/screenshots/take.py --url http://127.0.0.1:8000 --username ops.admin

The password is read from RELIEFOPS_PASSWORD, or asked for. The script signs in through the
sign-in form in headless Chromium (RELIEFOPS_CHROMIUM, default /usr/bin/chromium) and saves one
PNG per entry of SHOTS beside itself (or into --out), 1280 pixels wide, recompressed losslessly:
the dashboard, the reference lists, the sitrep and a donor report, stock on hand, a waybill, the
households registry and a distribution round, the cluster's gaps with the coverage map, and the
waybills on a phone with the menu open. Use an admin account (the registry shows personal data).
Load the Kashmir 2005 scenario first (`reliefops scenario load kashmir-2005`) so that the pictures
show real places.
"""

from __future__ import annotations

import argparse
import getpass
import os
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Shot:
    """One picture: the file, and how to bring the page to the state it shows."""

    name: str
    show: Callable[[Page, argparse.Namespace], None]

    def take(self, page: Page, args: argparse.Namespace) -> None:
        self.show(page, args)


def _list(url: str) -> Callable[[Page, argparse.Namespace], None]:
    def show(page: Page, args: argparse.Namespace) -> None:
        page.goto(url)
        expect(page.locator("#results tbody tr").first).to_be_visible()

    return show


def _home(page: Page, args: argparse.Namespace) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _site(page: Page, args: argparse.Namespace) -> None:
    page.goto("/places/sites/?" + f"q={args.site}")
    page.locator("#results tbody tr td a").first.click()
    expect(page.locator(".facts")).to_be_visible()


def _dashboard(page: Page, args: argparse.Namespace) -> None:
    page.goto("/")
    expect(page.locator("#operations-map path.district").first).to_be_attached()
    page.locator("#coverage").evaluate("section => section.scrollIntoView()")


def _sitrep(page: Page, args: argparse.Namespace) -> None:
    page.goto("/reports/sitrep/")
    expect(page.locator(".distributed-sentence")).to_be_visible()


def _donor_report(page: Page, args: argparse.Namespace) -> None:
    page.goto("/reports/donors/")
    page.locator("table.data tbody tr td a").first.click()
    expect(page.locator("table.grant-items")).to_be_visible()


def _waybill(page: Page, args: argparse.Namespace) -> None:
    page.goto("/stock/waybills/")
    page.locator("#results tbody tr td a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Waybill")


def _round(page: Page, args: argparse.Namespace) -> None:
    page.goto("/households/rounds/")
    page.locator("table.data tbody tr td a").first.click()
    expect(page.locator("h1 .pcode")).to_be_visible()


def _gaps(page: Page, args: argparse.Namespace) -> None:
    page.goto("/cluster/")
    expect(page.locator("svg.coverage-map")).to_be_visible()
    page.locator("section.coverage").evaluate("section => section.scrollIntoView()")


def _phone(page: Page, args: argparse.Namespace) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/stock/waybills/")
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    page.get_by_role("button", name="Menu").click()


SHOTS = (
    Shot("home.png", _home),
    Shot("admin-areas.png", _list("/places/areas/")),
    Shot("site-detail.png", _site),
    Shot("items.png", _list("/catalog/items/")),
    Shot("dashboard.png", _dashboard),
    Shot("sitrep.png", _sitrep),
    Shot("donor-report.png", _donor_report),
    Shot("stock-on-hand.png", _list("/stock/")),
    Shot("waybill.png", _waybill),
    Shot("households-registry.png", _list("/households/registry/")),
    Shot("round.png", _round),
    Shot("cluster-gaps.png", _gaps),
    Shot("phone-menu.png", _phone),
)


def optimise_png(path: Path) -> None:
    """Recompress the image data at zlib's highest level (lossless); keep the file if no smaller."""
    data = path.read_bytes()
    signature, position, chunks = data[:8], 8, []
    while position < len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        kind = data[position + 4 : position + 8]
        chunks.append((kind, data[position + 8 : position + 8 + length]))
        position += 12 + length
    image = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    packed = zlib.compress(image, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    out, written = [signature], False
    for kind, body in chunks:
        if kind == b"IDAT":
            if not written:
                out.append(chunk(b"IDAT", packed))
                written = True
        elif kind in {b"IHDR", b"PLTE", b"tRNS", b"IEND"}:
            out.append(chunk(kind, body))
    smaller = b"".join(out)
    if len(smaller) < len(data):
        path.write_bytes(smaller)


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
        for shot in SHOTS:
            shot.take(page, args)
            path = args.out / shot.name
            page.screenshot(path=str(path), full_page=False)
            before = path.stat().st_size
            optimise_png(path)
            print(f"saved {path} ({before:,} -> {path.stat().st_size:,} bytes)")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
