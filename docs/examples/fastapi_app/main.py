"""The shop's HTTP API: ``uvicorn --app-dir docs/examples fastapi_app.main:app``.

The app's lifespan starts an ``Oban`` that runs the queues in this process and stops it (letting
running jobs finish) at shutdown. Routes reach it, and the shop's database, as dependencies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from oban import Job, Oban
from oban.engines import engine_from_dsn

from . import db
from .workers import FulfilOrder, send_welcome

QUEUES = {"default": 10, "mailers": 5}


def create_app(database_url: str = db.DATABASE_URL, queues: Mapping[str, int] = QUEUES) -> FastAPI:
    """The app on ``database_url``, running ``queues`` (pass ``{}`` when ``oban start`` runs them)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = db.open_database(database_url)
        await database.setup()
        try:
            async with Oban(engine_from_dsn(database_url), queues=queues) as oban:
                app.state.oban = oban
                app.state.database = database
                yield
        finally:
            await database.close()

    app = FastAPI(title="shop", lifespan=lifespan)
    app.include_router(router)
    return app


def get_oban(request: Request) -> Oban:
    return request.app.state.oban  # type: ignore[no-any-return]


def get_database(request: Request) -> db.Database:
    return request.app.state.database  # type: ignore[no-any-return]


ObanDep = Annotated[Oban, Depends(get_oban)]
DatabaseDep = Annotated[db.Database, Depends(get_database)]
router = APIRouter()


class Signup(BaseModel):
    email: str = Field(min_length=3, pattern="@")


class Stock(BaseModel):
    stock: int = Field(ge=0)


class NewOrder(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "worker": job.worker,
        "queue": job.queue,
        "state": job.state.value,
        "attempt": job.attempt,
        "args": job.args,
        "recorded": job.recorded,
        "errors": job.errors,
    }


@router.post("/signups", status_code=202)
async def sign_up(signup: Signup, oban: ObanDep) -> dict[str, Any]:
    """Enqueue the welcome mail; the response names the job to follow at /jobs/{id}."""
    job = await oban.enqueue(send_welcome.new(signup.email))
    return {"job_id": job.id}


@router.get("/jobs/{job_id}")
async def show_job(job_id: int, oban: ObanDep) -> dict[str, Any]:
    job = await oban.get_job(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id}")
    return job_view(job)


@router.put("/products/{sku}")
async def set_stock(sku: str, body: Stock, database: DatabaseDep) -> dict[str, Any]:
    async with database.transaction() as conn:
        await database.set_stock(conn, sku, body.stock)
    return {"sku": sku, "stock": body.stock}


@router.post("/orders", status_code=201)
async def place_order(order: NewOrder, oban: ObanDep, database: DatabaseDep) -> dict[str, Any]:
    """Record the order, enqueue its fulfilment and take the stock, all in one transaction.

    Out of stock, the transaction rolls back: no order row and no job.
    """
    async with database.transaction() as conn:
        order_id = await database.insert_order(conn, order.sku, order.quantity)
        job = await oban.enqueue(FulfilOrder.new({"order_id": order_id}), conn=conn)
        if not await database.take_stock(conn, order.sku, order.quantity):
            raise HTTPException(409, f"not enough {order.sku!r} in stock for {order.quantity}")
    return {"order_id": order_id, "job_id": job.id}


@router.get("/orders/{order_id}")
async def show_order(order_id: int, database: DatabaseDep) -> dict[str, Any]:
    async with database.transaction() as conn:
        found = await database.get_order(conn, order_id)
    if found is None:
        raise HTTPException(404, f"no order {order_id}")
    return found


app = create_app()
