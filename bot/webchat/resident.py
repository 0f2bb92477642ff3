"""The resident's chat: ``/c/<invite code>`` and its JSON API under ``/c/<code>/api/``.

Thin views: each request is one transaction that loads the invite, checks the cookie, resumes
the record and runs one action through :mod:`bot.webchat.actions`; the state is saved after
every step that changed it. Mutating requests carry the record ``version`` the page last saw,
so a double tap or a second tab never applies an answer twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock, returns
from bot.appkeys import FORM, SESSIONMAKER, SETTINGS
from bot.display import json_response
from bot.identity import check_id_answer, warning_text
from bot.privacy import before_identity
from bot.security.proxies import client_address
from bot.telegram.i18n import N_
from bot.telegram.i18n import gettext as _
from bot.webchat import cookies, formtext, store
from bot.webchat.actions import CONVERSATION_ACTIONS, apply_action
from bot.webchat.errors import ApiError, bad_request, out_of_order
from bot.webchat.language import locale_of
from bot.webchat.pages import render_page
from bot.webchat.payload import check_same_origin, int_value, read_json, text_value
from bot.webchat.present import conversation_view, mask_name
from flows import Form, mask_id, values
from storage.models import Invite, RecordStatus
from storage.repositories import ConflictError, ReadOnlyError, TransitionError
from storage.repositories.invites import (
    MAX_FAILED_ATTEMPTS,
    VerifyOutcome,
    is_code_shaped,
    is_locked,
)

RESIDENT_ACTIONS: dict[str, frozenset[str]] = {
    **CONVERSATION_ACTIONS,
    "submit": frozenset(),
    "reopen": frozenset(),
}
STALE = N_("页面内容已过期，已为您显示最新进度，请接着填写。")
LOCKED = N_("身份核对已连续出错 5 次，此链接已锁定。请联系社区工作人员核实身份后解锁。")
NOT_FOUND = N_("链接无效：没有找到这份登记邀请。请核对短信中的链接，或联系社区工作人员。")


# ---------------------------------------------------------------------------------- the page


async def page(request: web.Request) -> web.StreamResponse:
    """The chat page (everything else is fetched by its script)."""
    code = request.match_info["code"]
    invite = None
    if is_code_shaped(code):  # anything else names no invite (and never reaches a query)
        async with request.config_dict[SESSIONMAKER]() as session:
            invite = await store.load_invite(session, code)
    if invite is None:
        return render_page(request, "not_found.html", {"message": _(NOT_FOUND)}, status=404)
    return render_page(
        request,
        "chat.html",
        {"mode": "resident", "api": f"/c/{invite.code}/api", "title": _("全民参保登记")},
    )


# ---------------------------------------------------------------------------------- the API

Work = Callable[[AsyncSession, Invite], Awaitable[web.StreamResponse]]


async def _in_transaction(request: web.Request, work: Work) -> web.StreamResponse:
    """Run ``work`` on the link's invite in one transaction (retried once on a start race)."""
    code = request.match_info["code"]
    if not is_code_shaped(code):
        raise ApiError(404, _(NOT_FOUND))
    for attempt in range(2):
        try:
            async with request.config_dict[SESSIONMAKER]() as session, session.begin():
                invite = await store.load_invite(session, code)
                if invite is None:
                    raise ApiError(404, _(NOT_FOUND))
                return await work(session, invite)
        except ConflictError:
            if attempt:
                raise ApiError(409, _("刚才有另一个页面也在填写这份登记，请刷新后继续。")) from None
    raise AssertionError("unreachable")


def _identity_view(invite: Invite) -> dict[str, Any]:
    person = invite.person
    who = before_identity(person.name, person.community.name)
    if is_locked(invite):
        return {"stage": "locked", "person": who, "message": _(LOCKED)}
    return {
        "stage": "identity",
        "person": who,
        "attempts_left": max(MAX_FAILED_ATTEMPTS - invite.failed_attempts, 0),
    }


async def _view(
    request: web.Request, session: AsyncSession, invite: Invite
) -> tuple[dict[str, Any], Any, Any]:
    """The page's view of a verified chat, with the record and its conversation."""
    form: Form = request.config_dict[FORM]
    opened = await store.open_record(session, invite, form, today=clock.today())
    record = opened.record
    person = invite.person
    view: dict[str, Any] = {
        "person": {"name": mask_name(person.name), "id": mask_id(person.id_number)},
        "version": record.version,
        "reference": store.reference(record),
        "status": str(record.status),
        "status_text": _(store.STATUS_TEXT[record.status]),
        "notices": await store.take_notices(session, invite),
    }
    if opened.outcome == "duplicate":
        when = clock.local_date(opened.when).isoformat()
        view.update(
            stage="duplicate",
            message=_(
                "您的登记信息已由{who}于 {when} 填写，无需重复登记。如有疑问，请联系社区工作人员。"
            ).format(who=opened.who, when=when),
        )
        return view, record, None
    conv = store.conversation_of(record, form)
    if record.editable and returns.reopen(record, conv):
        # The first view after a return asks the marked questions (as the Telegram bot does).
        await store.save(
            session, invite, record, conv, step={"action": "reopen", "fields": conv.reopened}
        )
        view["version"] = record.version
    view.update(conversation_view(conv))
    if record.status == RecordStatus.returned:
        view["returned"] = {
            "comment": record.return_comment or "",
            "fields": returns.field_labels(form, record.return_fields or []),
            "awaiting": returns.field_labels(form, conv.awaiting_reanswer()),
        }
    if not record.editable:
        view["stage"] = "confirmed" if record.status == RecordStatus.confirmed else "submitted"
        view["prompt"] = None
        view["can_back"] = False
        view["policy_notes"] = conv.policy_notes() if conv.complete else []
    return formtext.translate_view(view, locale_of(request)), record, conv


