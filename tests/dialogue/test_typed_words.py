"""On KakaoTalk buttons are typed: a part of a button's words that fits only that button picks it (「중소」,
「저장」, 「제출」, 「철회」), and 「네」 is the 「예, …」 of a confirmation; never on a question that asks for text
or a list that searches what is typed."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import PLAIN
from bot.models import Application, Company, FormDraft
from tests.dialogue.driver import Person, World
from tests.dialogue.walks import fill_application, register_profile

Make = Callable[..., Person]


async def test_a_company_types_parts_of_the_buttons(person: Make, world: World) -> None:
    p = person(PLAIN, "5601")
    await p.send("신청")
    # 「동의합니다」 and 「동의하지 않습니다」 both hold 「동의」, which alone is a yes to a consent (the catalogue's
    # consent words): it was refused with "choose a button", and so was every answer typed after it.
    await p.send("동의")
    assert "기업명 (2/9)" in p.text, p.text
    await p.send("중소")  # the company's name is asked: a text answer, never a part of a button
    assert "사업자등록번호 (3/9)" in p.text
    await p.send("220-81-62517")
    await p.send("김민준")
    assert "기업 규모 (5/9)" in p.text
    await p.send("중소")  # 「중소기업」 alone holds it
    assert "소재지 (6/9)" in p.text
    await p.send("서울 마포구 월드컵북로 400")
    await p.send("최담당")
    await p.send("010-2345-6789")
    await p.send("choi@hanbit.kr")
    assert "기업 정보 확인" in p.text
    await p.send("저장")  # 「💾 저장하기」
    assert "저장했습니다" in p.read(p.last[0])
    [company] = world.all(Company)
    assert (company.name, company.size) == ("중소", "sme")

    await fill_application(p, deck=False)
    await p.send("제출")  # 「✅ 제출하기」
    assert "접수되었습니다" in p.read(p.last[0])
    await p.send("현황")
    await p.send("철회")  # 「🗑 철회 PD-…」
    assert "철회하시겠습니까" in p.text
    await p.send("네")  # 「예, 철회합니다」
    assert "철회했습니다" in p.text
    assert [a.status for a in world.all(Application)] == ["withdrawn"]


async def test_a_word_a_card_does_not_take_leaves_the_person_on_the_card(person: Make, world: World) -> None:
    """A reviewer typing 「4」 on an application's card was thrown to the menu ("not understood"), and the
    「점수 입력」 typed next was not understood either: the card says so and stays."""
    from bot.models import Role
    from bot.services import review
    from tests.dialogue.driver import at

    world.applications(2)
    world.grant("kakao", "rev-1", Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    world.clock.set(at(12))
    p = person(PLAIN, "rev-1")
    await p.send("심사")
    await p.send("1")
    assert "PD-202612-0001" in p.text and "점수 입력" in " ".join(p.labels())
    await p.send("4")
    assert "「4」는 이 화면에서 알아듣지 못했습니다" in p.text and "PD-202612-0001" in p.text, p.text
    await p.send("점수 입력")
    assert "혁신성 (1/5)" in p.text, p.text
    world.clock.set(at(15, 9))  # past the reviewers' deadline, the selection not confirmed yet
    await p.send("취소")
    await p.send("심사")
    assert "심사 마감(2026년 12월 14일(월) 23:59)이 지났습니다" in p.text, p.text  # it said "마감은 …입니다"


async def test_a_search_list_takes_a_part_of_its_own_steps(person: Make, world: World) -> None:
    """On the buying departments question (typed words search the list) 「완료」 was searched for as a
    department's name; a part of the list's own steps (「선택 완료」) picks the step, the rest still searches."""
    from tests.dialogue.walks import SUMMARY, pick_tech_fields, register_profile

    p = person(PLAIN, "5602")
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    await pick_tech_fields(p)
    await p.send("7")
    await p.send(SUMMARY)
    await p.send("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    await p.send("서울교통공사, 푸른도시여가국")
    assert "선택하신 수요처: 서울교통공사, 푸른도시여가국" in p.text
    await p.send("완료")
    assert "(7/8)" in p.text, p.text


async def test_a_pledge_takes_a_yes_typed_in_words(person: Make, world: World) -> None:
    """The pledge's buttons say 「서약합니다」: 「네」 and 「동의합니다」 were refused with "choose a button"."""
    from bot.models import Role
    from bot.services import pledge

    world.grant("kakao", "rev-2", Role.REVIEWER)
    p = person(PLAIN, "rev-2")
    await p.send("심사")
    assert "이해충돌 방지 서약" in p.text
    await p.send("네")
    assert "서약에 동의하셨습니다" in p.text, p.text
    with world.session() as session:
        assert pledge.accepted(session, world.user("kakao", "rev-2"))


