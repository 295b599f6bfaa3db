"""/reviewers for organizers: each reviewer's month (assigned, scored, mean and spread, distance from the
rest of the committee, how early they finished), to choose next month's committee."""

from __future__ import annotations

from bot.dialogue.flow import Flow
from bot.dialogue.flows.selection import month_asked
from bot.dialogue.turn import Turn
from bot.services import policies, reviewer_stats


class ReviewersFlow(Flow):
    name = "reviewers"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        stats = reviewer_stats.for_organizer(t.session, t.user, month_asked(t, args), t.settings)
        t.show("reviewers/stats", {"stats": stats})


FLOW = ReviewersFlow()
