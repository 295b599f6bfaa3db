"""The flows, one module per area; the engine finds them here by name."""

from __future__ import annotations

from bot.dialogue.flow import Flow


def load() -> dict[str, Flow]:
    from bot.dialogue.flows import (
        appeal,
        appeals,
        apply,
        broadcast,
        decisions,
        departments,
        export,
        form,
        invite,
        link,
        menu,
        news,
        privacy,
        programme,
        review,
        reviewers,
        selection,
        status,
    )

    modules = (menu, form, apply, status, invite, link, review, reviewers, selection, programme, decisions,
               broadcast, news, export, privacy, appeal, appeals, departments)  # fmt: skip
    return {m.FLOW.name: m.FLOW for m in modules}