async def test_a_choice_question_takes_its_word_before_a_command_of_that_word(person: Make, world: World) -> None:
    """At a broadcast's content question 「박람회」 (the word of 「🎪 박람회 안내」) opened the public expo answer
    and dropped the broadcast's form; the question's own choice wins, while 「취소」 still leaves it."""
    from bot.models import Role
    from bot.services import expo
    from tests.dialogue.test_channels import EXPO_SAMPLE

    with world.session() as session:
        expo.load(session, EXPO_SAMPLE, world.clock.now())
    world.applications(1)  # someone to send it to
    world.grant("kakao", "org-9", Role.ORGANIZER)
    p = person(PLAIN, "org-9")
    await p.send("공지")
    await p.send("등록 기업 전체")
    assert "내용 (2/3)" in p.text
    await p.send("박람회")
    assert "박람회 안내" in p.text and "지난 박람회 발송" in " ".join(p.labels()), p.text
    await p.send("이전")
    assert "내용 (2/2)" in p.text and "현재 답변: 🎪 박람회 안내" in p.text, p.text
    await p.send("취소")
    assert "내용 (2/" not in p.text
    await p.send("박람회")  # at rest it is the command again
    assert "일시: 2019년 9월 26일(목)" in p.text, p.text


async def test_a_company_asking_for_its_result_gets_its_status(person: Make, world: World) -> None:
    """「선정 결과」 was read as the organizers' 「선정」 and answered "you do not have permission"."""
    p = person(PLAIN, "5603")
    for words in ("선정 결과", "선정결과", "결과", "selection result"):
        await p.send(words)
        assert "등록된 기업 정보가 없습니다" in p.text and "권한이 없어" not in p.text, words  # the status answer
    await p.send("선정")  # the organizers' word alone is still theirs
    assert "권한이 없어" in p.text


async def test_a_form_left_by_start_is_named_with_the_way_back(person: Make, world: World) -> None:
    """「시작」 in the middle of the application, then the answer typed: it was met with "not understood" and no
    word of the application left midway."""
    from tests.dialogue.walks import register_profile

    p = person(PLAIN, "5604")
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    await p.send("시작")
    assert "작성 중인 2026년 12월 피칭데이 신청서가 있습니다. 입력하신 답변은 저장되어 있으니 「신청」으로" in p.text
    await p.send("로봇")  # the answer to the question left
    assert "이해하지 못했습니다" in p.text and "작성 중인 2026년 12월 피칭데이 신청서가 있습니다" in p.text, p.text
    await p.send("시작")
    assert "선택해 주십시오.\n\n작성 중인 2026년 12월 피칭데이 신청서가 있습니다" in p.text, p.text
    await p.send("신청")
    assert "기술 분야 (2/8)" in p.text, p.text


async def test_a_word_typed_alone_is_no_invitation_code(person: Make, world: World) -> None:
    """Invitation codes are short now (「ACD-EFG-HJK」); pasted alone they need their dashes, so a word of nine
    such letters is not taken for one (and counted as a wrong guess)."""
    p = person(PLAIN, "5605")
    await p.send("carpenter")
    assert "이해하지 못했습니다" in p.text and "초대" not in p.text, p.text


async def test_a_command_word_never_says_yes_to_a_confirmation(world: World, person: Make) -> None:
    """「선정」 typed at 「예, 선정에 추가합니다」 (an appeal's promotion) promoted the company: a word of a choice
    is taken before a command's only on a form's question, never on a confirmation."""
    from bot.models import Appeal, Role
    from tests.dialogue.driver import at
    from tests.handlers.waitlist import seed_accepted_appeal, seed_released

    _, [_, d, _] = seed_released(world, ["서울교통공사"], 3, channel="kakao")
    appeal_id = seed_accepted_appeal(world, d)
    world.grant("kakao", "org-1", Role.ORGANIZER)
    world.clock.set(at(18))
    organizer = person(PLAIN, "org-1")
    await organizer.send("이의신청 처리")
    await organizer.press("1. 기업8003")
    await organizer.press("🏅 선정에 추가")
    await organizer.send("선정")  # the organizer's command for the board
    assert "선정 안내를 발송했습니다" not in organizer.text and "2026년 12월 선정 심의" in organizer.text
    with world.session() as session:
        appeal = session.get(Appeal, appeal_id)
        assert appeal is not None and appeal.promoted_at is None


