"""``pitchbot simulate``: simulated companies register and apply through the real handlers, against the
stand-in Bot API server, on a sandbox database and a controlled clock; printed as a transcript."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bot import calendar
from bot.calendar import Month
from bot.clock import ManualClock, clock_for
from bot.database import Database
from bot.sandbox.botapi import BotApiServer, Event
from bot.sandbox.kakao import KakaoPlatform, KakaoUser, SkillAnswer
from bot.sandbox.runner import SandboxBot
from bot.sandbox.users import SimUser
from bot.services import cycles, departments
from bot.settings import Settings
from bot.texts import to_plain

SAMPLE_DECK = Path(__file__).with_name("sample_deck.pdf")
EXPO_SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "expo-2019.yaml"
ORGANIZER = 700001


class Transcript:
    def __init__(self, out: Callable[[str], None], clock: ManualClock, tz: dt.tzinfo) -> None:
        self._out = out
        self.clock = clock
        self.tz = tz
        self.muted = False

    def out(self, line: str) -> None:
        if not self.muted:
            self._out(line)

    def note(self, line: str) -> None:
        """Said even when muted: what happened off the page."""
        self._out(line)

    def heading(self, text: str) -> None:
        self.out("")
        self.out(f"━━ {text} " + "━" * max(3, 60 - len(text)))

    def user(self, who: SimUser | str, action: str) -> None:
        stamp = self.clock.now().astimezone(self.tz).strftime("%m-%d %H:%M")
        name = who if isinstance(who, str) else who.first_name
        self.out(f"[{stamp}] 👤 {name}: {action}")

    def kakao(self, answer: SkillAnswer) -> None:
        """A KakaoTalk answer: its texts, then its quick replies."""
        if answer.callback:
            self.out("    💬 (the answer follows through the block's callback URL)")
        for text in answer.texts:
            self.lines("💬 ", text)
        if answer.quick_replies:
            self.out("       " + " ".join(f"[{label}]" for label in answer.labels()))

    def lines(self, prefix: str, body: str) -> None:
        lines = body.splitlines() or [""]
        self.out("    " + prefix + lines[0])
        for line in lines[1:]:
            self.out("       " + line if line else "")

    def bot(self, events: list[Event]) -> None:
        for ev in events:
            if ev.kind == "document" and ev.document:
                self.out(f"    🤖 📎 {ev.document.get('file_name', 'file')}")
                if not ev.html:
                    continue
            body = to_plain(ev.html) if ev.html else ev.text
            prefix = "🤖 (edited) " if ev.kind == "edit" else "🤖 "
            lines = body.splitlines() or [""]
            self.out("    " + prefix + lines[0])
            for line in lines[1:]:
                self.out("       " + line if line else "")
            if ev.buttons:
                self.out("       " + " ".join(f"[{t}]" for t in ev.button_texts()))

    def deliveries(self, actors: list[Actor | KakaoActor], what: str) -> None:
        """Messages people received without asking (the outbox at work)."""
        stamp = self.clock.now().astimezone(self.tz).strftime("%m-%d %H:%M")
        self.out(f"[{stamp}] ⏰ {what}")
        for actor in actors:
            actor.show_deliveries()


class Actor:
    """One simulated person, whose every step lands in the transcript."""

    def __init__(self, user: SimUser, transcript: Transcript) -> None:
        self.user = user
        self.t = transcript

    async def say(self, text: str, expect: int = 1) -> list[Event]:
        self.t.user(self.user, text if len(text) < 80 else text[:77] + "…")
        events = await self.user.send(text, expect)
        self.t.bot(events)
        return events

    async def press(self, label: str, expect: int = 1) -> list[Event]:
        self.t.user(self.user, f"presses [{label}]")
        events = await self.user.press(label, expect)
        self.t.bot(events)
        return events

    async def upload(self, content: bytes, name: str, mime: str | None, expect: int = 1) -> list[Event]:
        self.t.user(self.user, f"sends the file {name} ({len(content):,} bytes)")
        events = await self.user.send_document(content, name, mime, expect)
        self.t.bot(events)
        return events

    def show_deliveries(self) -> None:
        new = self.user.take_unread()
        for ev in new:
            self.t.out(f"    📨 to {self.user.first_name} (Telegram):")
            self.t.bot([ev])


class KakaoActor:
    """One simulated person in KakaoTalk: they type, or tap a quick reply; what the bot starts arrives as
    Event API messages."""

    def __init__(self, user: KakaoUser, name: str, transcript: Transcript) -> None:
        self.user = user
        self.name = name
        self.t = transcript
        self.seen = 0

    async def say(self, text: str, expect: int = 1) -> SkillAnswer:
        self.t.user(f"{self.name} 💛", text if len(text) < 80 else text[:77] + "…")
        answer = await self.user.say(text)
        self.t.kakao(answer)
        return answer

    async def press(self, label: str, expect: int = 1) -> SkillAnswer:
        self.t.user(f"{self.name} 💛", f"taps [{label}]")
        answer = await self.user.tap(label)
        self.t.kakao(answer)
        return answer

    def show_deliveries(self) -> None:
        events = self.user.events[self.seen :]
        self.seen = len(self.user.events)
        for _, data in events:
            self.t.out(f"    📨 to {self.name} (KakaoTalk, Event API):")
            self.t.lines("💬 ", str(data.get("text", "")))


def _progress_text(server: BotApiServer, organizer: Actor) -> str:
    """The organizer's live progress message as it stands (it is edited, not resent)."""
    for (chat, _), message in sorted(server.messages.items(), key=lambda kv: -kv[0][1]):
        if chat == organizer.user.id and str(message.get("text", "")).startswith(("공지 #", "Broadcast #")):
            return str(message["text"])
    return ""


