"""Every template renders in both languages, as valid Telegram HTML, with user input escaped."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from bot import forms
from bot.calendar import Month, default_cycle
from bot.sandbox.telegram_html import MAX_TEXT, parse_html, utf16_len
from bot.services.outbox import decode, encode
from bot.settings import PROJECT_ROOT, Settings, load_settings
from bot.texts import LANGUAGES, Texts, josa, to_plain

SEOUL = ZoneInfo("Asia/Seoul")
TEXTS = Texts(PROJECT_ROOT / "templates", SEOUL)
HOSTILE = "<script>&amp; 'x' \"y\"</script>"


def sample_context() -> dict[str, object]:
    cycle = default_cycle(Month(2026, 12), SEOUL)
    when = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    app = SimpleNamespace(receipt_no="PD-202612-0001", product_name=HOSTILE, submitted_at=when, month="2026-12",
                          status="submitted")  # fmt: skip
    return {
        "name": HOSTILE, "cycle": cycle, "next_cycle": default_cycle(Month(2027, 1), SEOUL), "open": True,
        "app": app, "company": SimpleNamespace(name=HOSTILE), "editing": False, "form": "application",
        "rows": [{"label": "기업명", "value": HOSTILE, "application": app, "cycle": cycle, "can_change": True}],
        "draft": {"month": "2026-12", "answered": 3, "total": 8},
        "field": "name", "prompt": "ask/profile_name", "step": 2, "total": 9, "current": HOSTILE, "optional": True,
        "selected": HOSTILE, "summary_max": 1000, "deck_max_mb": 20,
        # error parameters
        "min": 2, "max": 10, "length": 12, "over": 2, "ends": HOSTILE, "level": 5, "size_mb": 25.0, "max_mb": 20,
        "receipt_no": "PD-1",
        "closed_at": when, "next_opens_at": when, "next_closes_at": when, "names": HOSTILE, "name_": "x",
        "commands": [("apply", HOSTILE), ("selection", "선정 심의")], "selected_count": 6, "roles": ["organizer"],
        "channel_uploads": True, "upload_link": None, "upload_expires": None, "offset": 0,
        "links": [{"name": HOSTILE, "url": "https://bot.example.kr/files/abc", "expires_at": when}], "text": HOSTILE,
        "code": "ACDE-FGHJ", "here": "telegram", "other": "kakao", "minutes": 10, "expires_at": when, "retry_at": when,
        "brn": "220-81-62517", "typed": HOSTILE, "closes_at": when,
    }  # fmt: skip


def context_for(key: str) -> dict[str, object]:
    ctx = sample_context()
    if key.startswith(("news/", "expo/", "broadcast/", "errors/expo", "errors/audience")):
        _news_context(key, ctx)
    if key.startswith(("review/", "selection/", "results/", "invite/")):
        _committee_context(key, ctx)
    if key.startswith(
        (
            "programme/",
            "decisions/",
            "export/",
            "errors/decision",
            "errors/start_other",
            "reminders/decision",
            "reminders/escalation",
        )
    ):
        _month_end_context(key, ctx)
    if key.startswith("reviewers/"):
        _reviewers_context(ctx)
    if key.startswith(("privacy/", "apply/consent_refused")):
        _privacy_context(ctx)
    if key.startswith(("departments/", "errors/department", "form/question", "reminders/pitch_official")):
        _departments_context(ctx)
    if key.startswith(("appeal/", "errors/appeal", "errors/selection_reasons")):
        _appeal_context(key, ctx)
    if key.startswith(("reminders/", "results/", "review/assigned", "review/missing", "programme/lineup")):
        # Outbox rows carry plain data, decoded from JSON: the cycle is a dict here.
        from bot.calendar import cycle_data
        from bot.services.outbox import decode, encode

        ctx.update(decode(encode({
            "cycle": cycle_data(default_cycle(Month(2026, 12), SEOUL)), "kind": "draft_last_call",
            "missing": ["summary", "trl"], "answered": 3, "form": "application", "product_name": HOSTILE,
            "company": HOSTILE, "submitted_at": dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC),
            "total": 3.25, "reviews": 3, "band": "middle", "appeal_deadline": dt.datetime(2026, 12, 22, 14, 59,
            tzinfo=dt.UTC), "criteria": [["innovation", 3.5], ["safety", None], ["applicability", 3.0], ["economy", 4]],
            "_buttons": [["appeal_buttons.file", "e:appeal:new:1"]],
        })))  # fmt: skip
    if key == "privacy/selected_left":
        from bot.calendar import cycle_data
        from bot.services.outbox import decode, encode

        cycle = cycle_data(default_cycle(Month(2026, 12), SEOUL))
        ctx.update(decode(encode({"company": HOSTILE, "product_name": HOSTILE, "receipt_no": "PD-202612-0001",
                                  "cycle": cycle, "pitched": False})))  # fmt: skip
    if key.endswith("/pitch_moved"):  # outbox rows: plain data
        from bot.calendar import cycle_data
        from bot.services.outbox import decode, encode

        ctx.update(decode(encode({
            "before_pitch": dt.datetime(2026, 12, 24, 5, 0, tzinfo=dt.UTC), "status": "waitlisted",
            "appeal_before": dt.datetime(2026, 12, 22, 14, 59, tzinfo=dt.UTC),
            "cycle": cycle_data(default_cycle(Month(2026, 12), SEOUL)),
        })))  # fmt: skip
    if key == "errors/typed_on_review":
        ctx.update(confirm="✅ 제출하기", edits=True)
    if key == "errors/review_closed":
        ctx.update(reason="not_allowed", contact=HOSTILE)
    if key in ("selection/confirm_ask", "errors/selection_reviews_open"):
        ctx.update(unscored=2, count=2, deadline=ctx["closed_at"])
    if key in ("form/source_empty", "apply/departments_ready"):
        from bot.calendar import cycle_data

        ctx.update(closes_at=ctx["closed_at"], cycle=cycle_data(default_cycle(Month(2026, 12), SEOUL)))
    company_facts = ("errors/replace_", "results/", "reminders/", "selection/withdraw", "status/", "programme/withd")
    if key.startswith(company_facts):
        _company_facts_context(key, ctx)
    return ctx


def _reviewers_context(ctx: dict[str, object]) -> None:
    from bot.services.reviewer_stats import CommitteeStats, ReviewerStat

    when = dt.datetime(2026, 12, 14, 14, 59, 59, tzinfo=dt.UTC)
    done = ReviewerStat(1, HOSTILE, 4, 1, 4, 3.5, 0.41, -0.25, 0.5, 4, when, 37)
    late = ReviewerStat(2, "", 4, 0, 4, 4.0, 0.0, None, None, 0, when, -1, late=True)
    open_ = ReviewerStat(3, "김교수", 4, 0, 2, None, None, None, None, 0, None, None)
    ctx["stats"] = CommitteeStats("2026-12", when, 3.75, [done, late, open_])


def _appeal_context(key: str, ctx: dict[str, object]) -> None:
    when = dt.datetime(2026, 12, 16, 1, 0, tzinfo=dt.UTC)
    app = SimpleNamespace(receipt_no="PD-202612-0001", product_name=HOSTILE, status="not_selected", id=1)
    appeal = SimpleNamespace(id=1, ground="fact_error", details=HOSTILE, file_name=HOSTILE, filed_at=when,
                             status="accepted", decided_at=when, reason=HOSTILE, promoted_at=when)  # fmt: skip
    c = SimpleNamespace(appeal=appeal, application=app, company=SimpleNamespace(name=HOSTILE), may_decide=False,
                        can_promote=True)  # fmt: skip
    if key == "appeal/list":
        ctx["rows"] = [c]
    ctx.update(app=app, appeal=appeal, c=c, open=1, verdict="accept", reason=HOSTILE, ground="misreading",
               deadline=when, filed_at=when, decided_at=when, company=HOSTILE, product_name=HOSTILE,
               receipts="PD-1, PD-2", count=2, form="appeal", published=key.endswith("ask"),
               slot=SimpleNamespace(position=3, starts_at=when, ends_at=when))  # fmt: skip


def _company_facts_context(key: str, ctx: dict[str, object]) -> None:
    """A company's own facts (slot, venue, decisions) and the waitlist's promotion."""
    cycle = default_cycle(Month(2026, 12), SEOUL)
    start = cycle.pitch_at
    app = SimpleNamespace(receipt_no="PD-202612-0002", product_name=HOSTILE, id=2)
    ctx.update(
        pitch_at=start, release_at=start, venue=HOSTILE, reason=HOSTILE, published=True, position=1, messages=3,
        withdrawn=app, promoted=None, contact=HOSTILE, followup_by=cycle.decision_deadline_at.date(),
        slot={"position": 2, "starts_at": start, "ends_at": start}, departments=[HOSTILE, "서울교통공사"],
    )  # fmt: skip
    if key.startswith("results/"):
        ctx.update(departments=HOSTILE, previous=2, cause="appeal" if key.endswith("moved") else None)
    if key == "programme/withdrawn":  # an outbox row's data: the cycle is a dict
        from bot.calendar import cycle_data
        from bot.services.outbox import decode, encode

        ctx.update(decode(encode({"cycle": cycle_data(cycle), "company": HOSTILE, "product_name": HOSTILE})))
    if key.startswith("selection/withdraw"):
        waiting = {"position": 1, "app": app, "company": SimpleNamespace(name=HOSTILE), "others": 2}
        ctx["promoted"] = app if key == "selection/withdrawn" else waiting
    if key.startswith("status/"):
        selected = SimpleNamespace(receipt_no="PD-1", product_name=HOSTILE, submitted_at=start, month="2026-12",
                                   status="selected", id=7)  # fmt: skip
        decided = [SimpleNamespace(department=HOSTILE, status=s, amount=HOSTILE, timing=HOSTILE, reason=HOSTILE)
                   for s in ("buy", "no_buy", "review", "open")]  # fmt: skip
        ctx["rows"] = [*ctx["rows"], {"application": selected, "cycle": cycle, "can_change": False}]  # type: ignore[list-item]
        ctx["facts"] = {7: {"decisions": decided, "after": True, "overdue": True}}


def _privacy_context(ctx: dict[str, object]) -> None:
    when = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    app = SimpleNamespace(receipt_no="PD-202612-0001", month="2026-12", status="submitted", submitted_at=when,
                          deck_file_name=HOSTILE)  # fmt: skip
    ctx.update({
        "has_company": True, "years": 3, "now": when, "consent_at": when, "roles": ["reviewer"],
        "pledge": SimpleNamespace(pledged_at=when, pledge_version="2026-12"),
        "plan": SimpleNamespace(company=HOSTILE, company_kept=True, applications=2, drafts=1, accounts=2,
                                withdrawn=1),
        "accounts": [{"channel": "kakao", "name": HOSTILE, "language": "en", "since": when}],
        "company": [("기업명", HOSTILE)], "applications": [{"app": app, "rows": [("제품·서비스명", HOSTILE)]}],
        "drafts": [{"form": "application", "rows": [("제품 요약", HOSTILE)]}], "subscriptions": ["news"],
    })  # fmt: skip


def _departments_context(ctx: dict[str, object]) -> None:
    department = SimpleNamespace(name=HOSTILE, kind="agency", active=False, id=3)
    ctx.update(
        department=department, officials=0, searching=HOSTILE, matches=3, source="departments", total=2, most=10,
        rows=[{"name": HOSTILE, "kind": "district", "active": True, "officials": 2},
              {"name": "서울교통공사", "kind": "agency", "active": False, "officials": 0}],
        venue=HOSTILE, starts_at=dt.datetime(2026, 12, 24, 5, 0, tzinfo=dt.UTC),
        companies=[{"company": HOSTILE, "product_name": HOSTILE}, {"company": "기업2", "product_name": "제품2"}],
    )  # fmt: skip


def _committee_context(key: str, ctx: dict[str, object]) -> None:
    when = dt.datetime(2026, 12, 14, 14, 59, 59, tzinfo=dt.UTC)
    app = SimpleNamespace(receipt_no="PD-202612-0001", product_name=HOSTILE, placement="in", department_ids=[1],
                          responsible_department_ids=None, feedback=HOSTILE, submitted_at=when, id=1)  # fmt: skip
    company = SimpleNamespace(name=HOSTILE)
    means = {"innovation": 2.5, "safety": 4.0, "applicability": 4.25, "economy": 3.0}
    ranked = SimpleNamespace(application=app, company=company, mean=4.25, reviews=5, assigned=5, spread=1.5, counted=3,
                             trimmed=True, criterion_means=means, below_pass=("innovation",))  # fmt: skip
    unreviewed = SimpleNamespace(application=app, company=company, mean=None, reviews=0, assigned=2, spread=None,
                                 counted=0, trimmed=False, criterion_means={}, below_pass=())  # fmt: skip
    ctx.update(
        role="reviewer", department=HOSTILE, deep_links={"telegram": "https://t.me/bot?start=inv_x"}, expires_at=when,
        month="2026-12", new=app,
        done=1, total=2, deadline=when, confirmed=None, released=False, count=2, result="selected", held=True,
        release_at=when, sent=3, selected=6, waitlisted=3, not_selected=2, selected_count=6, waitlist_count=3,
        comment=HOSTILE, criteria=[{"key": "innovation", "value": 4}, {"key": "safety", "value": None}],
        app=app, company=company, position=1, feedback=HOSTILE, departments=HOSTILE, wished=HOSTILE,
        responsible=HOSTILE, unstaffed=[HOSTILE, "서울교통공사"], version="2026-12", needed=True,
        ranked=ranked, aggregation={"weights": [{"key": "innovation", "value": 1.5}, {"key": "safety", "value": 1.0}],
                                    "trim": 5, "marks": [{"key": "innovation", "value": 3.0}]},
        comments=[HOSTILE, "좋습니다"], late=False,
        mine=[SimpleNamespace(application=app, complete=True, review=SimpleNamespace(id=1)),
              SimpleNamespace(application=app, complete=False, review=SimpleNamespace(id=2))], unsaved=2,
    )  # fmt: skip
    if key.startswith("selection/board"):
        ctx["rows"] = [{"ranked": ranked, "result": "selected"}, {"ranked": unreviewed, "result": "not_selected"}]
        ctx["withdrawn"] = [{"app": app, "company": company}]
        ctx["replaceable"] = True


def _month_end_context(key: str, ctx: dict[str, object]) -> None:
    cycle = default_cycle(Month(2026, 12), SEOUL)
    start = cycle.pitch_at
    app = SimpleNamespace(receipt_no="PD-1", product_name=HOSTILE, summary=HOSTILE * 3, id=1)
    company = SimpleNamespace(name=HOSTILE)
    decision = SimpleNamespace(department=HOSTILE, status="open", id=1)
    slot = SimpleNamespace(position=1, application=app, company=company, starts_at=start, ends_at=start)
    ctx.update(
        pitch_at=start, deadline=cycle.decision_deadline_at, month="2026-12", version=2, venue=HOSTILE,
        starts_at=start, ends_at=start, slot_minutes=20, slots=[slot], sent=4, decided=1, open=1, overdue=1,
        departments=HOSTILE, status="no_buy", amount=HOSTILE, timing=HOSTILE, reason=HOSTILE, corrected=True,
        department=HOSTILE, company=HOSTILE, product_name=HOSTILE, position=1, changed=True, mine=[1],
        unstaffed=[HOSTILE],
        r=SimpleNamespace(decision=decision, application=app, company=company, cycle=cycle, overdue=False),
        new=SimpleNamespace(decision=decision, application=app, company=company, cycle=cycle, overdue=False),
        rows=[SimpleNamespace(decision=decision, application=app, company=company, cycle=cycle, overdue=True)],
        others=[SimpleNamespace(decision=decision, application=app, company=company, cycle=cycle, overdue=False)],
        early=[cycle], closed=[cycle], upcoming=cycle, decidable=True, at=start, by=HOSTILE,
    )  # fmt: skip
    if key.startswith(("reminders/decision", "reminders/escalation", "programme/lineup")):
        items = [{"company": HOSTILE, "product_name": HOSTILE, "department": HOSTILE}]
        ctx.update(
            decode(
                encode(
                    {
                        "pending": items,
                        "overdue": items,
                        "kind": "decision_d14",
                        "lineup": [
                            {
                                "position": 1,
                                "company": HOSTILE,
                                "product_name": HOSTILE,
                                "summary": HOSTILE * 5,
                                "starts_at": start,
                                "departments": HOSTILE,
                            }
                        ],
                    }
                )
            )
        )
        ctx["overdue"] = items


def _news_context(key: str, ctx: dict[str, object]) -> None:
    from pathlib import Path

    from bot.services import expo as expo_service

    parsed = expo_service.parse((Path(__file__).resolve().parents[1] / "samples" / "expo-2019.yaml").read_text())
    row = SimpleNamespace(**{k: v for k, v in parsed.items() if k != "dates"}, id=1)
    data = decode(encode(expo_service.data(row)))  # type: ignore[arg-type]
    data["name"] = HOSTILE
    b = SimpleNamespace(id=7, created_at=dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC), audience="applicants",
                        month="2026-12", kind="text", text=HOSTILE, status="sending")  # fmt: skip
    p = SimpleNamespace(sent=10, failed=1, left=3, cancelled=2, status="cancelled")
    ctx.update(expo=data, has_current=True, max=3500, text=HOSTILE, count=3000, audience=HOSTILE, stopped=5, b=b,
               p=p, rows=[(b, SimpleNamespace(display_name=HOSTILE), p)], problem="item_kind", item=3,
               kinds=HOSTILE)  # fmt: skip
    if key == "broadcast/finished":  # an outbox row's plain data
        ctx.update(id=7, sent=10, failed=1, cancelled=2, audience="applicants", month="2026-12")
    over = {"name": HOSTILE, "starts_on": parsed["starts_on"], "ends_on": parsed["ends_on"],
            "today": dt.date(2026, 12, 6)}  # fmt: skip
    ctx.update(over, past=over)


def all_keys() -> list[str]:
    keys = set(TEXTS.template_keys("ko")) | set(TEXTS.template_keys("en"))
    return sorted(keys)


def test_both_languages_have_the_same_templates_and_labels() -> None:
    assert TEXTS.template_keys("ko") == TEXTS.template_keys("en")

    def paths(node: object, prefix: str = "") -> set[str]:
        if isinstance(node, dict):
            return set().union(*(paths(v, f"{prefix}{k}.") for k, v in node.items()))
        return {prefix[:-1]}

    assert paths(TEXTS.catalog["ko"]) == paths(TEXTS.catalog["en"])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", all_keys())
def test_every_template_renders_as_valid_telegram_html(lang: str, key: str) -> None:
    ctx = context_for(key)
    if key.startswith("errors/naive_time"):
        ctx["name"] = "pitch_at"
    html = TEXTS.render(lang, key, **ctx)
    visible = parse_html(html)  # raises on anything Telegram would refuse
    assert visible.strip()
    assert utf16_len(visible) <= MAX_TEXT
    assert "<script>" not in html  # user input is escaped
    assert to_plain(html).strip()
    if lang == "ko" and not key.startswith(("menu/language", "ask/", "form/question")):
        # 합니다체: polite endings, no casual 해요체.
        assert "해요" not in visible
    # The same template as plain text for a channel without markup or slash commands.
    plain = TEXTS.render_plain(lang, key, channel="kakao", **ctx)
    assert plain.strip()
    assert not re.search(r"</?(b|i|a|code|pre)\b", plain.replace(HOSTILE, "")), plain  # no markup left
    assert "&lt;" not in plain.replace(HOSTILE, "")  # nothing double-escaped


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_question_prompt_renders(lang: str) -> None:
    ctx = sample_context()
    for key in [k for k in all_keys() if k.startswith("ask/")]:
        html = TEXTS.render(lang, "form/question", **{**ctx, "prompt": key, "field": key.split("_", 1)[1]})
        first_line = to_plain(TEXTS.render(lang, key, **ctx)).strip().splitlines()[0]
        assert first_line and first_line in parse_html(html), key  # the question itself, inside the screen


def test_dates_read_naturally() -> None:
    when = dt.datetime(2026, 12, 24, 5, 0, tzinfo=dt.UTC)
    html = TEXTS.env.from_string("{{ w|datetime('ko') }} / {{ w|datetime('en') }}").render(w=when)
    assert html == "2026년 12월 24일(목) 14:00 / Thu 24 December 2026 14:00"


def test_korean_particles_follow_the_sound_before_them() -> None:
    """「…」을/를, 이/가, 은/는, (으)로, (이)라고 after words, numbers, codes and command names."""
    cases = [
        ("「신청」", "으로", "「신청」으로"), ("/apply", "로", "/apply로"), ("/programme", "으로", "/programme으로"),
        ("/status", "으로", "/status로"), ("심사위원", "으로", "심사위원으로"),
        # 백, 에딧 end in a consonant; 링크, 스타트 take 으; -le is ㄹ (스케줄, 프로필)
        ("/back", "로", "/back으로"), ("/expo_edit", "를", "/expo_edit을"), ("/link", "으로", "/link로"),
        ("/start", "을", "/start를"), ("/schedule", "으로", "/schedule로"), ("/profile", "를", "/profile을"),
        ("수요처 담당자", "으로", "수요처 담당자로"),
        ("PD-202612-0003", "을", "PD-202612-0003을"), ("PD-202612-0002", "을", "PD-202612-0002를"),
        ("「제품8005」", "은", "「제품8005」는"), ("「HR-10」", "이", "「HR-10」이"), ("「SBA」", "은", "「SBA」는"),
        ("「🏅 선정에 추가」", "으로", "「🏅 선정에 추가」로"), ("「교통」", "이", "「교통」이"),
        ("「기후」", "이", "「기후」가"),
        ("「서울」", "으로", "「서울」로"), ("「취소」", "을", "「취소」를"),
    ]  # fmt: skip
    for word, particle, expected in cases:
        assert josa(word, particle) == expected
    # A code is read one character at a time: 일(1) 알(r) 엠(m) 하이픈(-) end in a consonant; 이(2), 엑스(x) do not.
    for code, particle in (("inv_ab1", "이라고"), ("inv_aKr", "이라고"), ("inv_a-m", "이라고"), ("inv_ab2", "라고"),
                           ("inv_aBx", "라고"), ("inv_a_0", "이라고"), ("inv_a_Z", "라고")):  # fmt: skip
        assert josa(f"「시작 {code}」", "이라고", spelled=True) == f"「시작 {code}」{particle}", code
        ctx = {"role": "reviewer", "department": None, "expires_at": dt.datetime(2026, 12, 10, tzinfo=dt.UTC),
               "deep_links": {}, "code": code}  # fmt: skip
        assert f"「시작 {code}」{particle} 입력" in TEXTS.render_plain("ko", "invite/created", **ctx)


def test_to_plain_keeps_text_and_unescapes() -> None:
    assert to_plain("<b>A&amp;B</b> &lt;ok&gt;") == "A&B <ok>"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", ["_upload", "_uploaded", "_not_taken", "_refused"])
def test_the_file_pages_render_with_input_escaped(lang: str, page: str) -> None:
    """The upload and download pages are HTML pages of their own (not Telegram's subset)."""
    when = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    data = {"max_size": "20MB", "expires_at": when, "error": "upload_not_pdf", "name": HOSTILE,
            "code": "file_link_used", "field": "evidence"}  # fmt: skip
    html = TEXTS.env.get_template(f"{lang}/files/{page}.j2").render(lang=lang, channel="web", **data)
    assert html.startswith("<!doctype html>") and "<script>" not in html and "</html>" in html
    if page == "_upload":  # the page names what it asks for: an appeal's evidence is no pitch deck
        assert TEXTS.label(lang, "fields.evidence") in html and TEXTS.label(lang, "fields.deck") not in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_form_has_a_name_in_the_personal_data_file(lang: str, settings: Settings) -> None:
    # /mydata lists unfinished drafts by their form's name: one form without a name broke the whole file.
    keys = [value for name, value in vars(forms).items() if name.isupper() and isinstance(value, str)]
    form_keys = {key for key in keys if forms.form_by_key(key, settings).key == key}
    assert {forms.PLEDGE, forms.APPLICATION, forms.APPEAL} <= form_keys
    for key in form_keys:
        assert TEXTS.label(lang, f"privacy_forms.{key}")


def test_no_line_runs_into_the_next_after_an_inline_block() -> None:
    """``trim_blocks`` eats the newline after a tag, so a line of text ending in ``{% endif %}`` ran into the
    next line (「…(12월 16일(수) 10:00)• 처리 사유」, 「• 실패: 0건「공지 내역」으로…」); such a line keeps its
    newline with ``{% endif +%}``."""
    ending = re.compile(r"\{%-?\s*(endif|endfor)\s*%\}$")
    opening_alone = re.compile(r"^\s*\{%-?\s*(if|for|elif|else)[^%]*%\}\s*$")
    closing = re.compile(r"^\s*\{%-?\s*(endif|endfor|else|elif)")
    joined = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.j2")):
        if path.parent.name == "files":  # HTML pages: a newline means nothing there
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines[:-1]):
            text = re.sub(r"\{%.*?%\}", "", line).strip()
            after = lines[i + 1]
            if not ending.search(line) or not text or not after.strip() or closing.match(after):
                continue
            if opening_alone.match(after) and (i + 2 >= len(lines) or not lines[i + 2].strip()):
                continue  # the next block starts with a blank line of its own
            joined.append(f"{path.relative_to(PROJECT_ROOT)}:{i + 1}")
    assert joined == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_review_pages_edit_buttons_fit_on_kakaotalk(lang: str) -> None:
    """Quick replies show 14 characters: 「✏️ Company name」 and 「✏️ Company size」 were cut to 「✏️ …mpany name」
    and 「✏️ …mpany size」, 「🗑 Withdraw consent and delete」 to 「🗑 Withdraw…」."""
    from bot.dialogue.flows.form import edit_name
    from bot.forms import APPLICATION, form_by_key
    from handlers.kakao.answer import MAX_LABEL

    settings = load_settings(telegram_token="1:x")
    keys = (APPLICATION, "profile", "decision", "review", "appeal", "broadcast", "expo")
    fields = {q.field for key in keys for q in form_by_key(key, settings).questions}
    labels = {TEXTS.label(lang, "buttons.edit_field", name=edit_name(TEXTS, lang, f)) for f in fields}
    labels |= {TEXTS.label(lang, f"privacy_buttons.{k}") for k in TEXTS.catalog[lang]["privacy_buttons"]}
    assert [label for label in labels if len(label) > MAX_LABEL] == []