async def state(request: web.Request) -> web.StreamResponse:
    """Where this chat stands: identity, the current question, the review, or the outcome."""
    check_same_origin(request, request.config_dict[SETTINGS].public_url)

    async def work(session: AsyncSession, invite: Invite) -> web.StreamResponse:
        if not cookies.is_verified(request, invite):
            return json_response({"view": _identity_view(invite)})
        view, _record, _conv = await _view(request, session, invite)
        return json_response({"view": view})

    return await _in_transaction(request, work)


async def identity(request: web.Request) -> web.StreamResponse:
    """Prove who this is by the 公民身份号码 on the roster; five wrong answers lock the link."""
    check_same_origin(request, request.config_dict[SETTINGS].public_url)
    data = await read_json(request, {"id_number"})
    typed = text_value(data, "id_number").strip()

    async def work(session: AsyncSession, invite: Invite) -> web.StreamResponse:
        if cookies.is_verified(request, invite):
            view, _record, _conv = await _view(request, session, invite)
            return json_response({"view": view})
        if not typed:
            raise bad_request(_("请输入登记对象的18位公民身份号码。"))
        if is_locked(invite):
            return json_response({"error": _(LOCKED), "view": _identity_view(invite)}, status=423)
        try:
            number = values.id_number(typed, clock.today())
        except values.Invalid as exc:
            # A number that cannot be anyone's is a typo, not a guess: it does not count.
            message = formtext.translate(exc.message)
            raise ApiError(422, message, view=_identity_view(invite)) from None
        result = await store.prove_identity(
            session, invite, number, address=client_address(request)
        )
        if result.outcome == VerifyOutcome.locked:
            return json_response({"error": _(LOCKED), "view": _identity_view(invite)}, status=423)
        if result.outcome == VerifyOutcome.wrong:
            return json_response(
                {
                    "error": _(
                        "公民身份号码与登记信息不符，请核对后重新输入（还可以再试 {n} 次）。"
                    ).format(n=result.attempts_left),
                    "view": _identity_view(invite),
                },
                status=403,
            )
        view, _record, _conv = await _view(request, session, invite)
        response = json_response({"view": view})
        cookies.remember(request, response, invite)
        return response

    return await _in_transaction(request, work)


async def action(request: web.Request) -> web.StreamResponse:
    """One step: answer, keep, skip, toggle, finish, back, edit, confirm_warnings, proceed,
    submit or reopen; the body carries ``version`` and the action's own fields."""
    name = request.match_info["action"]
    if name not in RESIDENT_ACTIONS:
        raise ApiError(404, _("无法识别的操作。"))
    check_same_origin(request, request.config_dict[SETTINGS].public_url)
    data = await read_json(request, RESIDENT_ACTIONS[name] | {"version"})
    version = int_value(data, "version")

    async def work(session: AsyncSession, invite: Invite) -> web.StreamResponse:
        if not cookies.is_verified(request, invite):
            return json_response(
                {"error": _("请先核对身份。"), "view": _identity_view(invite)}, status=401
            )
        view, record, conv = await _view(request, session, invite)
        if conv is None:
            raise out_of_order(view["message"], view=view)
        if record.version != version:
            raise out_of_order(_(STALE), view=view)
        if not record.editable:
            raise out_of_order(
                _("{status}，暂不能修改。").format(status=_(store.STATUS_TEXT[record.status])),
                view=view,
            )
        error: str | None = None
        message: str | None = None
        warning: str | None = None
        try:
            if name == "submit":
                if not conv.complete:
                    raise out_of_order(_("还没有填完，请先回答完所有问题并确认。"), view=view)
                await store.submit(session, invite, record, conv)
                message = _("提交成功！登记编号 {reference}。社保经办机构审核后会通知您。").format(
                    reference=store.reference(record)
                )
            elif name == "reopen":
                # A return is reopened by the first view after it (see _view); a page drawn
                # before that gets the view as it now is.
                raise out_of_order(_("现在不需要重新打开表格。"), view=view)
            else:
                at = conv.position
                answered = conv.prompt if name == "answer" else None
                outcome = apply_action(conv, name, data)
                error = outcome.error
                if outcome.changed:
                    step = {"action": name, "field": data.get("field") or at}
                    await store.save(session, invite, record, conv, step=step)
                    check = await check_id_answer(session, record, conv, answered)
                    if check is not None:
                        warning = formtext.translate(warning_text(check))
        except (ReadOnlyError, TransitionError) as exc:
            raise out_of_order(str(exc), view=view) from None
        except ApiError as exc:
            exc.extra.setdefault("view", view)
            raise
        fresh, _record, _conv = await _view(request, session, invite)
        fresh["notices"] = view["notices"] + fresh["notices"]
        body: dict[str, Any] = {"view": fresh}
        if error:
            body["error"] = formtext.translate(error)
        if message:
            body["message"] = message
        if warning:
            body["warning"] = warning
        return json_response(body)

    return await _in_transaction(request, work)
