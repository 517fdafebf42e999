"""Text extraction from what Slack sends: mrkdwn `text` and rich_text blocks.

Pure functions; the inputs are shaped like real Slack payloads. Nothing is faked.
"""

from __future__ import annotations

from typing import Any

import pytest

from jeeves.dispatcher.domain.text import decode_mrkdwn, extract_text, names_in, unescape

pytestmark = pytest.mark.unit
BOT = "UBOT1"


def section(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": "rich_text",
            "block_id": "b1",
            "elements": [{"type": "rich_text_section", "elements": list(elements)}],
        }
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@UBOT1> help", "help"),
        ("<@UBOT1|jeeves> help", "help"),
        ("  <@UBOT1>   weather in Berlin ", "weather in Berlin"),
        ("<@UBOT1>weather in Berlin", "weather in Berlin"),
        ("<@UBOT1> remember <@U222> is my boss", "remember @U222 is my boss"),
        ("<@UBOT1> remember <@U222|bob> is my boss", "remember @bob is my boss"),
        ("<@U222> <@UBOT1> help", "@U222 @UBOT1 help"),
        ("<@UBOT1> Berlin", "Berlin"),
        ("<@UBOT1> nineteen", "nineteen"),
        ("<@UBOT1> say <https://example.com|the site>", "say the site"),
        ("<@UBOT1> say <https://example.com/a?b=1&amp;c=2>", "say https://example.com/a?b=1&c=2"),
        ("<@UBOT1> mail <mailto:a@b.org|a@b.org>", "mail a@b.org"),
        ("<@UBOT1> mail <mailto:a@b.org>", "mail a@b.org"),
        ("<@UBOT1> post in <#C123|general>", "post in #general"),
        ("<@UBOT1> post in <#C123>", "post in #C123"),
        ("<@UBOT1> ping <!here>", "ping @here"),
        ("<@UBOT1> ping <!subteam^S1|@devs>", "ping @devs"),
        ("<@UBOT1> ping <!subteam^S1>", "ping @S1"),
        ("<@UBOT1> 1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 < 2 && 3 > 2"),
        ("<@UBOT1> a &amp;lt; b", "a &lt; b"),
        ("<@UBOT1>\u00a0weather\u00a0in\u00a0Lisbon", "weather in Lisbon"),
        ("<@UBOT1> weather\n\tin   Porto", "weather in Porto"),
        ("<@UBOT1>", ""),
        ("help", "help"),
    ],
)
def test_plain_text_is_decoded(raw: str, expected: str) -> None:
    assert extract_text(raw, None, BOT) == expected


def test_entities_decode_once_and_in_order() -> None:
    assert unescape("&amp;gt;") == "&gt;"
    assert unescape("&quot;") == "&quot;"


def test_names_come_from_labels() -> None:
    assert names_in("<#C1|general> <@U2|bob> <https://x|y>") == {"C1": "general", "U2": "bob"}


def test_unlabelled_links_keep_the_url() -> None:
    assert decode_mrkdwn("see <http://x.org/p>") == "see http://x.org/p"


def test_blocks_are_preferred_and_the_bot_mention_dropped() -> None:
    blocks = section(
        {"type": "user", "user_id": BOT},
        {"type": "text", "text": " weather in "},
        {"type": "text", "text": "Berlin", "style": {"bold": True}},
    )
    assert extract_text("<@UBOT1> weather in *Berlin*", blocks, BOT) == "weather in Berlin"


def test_blocks_render_links_channels_users_emoji_and_broadcasts() -> None:
    blocks = section(
        {"type": "user", "user_id": BOT},
        {"type": "text", "text": " tell "},
        {"type": "user", "user_id": "U9"},
        {"type": "text", "text": " about "},
        {"type": "link", "url": "https://x.org", "text": "this"},
        {"type": "text", "text": " and "},
        {"type": "link", "url": "https://y.org"},
        {"type": "text", "text": " in "},
        {"type": "channel", "channel_id": "C1"},
        {"type": "text", "text": " "},
        {"type": "emoji", "name": "tada"},
        {"type": "text", "text": " "},
        {"type": "broadcast", "range": "here"},
    )
    text = "<@UBOT1> tell <@U9> about <https://x.org|this> and <https://y.org> in <#C1|general>"
    assert (
        extract_text(text, blocks, BOT)
        == "tell @U9 about this and https://y.org in #general :tada: @here"
    )


def test_blocks_keep_text_that_looks_like_markup() -> None:
    blocks = section({"type": "user", "user_id": BOT}, {"type": "text", "text": " 1 < 2 & 3 > 2"})
    assert extract_text("ignored", blocks, BOT) == "1 < 2 & 3 > 2"


def test_blocks_with_a_mention_of_someone_else_first_keep_it() -> None:
    blocks = section({"type": "user", "user_id": "U9"}, {"type": "text", "text": " hi"})
    assert extract_text("", blocks, BOT) == "@U9 hi"


def test_blocks_lists_and_quotes_are_flattened() -> None:
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "user", "user_id": BOT}]},
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]},
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "b"}]},
                    ],
                },
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "x=1"}]},
            ],
        }
    ]
    assert extract_text("", blocks, BOT) == "a b x=1"


def test_non_rich_text_blocks_fall_back_to_text() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    assert extract_text("<@UBOT1> weather in Oslo", blocks, BOT) == "weather in Oslo"


def test_malformed_blocks_do_not_crash() -> None:
    assert extract_text("<@UBOT1> hi", "not a list", BOT) == "hi"
    assert extract_text("<@UBOT1> hi", [{"type": "rich_text", "elements": [7, None]}], BOT) == ""