SCALE = {1: "1 매우 미흡", 2: "2 미흡", 3: "3 보통", 4: "4 우수", 5: "5 매우 우수"}


async def _score(db: Database, person: Actor, app_id: int, values: tuple[int, ...]) -> None:
    """A reviewer opens an application's score form, picks the four scores, skips the comment and saves."""
    await person.user.press_data(f"e:review:score:{_review_of(db, person, app_id)}", 1)
    for value in values:
        await person.press(SCALE[value])
    await person.press("건너뛰기")
    await person.press("저장하기", 2)


def _review_of(db: Database, actor: Actor, app_id: int) -> int:
    """The id of the actor's review of an application, as the card's buttons carry it."""
    from sqlmodel import select

    from bot.models import Review, User

    with db.session() as session:
        user = session.exec(select(User).where(User.external_id == str(actor.user.id))).one()
        found = session.exec(
            select(Review.id).where(Review.application_id == app_id, Review.reviewer_user_id == user.id)
        ).one()
    return int(found or 0)


async def run_simulation(base: Settings, out: Callable[[str], None], month: Month | None = None) -> int:
    """Returns the number of applications received; the transcript goes to ``out``."""
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-sim-"))
    settings = base.model_copy(
        update={"database_url": f"sqlite:///{workdir / 'sandbox.db'}", "files_dir": workdir / "files",
                "run_scheduler": False, "send_per_chat_interval": 0.0,
                # A small sandbox month: four applicants, two places and one on the waitlist.
                "organizer_ids": (ORGANIZER,), "selected_count": 2, "waitlist_count": 1}
    )  # fmt: skip
    tz = settings.tz
    now = clock_for(base.fake_now).now()  # the operator's clock, PITCHBOT_FAKE_NOW included
    month = month or Month.of(now, tz)
    server = BotApiServer()
    await server.start()
    kakao = KakaoPlatform()
    await kakao.start()
    db = Database(settings.database_url)
    db.upgrade()
    with db.session() as session:
        cycle = cycles.get_cycle(session, month, settings)
    clock = ManualClock(cycle.window_opens_at + dt.timedelta(days=2, hours=10))
    t = Transcript(out, clock, tz)
    out(
        f"Sandbox: stand-in Bot API at {server.url}, stand-in for Kakao's platform at {kakao.url}, "
        f"database {workdir / 'sandbox.db'} (removed at the end)"
    )
    local = {name: getattr(cycle, name).astimezone(tz) for name in ("window_opens_at", "window_closes_at", "pitch_at")}
    out(
        f"Month {month}: window {local['window_opens_at']:%m-%d} – {local['window_closes_at']:%m-%d}, "
        f"selection {cycle.selection_at.astimezone(tz):%m-%d}, Pitching Day {local['pitch_at']:%m-%d %H:%M}"
    )

    bot = SandboxBot(settings, clock, db, server, kakao)
    await bot.start()
    try:
        hanbit = Actor(SimUser(server, 710001, "김민준 (한빛로보틱스)"), t)
        green = Actor(SimUser(server, 710002, "Jane Park (Green Mobility)", "en"), t)
        daon = Actor(SimUser(server, 710003, "이서연 (다온에이아이)"), t)
        big = Actor(SimUser(server, 710004, "박대기 (대한중공업)"), t)
        # 미래센서 and one official use KakaoTalk (💛): the same flows, typed words and quick replies.
        mirae = KakaoActor(KakaoUser(kakao), "최미래 (미래센서)", t)
        everyone = [hanbit, green, daon, big, mirae]

        organizer = Actor(SimUser(server, ORGANIZER, "경제정책과 운영자"), t)
        professor = Actor(SimUser(server, 700101, "김교수 (심사위원)"), t)
        researcher = Actor(SimUser(server, 700102, "정연구원 (심사위원)"), t)
        committee = [professor, researcher]

        clock.set(cycle.window_opens_at - dt.timedelta(days=4, hours=-14))
        t.heading(f"Before {month}: a company asks to be told when applications open")
        await mirae.say("신청")
        await mirae.press("알림 받기")
        t.heading("The organizer's menu: the daily work first, the rest a page turn away (edited in place)")
        await organizer.say("/start")
        await organizer.press("다음 목록")
        t.heading("The organizer invites the expert committee with single-use links")
        for reviewer in committee:
            [made] = await organizer.say("/invite reviewer")
            link = made.text.split("start=")[1].split()[0]
            await reviewer.say(f"/start {link}", 2)
        t.note("    … 김교수 accepts the conflict-of-interest pledge at once; 정연구원 will at the first /review …")
        await professor.press("서약합니다", 2)
        await professor.press("건너뛰기")
        t.heading("The organizer loads the list of buying departments (수요처 목록) and looks through it")
        with db.session() as session:
            loaded = departments.load_path(session, departments.SAMPLE, clock.now())
        t.note(f"    $ pitchbot departments load samples/departments.csv\n    departments: {len(loaded.added)} added, "
               f"{len(loaded.changed)} changed, {loaded.unchanged} unchanged; {loaded.total} in the list")  # fmt: skip
        await organizer.say("/departments 교통")
        metro = Actor(SimUser(server, 700201, "이과장 (서울교통공사)"), t)
        dasan = KakaoActor(KakaoUser(kakao), "한팀장 (120다산콜재단)", t)
        officials: list[Actor | KakaoActor] = [metro, dasan]
        t.heading("… and invites officials to two entries of it (in KakaoTalk, the invitation is typed as a code)")
        [made] = await organizer.say("/invite official 교통공사")  # one entry holds the words: at once
        await metro.say(f"/start {made.text.split('start=')[1].split()[0]}")
        await organizer.say("/invite official")  # picked from the list, found by typing
        [made] = await organizer.say("다산")
        await dasan.say(f"시작 {made.text.split('시작 ')[1].split('」')[0]}")
        await dasan.say("한팀장")  # KakaoTalk gives no name: asked on joining

        clock.set(calendar.local_at(cycle.window_opens_at.astimezone(tz).date(), settings.window_open_notice_time, tz))
        t.heading(f"{month} 1st: the window opens, the outbox announces it")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} message(s) planned and sent")

        clock.set(cycle.window_opens_at + dt.timedelta(days=2, hours=10))
        t.heading("Companies register and apply")
        await hanbit.say("/start")
        await hanbit.press("피칭데이 신청", 2)
        await hanbit.press("동의합니다")
        await hanbit.say("한빛로보틱스")
        await hanbit.say("123-45-67890")
        await hanbit.say("220-81-62517")
        await hanbit.say("김민준")
        await hanbit.press("중소기업")
        await hanbit.say("서울 마포구 월드컵북로 400")
        await hanbit.say("최담당")
        await hanbit.say("02-1234")
        await hanbit.say("010-2345-6789")
        await hanbit.say("choi@hanbit-robotics.kr")
        await hanbit.press("저장하기", 3)
        await hanbit.say("자율 순찰 로봇 HR-1")
        hanbit.t.user(hanbit.user, "picks 로봇 and 인공지능(AI)")
        await hanbit.user.press("로봇", 0)
        await hanbit.user.press("인공지능", 0)
        await hanbit.press("선택 완료")
        await hanbit.press("TRL 7")
        await hanbit.say(
            "공원과 지하철 역사를 야간에 자율 순찰하며 이상 상황을 관제센터에 실시간으로 알리는 로봇입니다."
        )
        await hanbit.say(
            "공원녹지사업소와 서울교통공사 역사의 야간 순찰에 투입해 인력 부담과 사고 대응 시간을 줄입니다."
        )
        await hanbit.say("교통")  # part of a name: the entries holding it are offered
        await hanbit.user.press("서울교통공사", 0)
        await hanbit.say("푸른도시")  # one entry holds it: added at once
        await hanbit.press("선택 완료")
        await hanbit.say("대당 4,800만 원")
        await hanbit.upload(b"PK\x03\x04 not a pdf", "HR-1 소개.pptx", "application/vnd.ms-powerpoint")
        await hanbit.upload(SAMPLE_DECK.read_bytes(), "HR-1 소개.pdf", "application/pdf")
        await hanbit.press("제출하기")

        t.heading("An English-speaking company; a wrong TRL; no deck")
        await green.say("/start")
        await green.press("Apply", 2)
        await green.press("I agree")
        for answer in ("Green Mobility Co., Ltd.", "104-81-12340", "Jane Park"):
            await green.say(answer)
        await green.press("SME")
        for answer in ("Seongdong-gu, Seoul", "Jane Park", "010-9876-5432", "jane@greenmobility.kr"):
            await green.say(answer)
        await green.press("Save", 3)
        await green.say("Shared e-scooter parking sensor")
        green.t.user(green.user, "picks IoT")
        await green.user.press("IoT", 0)
        await green.press("Done")
        await green.press("TRL 5")
        await green.press("TRL 6")
        await green.say(
            "Ground sensors that detect e-scooters parked on footpaths and alert the operator in real time."
        )
        await green.say("District offices can enforce parking rules without patrols; citizens report fewer hazards.")
        await green.say("Seoul Transportation Bureau")  # not a name on the list
        await green.say("도시교통실, 성동구")
        await green.press("Done")
        await green.press("Skip")
        await green.press("Skip")
        await green.press("Submit")

        t.heading("A company stops half-way, the bot restarts, nothing is lost")
        await daon.say("/apply", 2)
        await daon.press("동의합니다")
        await daon.say("다온에이아이")
        await daon.say("/cancel")
        t.heading("(the bot process restarts)")
        await bot.restart()
        await daon.say("/apply")
        for answer in ("220-88-12340", "이서연"):
            await daon.say(answer)
        await daon.press("중소기업")
        for answer in ("서울 강남구 테헤란로 311", "이서연", "010-5555-0101", "seoyeon@daon.ai"):
            await daon.say(answer)
        await daon.press("저장하기", 3)
        await daon.say("민원 상담 AI 비서")
        daon.t.user(daon.user, "picks 인공지능(AI) and 빅데이터")
        await daon.user.press("인공지능", 0)
        await daon.user.press("빅데이터", 0)
        await daon.press("선택 완료")
        await daon.say("8")
        await daon.say(
            "120 다산콜재단 상담 기록을 학습해 민원인의 질문에 24시간 답하고 담당 부서로 연결하는 AI 비서입니다."
        )
        await daon.say("다산콜재단과 자치구 민원실의 야간·주말 상담에 적용해 대기 시간을 줄입니다.")
        await daon.say("120다산콜재단")
        await daon.press("선택 완료")
        await daon.say("연 구독료 3,600만 원")
        await daon.press("건너뛰기")
        await daon.press("제출하기")
        t.heading("Editing after submission")
        await daon.say("/status")
        await daon.press("수정")
        await daon.press("희망 수요처")
        await daon.say("시민소통")
        await daon.press("선택 완료")
        await daon.press("수정 내용 제출")

        t.heading("A large company is told, politely, that Pitching Day is for SMEs")
        await big.say("/apply", 2)
        await big.press("동의합니다")
        await big.say("대한중공업")
        await big.say("110-81-00010")
        await big.say("박대기")
        await big.press("대기업")
        await big.say("/cancel")

        t.heading("A company starts, and leaves its application half-done")
        await mirae.say("신청")
        await mirae.press("동의합니다")
        for answer in ("미래센서", "314-86-12340", "최미래"):
            await mirae.say(answer)
        await mirae.press("중소기업")
        for answer in ("서울 금천구 가산디지털1로 168", "최미래", "010-3333-4444", "mirae@miraesensor.kr"):
            await mirae.say(answer)
        await mirae.press("저장하기")
        await mirae.say("교량 균열 감지 센서")
        await mirae.say("취소")

        clock.set(calendar.local_at(dt.date(month.year, month.month, 8), settings.draft_reminder_time, tz))
        t.heading("The 8th: a reminder to companies with an unfinished application")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} message(s) planned and sent")

        clock.set(calendar.local_at(cycle.window_closes_at.astimezone(tz).date(), settings.last_call_time, tz))
        t.heading("The last day, 18:00: the last call")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} message(s) planned and sent")
        clock.advance(dt.timedelta(hours=1, minutes=30))
        await mirae.say("신청")
        await mirae.say("사물인터넷")  # a choice typed by its name is picked, as its button is
        await mirae.say("선택 완료")
        await mirae.press("TRL 6")
        await mirae.say("교량 하부에 부착해 미세 균열과 진동을 측정하고 이상 징후를 관리자에게 알리는 IoT 센서입니다.")
        await mirae.say("도시기반시설본부 교량 안전점검에 적용해 점검 주기 사이의 위험을 조기에 발견합니다.")
        await mirae.say("도시기반")  # part of a name, typed in KakaoTalk
        await mirae.say("선택 완료")
        await mirae.press("건너뛰기")
        await mirae.press("건너뛰기")
        await mirae.press("제출하기")

        clock.set(cycle.window_closes_at + dt.timedelta(seconds=1))
        t.heading("The window closes: each applicant gets a receipt summary")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} message(s) planned and sent")
        report = await bot.tick()
        t.deliveries(everyone, f"the same tick again: {report.planned} new message(s) (nothing is sent twice)")
        t.deliveries(committee, "and the committee is asked to review")

        clock.set(cycle.window_closes_at + dt.timedelta(hours=10))
        t.heading("The committee scores in the bot")
        await professor.say("/review")
        await professor.press("PD-")
        await professor.press("점수 입력")
        for value in (5, 4, 5, 4):
            await professor.press(SCALE[value])
        await professor.say("현장 실증 계획이 구체적입니다. 야간 안전 기준 충족 여부를 확인할 필요가 있습니다.")
        await professor.press("저장하기", 2)
        await researcher.say("/review")
        await researcher.press("서약합니다", 2)
        await researcher.press(f"PD-{month.year}{month.month:02d}-")
        await researcher.press("이해충돌 신고")
        await researcher.press("예, 신고합니다")
        t.note("    … the reviewers score the other applications the same way (not shown) …")
        t.muted = True
        plan = {professor: {2: (3, 4, 3, 4), 3: (4, 3, 4, 3), 4: (3, 3, 4, 2)},
                researcher: {2: (3, 3, 3, 4), 3: (5, 4, 4, 4)}}  # fmt: skip
        for person, scores in plan.items():
            for app_id, values in scores.items():
                await _score(db, person, app_id, values)
        t.muted = False

        clock.set(calendar.local_at(cycle.selection_at.astimezone(tz).date() - dt.timedelta(days=1),
                                    settings.review_reminder_time, tz))  # fmt: skip
        t.heading("The day before selection: a reminder to the reviewer with missing scores")
        report = await bot.tick()
        t.deliveries(committee, f"tick: {report.planned} message(s)")
        await researcher.say("/review")
        t.muted = True
        await _score(db, researcher, 4, (3, 4, 2, 3))
        t.muted = False
        t.note("    … 정연구원 scores the last application …")

        clock.advance(dt.timedelta(hours=4))
        t.heading("The organizer looks at how each reviewer did (the basis for next month's committee)")
        await organizer.say("/reviewers")
        t.heading("The organizer reviews the ranking and confirms the selection")
        await organizer.say("/selection")
        await organizer.press("선정 확정")  # refused: the waitlist and the rest need the committee's reasons
        await organizer.say("/selection")
        await organizer.press("4. PD-")
        await organizer.press("피드백")
        await organizer.say("시정 적용 범위를 특정 사업소로 좁혀 실증 계획을 구체화해 주십시오.", 2)
        await organizer.say("/selection")
        await organizer.press("3. PD-")
        await organizer.press("피드백")
        await organizer.say("경제성 항목에서 도입 비용 대비 효과의 근거가 선정 기업보다 부족했습니다.", 2)
        await organizer.say("/selection")
        await organizer.press("선정 확정")
        await organizer.press("예, 확정합니다")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} message(s): results are held until selection day")

        clock.set(cycle.selection_at)
        t.heading("Selection day: every result goes out in one batch")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} result message(s) planned and sent")

        clock.advance(dt.timedelta(hours=2))
        t.heading("Until the programme is published, the organizer still changes a company's responsible departments")
        await organizer.say("/selection")
        await organizer.press(f"PD-{month.year}{month.month:02d}-0001")
        await organizer.press("담당 수요처")
        organizer.t.user(organizer.user, "takes 푸른도시여가국 off")
        await organizer.user.press("✅ 푸른도시여가국", 0)
        await organizer.say("시설공단")
        await organizer.press("선택 완료", 2)
        t.heading("A company not selected appeals (이의신청); an organizer who did not review it decides")
        await mirae.say("이의신청")
        await mirae.press("명백한 오인")
        await mirae.say("교량 센서의 성수대교 실증 실적(2025년)이 심사 의견에 없다고 적혀 있습니다.")
        await mirae.press("건너뛰기")
        await mirae.press("이의신청 제출")
        await bot.outbox_settled()
        t.deliveries([organizer], "the organizers are told")
        await organizer.say("/appeals")
        await organizer.press("미래센서")
        await organizer.press("인용·기각 결정")
        await organizer.press("기각")
        await organizer.say("성수대교 실증 실적은 신청서에 있었고 심사에서 검토되었습니다. 보완해 다시 신청하십시오.")
        await organizer.press("결정 확정", 2)
        await bot.outbox_settled()
        t.deliveries([mirae], "the company gets the decision and its reason; all of it is in the audit log")

        clock.advance(dt.timedelta(hours=2))
        t.heading("The organizer sets the Pitching Day programme and publishes it")
        await organizer.say("/programme")
        await organizer.press("장소")
        await organizer.say("서울특별시청 본관 8층 다목적홀")
        await organizer.press("▲ 2")
        await organizer.press("게시하기")
        await bot.outbox_settled()
        t.deliveries(
            everyone + officials, "the outbox sends each company its slot and .ics, each department the line-up"
        )

        clock.advance(dt.timedelta(days=1))
        t.heading("A selected company gives up its place: the first on the waitlist takes its slot")
        await organizer.say("/selection")
        await organizer.press("0003 선정 포기")  # 다온에이아이
        await organizer.say("대표가 해외 출장으로 피칭데이에 참석할 수 없다고 알려 왔습니다.")
        await organizer.press("예, 처리합니다", 2)
        await bot.outbox_settled()
        t.deliveries(
            everyone + officials,
            "both companies are told; the programme is published again: the promoted company gets the slot and "
            "an .ics, the departments the new line-up, the others nothing",
        )

        clock.set(calendar.local_at(cycle.pitch_at.astimezone(tz).date() - dt.timedelta(days=7),
                                    settings.pitch_week_time, tz))  # fmt: skip
        t.heading("A week before Pitching Day: each company's own slot and the venue; the officials who judge them")
        report = await bot.tick()
        t.deliveries(everyone + officials, f"tick: {report.planned} reminder(s)")
        clock.set(calendar.local_at(cycle.pitch_at.astimezone(tz).date() - dt.timedelta(days=1),
                                    settings.pitch_eve_time, tz))  # fmt: skip
        t.heading("The eve of Pitching Day")
        report = await bot.tick()
        t.deliveries(everyone + officials, f"tick: {report.planned} reminder(s)")
        clock.set(calendar.local_at(cycle.pitch_at.astimezone(tz).date(), settings.pitch_morning_time, tz))
        t.heading("The morning of Pitching Day")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} reminder(s)")

        clock.set(cycle.pitch_at + dt.timedelta(hours=4))
        t.heading("After the pitch: the buying departments decide")
        await metro.say("/decisions")
        await metro.press("한빛로보틱스")
        await metro.press("구매")
        await metro.say("시범 도입 5대 (2억 4천만 원)")
        await metro.say("2027년 상반기")
        await metro.press("확정")
        await dasan.say("구매결정")  # 다온에이아이 gave up its place: nothing is left for 120다산콜재단
        await bot.outbox_settled()
        t.deliveries(everyone, "the companies are told at once")

        clock.set(calendar.local_at(cycle.pitch_at.astimezone(tz).date() + dt.timedelta(days=7),
                                    settings.decision_reminder_time, tz))  # fmt: skip
        t.heading("D+7: reminders to departments still deciding")
        report = await bot.tick()
        t.deliveries(
            everyone + officials,
            f"tick: {report.planned} message(s): no reminder, as the official with companies has decided (the "
            "other departments have no official in the bot); and next month's window opens",
        )

        clock.set(cycle.decision_deadline_at + dt.timedelta(hours=9))
        t.heading("The deadline has passed: an escalation to the organizers")
        report = await bot.tick()
        t.deliveries([organizer], f"tick: {report.planned} message(s)")
        clock.set(calendar.local_at(cycle.decision_deadline_at.astimezone(tz).date() + dt.timedelta(days=1),
                                    settings.decision_reminder_time, tz))  # fmt: skip
        t.heading("The morning after the deadline: each company still waiting is told what happens next")
        report = await bot.tick()
        t.deliveries(everyone, f"tick: {report.planned} message(s)")
        await hanbit.say("/status")
        await organizer.say("/decisions")
        await organizer.say("/export")

        clock.advance(dt.timedelta(minutes=30))
        t.heading("The organizer loads the Testbed Expo and broadcasts it")
        citizen = Actor(SimUser(server, 710100, "정시민"), t)
        await citizen.say("/subscribe")
        await big.say("/unsubscribe")
        await organizer.say("/expo_edit", 2)  # with no expo yet, the example file first
        await organizer.upload(EXPO_SAMPLE.read_bytes(), "expo-2019.yaml", "application/x-yaml")
        await organizer.say("/broadcast")
        await organizer.press("소식 구독자 전체")
        await organizer.press("박람회 안내", 2)
        t.note("    … the 2019 expo is over: the bot names its dates and sends it only on an explicit yes")
        await organizer.press("지난 박람회 발송")
        await bot.outbox_settled()
        await asyncio.sleep(1.5)  # the progress message catches up
        organizer.user.cursor = len(organizer.user.events)  # its edits are read below, not taken as replies
        t.note(f"    … the progress message now reads: {to_plain(_progress_text(server, organizer))!r}")
        t.deliveries(
            [citizen, hanbit], "the announcement reaches subscribers, companies and officials (not those who opted out)"
        )
        t.muted = True
        t.deliveries(everyone + officials, "")
        t.muted = False
        await green.say("/expo", 2)
        await organizer.say("/broadcasts")

        clock.advance(dt.timedelta(hours=1))
        t.heading("After the month")
        await big.say("/apply")
        await hanbit.say("/status")
    finally:
        await bot.stop()
        await server.stop()
        await kakao.stop()
    from sqlmodel import select

    from bot.models import Application

    with db.session() as session:
        # Received: not withdrawn while the window was open (a company that gave up its place later counts).
        apps = session.exec(select(Application)).all()
        late = cycle.window_closes_at
        received = len([a for a in apps if a.status != "withdrawn" or (a.withdrawn_at and a.withdrawn_at > late)])
    db.dispose()
    shutil.rmtree(workdir, ignore_errors=True)  # each run made one: /tmp filled with sandbox months
    out("")
    out(f"Applications received for {month}: {received}")
    return received
