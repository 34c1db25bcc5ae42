"""The benchmark's baseline (issue 7, ``make bench``): the cheapest useful write on the
same stack as a submission (the same middleware, session and login check, CSRF, one
transaction), so the benchmark can say how much of a submission's cost is the platform's
own work. Routed only when ``RENCAI_BENCH_ENDPOINTS`` is on; the table is the
benchmark's own (created by bench/bench.py)."""

from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.views.decorators.http import require_POST


@login_required
@require_POST
def baseline(request):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_baseline (user_id) VALUES (%s)", [request.user.pk])
    return HttpResponse(status=204)