async def test_a_registered_company_looking_at_its_profile_is_not_told_it_is_unfinished(
    person: Make, world: World
) -> None:
    """Opening 「기업 정보」 to look makes a draft: every 「시작」 after said "unfinished company information,
    「신청」 to go on" (and 「신청」 opened the application)."""
    from tests.dialogue.walks import register_profile

    p = person(PLAIN, "5606")
    await register_profile(p)
    await p.send("취소")
    await p.send("기업 정보")
    await p.send("시작")
    assert "작성 중인" not in p.text, p.text
    fresh = person(PLAIN, "5607")
    await fresh.send("기업 정보")
    await fresh.send("동의합니다")
    await fresh.send("한빛로보틱스")
    await fresh.send("시작")
    assert "작성 중인 기업 정보가 있습니다. 입력하신 답변은 저장되어 있으니 「기업 정보」로 이어서" in fresh.text, (
        fresh.text
    )


async def test_language_typed_at_a_text_question_switches_and_keeps_the_answers(person: Make, world: World) -> None:
    """「language」 typed while the representative's name was asked became the name (「Contact person: language」),
    and 「English」 after it was refused as a phone number."""
    p = person(PLAIN, "5602")
    await p.send("신청")
    await p.send("동의합니다")
    await p.send("한빛로보틱스")
    await p.send("220-81-62517")
    assert "대표자" in p.text
    await p.send("language")
    assert "Please choose your language" in p.text and "대표자 (4/9)" not in p.text
    await p.send("English")
    await p.send("apply")
    assert "Representative (4/9)" in p.text, p.text
    await p.send("김민준")
    assert "Company size (5/9)" in p.text
    await p.send("언어")  # the Korean word too
    await p.send("한국어")
    await p.send("신청")
    assert "기업 규모 (5/9)" in p.text


async def test_command_words_written_as_a_sentence(person: Make, world: World) -> None:
    """「신청할게요」, 「도움말좀」 were "not understood"; at a question for text, 「취소할래요」 and 「처음으로」 were
    saved as the company's name and the form went on."""
    p = person(PLAIN, "5603")
    await p.send("신청할게요")
    assert "개인정보" in p.text and "동의" in p.text
    await p.send("동의합니다")
    assert "기업명 (2/9)" in p.text
    await p.send("취소할래요")
    assert "기업명" not in p.text.split("\n")[0] and "사업자등록번호 (3/9)" not in p.text
    await p.send("신청하고 싶어요")
    assert "기업명 (2/9)" in p.text  # the answers so far kept: consent given
    await p.send("처음으로")
    assert "사업자등록번호 (3/9)" not in p.text
    await p.send("도움말좀")
    assert "도움말" in p.text or "사용 방법" in p.text
    await p.send("접수 현황 알려주세요")
    assert "이해하지 못했습니다" not in p.text
    assert [c.name for c in world.all(Company)] == []


async def test_a_place_in_a_list_written_as_people_write_it(person: Make, world: World) -> None:
    """「1번」, 「2 번」, 「첫번째」 were "choose a button", and on a list 「1번」 was "not understood … type the
    list's number"."""
    p = person(PLAIN, "5604")
    await p.send("신청")
    await p.send("1번")  # 「동의합니다」, the first
    assert "기업명 (2/9)" in p.text
    await p.send("한빛로보틱스")
    await p.send("220-81-62517")
    await p.send("김민준")
    await p.send("첫번째")  # 「중소기업」
    assert "소재지 (6/9)" in p.text
    [company_draft] = [d for d in world.all(FormDraft) if d.form == "profile"]
    assert company_draft.data["size"] == "sme"


async def test_technology_fields_typed_one_by_one_are_all_kept(person: Make, world: World) -> None:
    """「인공지능」 typed alone answered the question at once, and the 「로봇」 typed next was refused as a
    readiness level."""
    p = person(PLAIN, "5605")
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    assert "기술 분야 (2/8)" in p.text
    await p.send("인공지능")
    assert "기술 분야 (2/8)" in p.text
    await p.send("로봇")
    assert "기술 분야 (2/8)" in p.text
    await p.send("선택 완료")
    assert "기술성숙도(TRL) (3/8)" in p.text
    [draft] = [d for d in world.all(FormDraft) if d.form == "application"]
    assert sorted(draft.data["tech_fields"]) == ["ai", "robot"]
