"""The model behind achtje, asked for in chat: conditions, boards, content areas and
complexities (`uitleg`, `voorwaarden`, `borden`, `complexiteit`), and slips of the keyboard."""

from __future__ import annotations

from adapters.memory import MemoryChat
from bot.content import Content
from bot.messages import Choice, Text
from tests.conftest import onboard


async def test_conditions_list_their_core_questions_and_open_one(
    chat: MemoryChat, content: Content
) -> None:
    await onboard(chat)
    [listing] = await chat.say("voorwaarden")
    assert isinstance(listing, Choice)
    for condition in content.conditions:
        assert f"{condition.number}. {condition.name.nl}: {condition.core_question.nl}" \
            in listing.prompt
    assert [o.label for o in listing.options] == [c.name.nl for c in content.conditions]
    [one] = await chat.press("Persoonlijke relaties")
    relations = content.condition("relations")
    assert isinstance(one, Text) and one.text.startswith("Voorwaarde 3: Persoonlijke relaties")
    assert relations.description.nl in one.text and relations.core_question.nl in one.text
    assert "typ valkuilen 3" in one.text  # the pitfall of that condition
    [typed] = await chat.say("voorwaarden 2")
    assert isinstance(typed, Text) and typed.text.startswith("Voorwaarde 2: Recht doen")


async def test_a_typed_number_opens_an_item_of_the_listing(chat: MemoryChat) -> None:
    await onboard(chat)
    await chat.say("complexiteit")
    [one] = await chat.say("4")
    assert isinstance(one, Text) and one.text.startswith("Verdeelde loyaliteit")
    assert "Wat helpt:" in one.text


async def test_out_of_range_names_the_range_and_lists_again(chat: MemoryChat) -> None:
    await onboard(chat)
    sorry, listing = await chat.say("voorwaarden 9")
    assert isinstance(sorry, Text) and sorry.text == "Kies een nummer van 1 tot en met 5."
    assert isinstance(listing, Choice) and len(listing.options) == 5


async def test_boards_say_what_each_carries(chat: MemoryChat, content: Content) -> None:
    await onboard(chat)
    [listing] = await chat.say("borden")
    assert isinstance(listing, Choice)
    assert [o.label for o in listing.options] == [d.name.nl for d in content.domains]
    [first] = await chat.say("borden 1")
    assert isinstance(first, Text)
    for area in ("Curriculum", "Leerling", "Docent"):
        assert f"- {area}: " in first.text
    assert content.domain("content").risk.nl in first.text
    [second] = await chat.say("borden 2")
    assert isinstance(second, Text) and "typ voorwaarden" in second.text


async def test_complexities_are_shown_in_english_too(chat: MemoryChat, content: Content
                                                     ) -> None:
    await onboard(chat, language="Engels (English)")
    [listing] = await chat.say("complexity")
    assert isinstance(listing, Choice) and listing.prompt.startswith("Four things")
    assert [o.label for o in listing.options] == [c.name.en for c in content.complexities]
    [one] = await chat.say("complexity 1")
    helps = content.complexities[0].what_helps.en
    assert isinstance(one, Text) and one.text.endswith(f"What helps: {helps}")


async def test_explain_and_what_is_questions_find_the_topic(
    chat: MemoryChat, content: Content
) -> None:
    await onboard(chat)
    [menu] = await chat.say("uitleg")
    assert isinstance(menu, Choice)
    assert [o.label for o in menu.options] == ["De vijf voorwaarden", "De drie borden",
                                               "De vier complexiteiten"]
    [boards] = await chat.press("De drie borden")
    assert isinstance(boards, Choice) and "drie borden" in boards.prompt
    for typed, start in (("uitleg ambitie", "Voorwaarde 1: Gedeelde ambitie"),
                         ("wat is gedeelde ambitie?", "Voorwaarde 1: Gedeelde ambitie"),
                         ("Wat betekent spraakverwarring?", "Spraakverwarring"),
                         ("uitleg leerling", "Leerling (bord 1, Richten op de inhoud)"),
                         ("wat is verankeren", "Bord 3: Verankeren")):
        [answer] = await chat.say(typed)
        assert isinstance(answer, Text) and answer.text.startswith(start), typed
    [unknown] = await chat.say("uitleg kwantumfysica")
    assert isinstance(unknown, Text) and "gedeelde ambitie" in unknown.text


async def test_a_slip_of_a_command_is_offered_back(chat: MemoryChat) -> None:
    await onboard(chat)
    [swapped] = await chat.say("pauez 2")
    assert isinstance(swapped, Choice) and swapped.prompt == "Bedoelde je pauze 2?"
    [asked] = await chat.say("chekin")
    assert isinstance(asked, Choice) and asked.prompt == "Bedoelde je checkin?"
    replies = await chat.press("Ja")
    assert "korte stellingen" in replies[0].text  # type: ignore[attr-defined]
    # In the middle of a check-in a slip is answered by the check-in's own help.
    [far] = await chat.say("bananen")
    assert isinstance(far, Text) and far.text.startswith("Typ een getal van 1")


async def test_a_word_far_from_every_command_is_not_guessed(chat: MemoryChat) -> None:
    await onboard(chat)
    [far] = await chat.say("bananen")
    assert isinstance(far, Text) and far.text.startswith("Dat begrijp ik niet helemaal")


async def test_a_made_up_model_button_is_a_stale_button(chat: MemoryChat) -> None:
    await onboard(chat)
    for value in ("model:complexity:nothing", "model:area:nothing", "model:condition:x",
                  "model:elsewhere"):
        [answer] = await chat.press_value(value)
        assert isinstance(answer, Text) and answer.text.startswith("Deze knop werkt niet meer")
