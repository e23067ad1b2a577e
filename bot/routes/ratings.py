"""Citizens rate the service or one answer of the assistant (public; shown on the staff dashboard)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot.deps import DatabaseDep, MessageLogDep
from bot.validation import request_locale
from channels.base import clean_text
from knowledge_base.messages import render
from motcua.centers import DEFAULT_CENTER
from motcua.origin import PLATFORM_CHANNELS
from motcua.queue.models import QueueTicket
from motcua.staff.service import RatingInput, add_rating

router = APIRouter(tags=["ratings"])
FLUSH_WAIT_S = 2.0


class RatingIn(BaseModel):
    kind: str = Field("service", pattern="^(service|answer)$")
    score: int | None = Field(None, ge=1, le=5, description="1–5 sao")
    helpful: bool | None = Field(None, description="câu trả lời có hữu ích không")
    channel: str = Field("web", pattern="^[a-z]{2,16}$")
    session: str = Field("", max_length=64, description="mã phiên của kênh (kiosk, web…)")
    counter: str = Field("", max_length=32)
    procedure_code: str = Field("", max_length=32)
    comment: str = Field("", max_length=2000)


@router.post("/api/v1/ratings", status_code=201, summary="Đánh giá mức độ hài lòng / rate the service")
async def rate(body: RatingIn, request: Request, database: DatabaseDep,
               message_log: MessageLogDep) -> dict:
    locale = request_locale(request)
    if body.score is None and body.helpful is None:
        raise HTTPException(422, render("gateway.rating_missing", locale=locale))
    # a conversation is named by its session only where the session is the page's own (the widget's,
    # the kiosk's, a REST client's): a Telegram or Zalo chat id is no secret, their ratings come through the chat
    linked = body.session and body.channel not in PLATFORM_CHANNELS
    sender_id = f"{body.channel}:{body.session}" if linked else ""
    rating = RatingInput(kind=body.kind, score=body.score, helpful=body.helpful, channel=body.channel,
                         sender_id=sender_id, center_code="" if sender_id else DEFAULT_CENTER,
                         counter=body.counter, procedure_code=body.procedure_code, comment=clean_text(body.comment))

    if body.kind == "answer" and sender_id:
        # The rated answer may still be queued for the message log; the review list needs its question.
        try:
            await asyncio.wait_for(message_log.flush(), timeout=FLUSH_WAIT_S)
        except TimeoutError:
            pass  # a slow disk must not lose the rating; the comment stands in for the question

    def work() -> None:
        with database.session() as session:
            given = rating
            if body.channel == "queue" and body.session:  # the ticket page: the centre that issued the ticket
                issued_at = session.scalar(select(QueueTicket.center_code).where(QueueTicket.token == body.session))
                given = replace(rating, center_code=issued_at or DEFAULT_CENTER)
            add_rating(session, given)

    await run_in_threadpool(work)
    return {"ok": True, "message": render("gateway.rating_thanks", locale=locale)}
