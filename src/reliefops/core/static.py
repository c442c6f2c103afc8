"""The apps' style sheets, scripts and images, served by the application itself (field hubs are
offline; there is no CDN and no web server in front of it to serve them).

`StaticFilesMiddleware` is whitenoise's middleware with one change: the table of files it finds in
the apps (every file stat'ed, its headers made) is made once per process and shared by every later
instance. A server builds its middleware once, so it changes nothing there; Django's test client
builds it again for every client, and without the shared table each one scanned the apps' 156 files
again (about 40 ms on a slow machine, for every test that makes a request).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """whitenoise's middleware, its table of the apps' files made once per process (per settings)."""

    _tables: ClassVar[dict[tuple[Any, ...], dict[str, Any]]] = {}
    files: dict[str, Any]  # whitenoise's table: URL -> the file (or redirect) it serves

    def add_files_from_finders(self) -> None:
        # Everything the table depends on: where the files are found and the headers they get.
        key = (
            self.static_prefix,
            tuple(settings.INSTALLED_APPS),
            tuple(map(str, getattr(settings, "STATICFILES_DIRS", ()))),
            tuple(getattr(settings, "STATICFILES_FINDERS", ())),
            *(
                repr(getattr(settings, f"WHITENOISE_{name}", None))
                for name in (
                    "MAX_AGE", "ALLOW_ALL_ORIGINS", "CHARSET", "MIMETYPES", "ADD_HEADERS_FUNCTION",
                    "INDEX_FILE", "IMMUTABLE_FILE_TEST",
                )
            ),
            settings.DEBUG,
        )  # fmt: skip
        table = self._tables.get(key)
        if table is None:
            # The files found in the apps take the place of those of STATIC_ROOT, as whitenoise's own.
            kept, self.files = self.files, {}
            super().add_files_from_finders()
            table = self._tables[key] = self.files
            self.files = kept
        self.files.update(table)
