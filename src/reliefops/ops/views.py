"""`/healthz`: whether this server process can reach its database, for a monitor or a proxy.

It answers without signing in and says nothing beyond up or down: 200 `{"status": "ok"}` when a
query on the database succeeds, 503 `{"status": "unavailable", "database": "unreachable"}` when
it does not (the cause goes to the server's log, not to the caller).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger("reliefops.health")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
