"""Place an order (recording it and enqueueing its fulfilment in one transaction), show orders and jobs."""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST
from shop.oban_client import oban_client

from .models import Order, Product
from .workers import FulfilOrder


@require_POST
def place_order(request: HttpRequest) -> JsonResponse:
    """``{"sku": "widget", "quantity": 2}``: 201 with the order and job ids, or 409 out of stock."""
    try:
        data = json.loads(request.body)
        sku, quantity = data["sku"], data["quantity"]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "send JSON with sku and quantity"}, status=400)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        return JsonResponse({"error": f"quantity must be a positive integer, got {quantity!r}"}, status=400)

    with transaction.atomic():
        order = Order.objects.create(product_id=sku, quantity=quantity)
        # Django's own connection: the job is part of this transaction, committed or rolled back with it.
        job = oban_client().enqueue(FulfilOrder.new({"order_id": order.id}), conn=connection.connection)
        taken = Product.objects.filter(sku=sku, stock__gte=quantity).update(stock=F("stock") - quantity)
        if not taken:
            transaction.set_rollback(True)  # no order, no job
            return JsonResponse({"error": f"not enough {sku!r} in stock for {quantity}"}, status=409)
    return JsonResponse({"order_id": order.id, "job_id": job.id}, status=201)


@require_GET
def show_order(request: HttpRequest, order_id: int) -> JsonResponse:
    order = Order.objects.filter(id=order_id).values("id", "product_id", "quantity", "status").first()
    if order is None:
        return JsonResponse({"error": f"no order {order_id}"}, status=404)
    return JsonResponse(order)


@require_GET
def show_job(request: HttpRequest, job_id: int) -> JsonResponse:
    job = oban_client().get_job(job_id)
    if job is None:
        return JsonResponse({"error": f"no job {job_id}"}, status=404)
    return JsonResponse({"id": job.id, "worker": job.worker, "state": job.state.value, "args": job.args})
