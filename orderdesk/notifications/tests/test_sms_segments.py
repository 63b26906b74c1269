import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from orderdesk.notifications.sms.segments import (
    CUT_MARK,
    GSM7,
    GSM7_BASIC,
    GSM7_EXTENSION,
    UCS2,
    count_segments,
    fit_sms,
    sms_size,
)

gsm_basic = st.text(alphabet=sorted(GSM7_BASIC), max_size=700)
gsm_extension = st.text(alphabet=sorted(GSM7_EXTENSION), max_size=400)
gsm_any = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
any_text = st.text(max_size=500)
links = st.from_regex(r"https://shop\.example/t/[A-Za-z0-9_-]{10,40}/", fullmatch=True)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),
        # 81 escape pairs: 152 septets (76 pairs) per part, a pair is never split.
        ("€" * 81, GSM7, 162, 2),
        ("a" * 152 + "€" + "a" * 8, GSM7, 162, 2),
        ("a" * 158 + "[]", GSM7, 162, 2),
        ("á" * 70, UCS2, 70, 1),
        ("á" * 71, UCS2, 71, 2),
        ("á" * 134, UCS2, 134, 2),
        ("á" * 135, UCS2, 135, 3),
        ("😀" * 35, UCS2, 70, 1),
        # 36 surrogate pairs: 33 pairs fit in 67 units, so 3 go on a second part.
        ("😀" * 36, UCS2, 72, 2),
        ("Ñoño à la café £5 §¿¡", GSM7, 21, 1),
    ],
)
def test_sms_size_counts_septets_or_utf16_units_like_a_phone(text, encoding, units, segments):
    assert sms_size(text) == (encoding, units, segments)


def test_one_character_outside_gsm7_turns_the_whole_text_into_ucs2():
    assert count_segments("a" * 100) == 1
    assert count_segments("a" * 100 + "á") == 2
    assert sms_size("a" * 100 + "á").encoding == UCS2


@given(gsm_basic)
def test_plain_gsm7_text_takes_one_segment_up_to_160_then_one_per_153(text):
    expected = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert sms_size(text) == (GSM7, len(text), expected)


@given(gsm_extension)
def test_extension_characters_count_double_and_stay_whole_within_a_part(text):
    expected = 1 if 2 * len(text) <= 160 else math.ceil(len(text) / 76)
    assert sms_size(text) == (GSM7, 2 * len(text), expected)


@given(st.text(alphabet=st.characters(min_codepoint=0x0400, max_codepoint=0x04FF), min_size=1, max_size=400))
def test_text_in_another_script_takes_70_units_then_67_per_part(text):
    expected = 1 if len(text) <= 70 else math.ceil(len(text) / 67)
    assert sms_size(text) == (UCS2, len(text), expected)


@given(any_text, any_text)
def test_adding_text_never_takes_fewer_segments(head, tail):
    assert count_segments(head + tail) >= count_segments(head)
    assert count_segments(head + tail) >= count_segments(tail)


@given(any_text, links, st.integers(min_value=1, max_value=3))
def test_a_fitted_sms_keeps_the_link_whole_and_stays_within_its_segments(text, link, max_segments):
    fitted = fit_sms(text, keep=link, max_segments=max_segments)
    assert fitted.endswith(link)
    assert count_segments(fitted) <= max_segments


@given(any_text, links)
def test_a_fitted_sms_begins_with_the_text_or_a_marked_cut_of_it(text, link):
    fitted = fit_sms(text, keep=link, max_segments=2)
    head = fitted[: -len(link)].rstrip()
    normalized = " ".join(text.split())
    if head.endswith(CUT_MARK):
        assert normalized.startswith(head[: -len(CUT_MARK)])
        assert len(head) - len(CUT_MARK) < len(normalized)
    else:
        assert head == normalized


@given(gsm_any, links)
def test_text_that_fits_is_left_as_it_is(text, link):
    normalized = " ".join(text.split())
    whole = f"{normalized} {link}" if normalized else link
    assume(count_segments(whole) <= 2)
    assert fit_sms(text, keep=link) == whole


@given(st.text(alphabet="abcdefgh ", min_size=400, max_size=800), links)
def test_long_gsm7_text_is_cut_near_the_limit_and_at_a_word_boundary(text, link):
    assume(len(text.split()) > 30)
    fitted = fit_sms(text, keep=link)
    head = fitted[: -len(link) - 1]
    assert head.endswith(CUT_MARK)
    kept = head[: -len(CUT_MARK)]
    normalized = " ".join(text.split())
    # Cut where a word ends, unless that would throw most of the text away.
    assert normalized[len(kept) : len(kept) + 1] in (" ", "") or len(kept) < 0.6 * (306 - len(link))
    assert len(fitted) > 306 * 0.6


def test_a_long_merchant_message_is_cut_and_the_tracking_link_kept():
    link = "https://orderdesk.example/t/Zk3mPq9RtY2vXw8sLn4bJc6dHf1gAe5u/"
    message = "Salamat po! " + "We packed your order with extra care and a free sample. " * 8
    fitted = fit_sms(f"Shop: your order OD-1001 is on its way. {message}", keep=f"Track: {link}")
    assert fitted.endswith(f"... Track: {link}")
    assert count_segments(fitted) == 2
    assert fitted.startswith("Shop: your order OD-1001 is on its way. Salamat po! We packed")


def test_an_emoji_in_the_cut_away_part_does_not_push_the_kept_part_into_ucs2():
    link = "https://orderdesk.example/t/abc/"
    fitted = fit_sms("word " * 80 + "😀", keep=link)
    assert sms_size(fitted).encoding == GSM7
    assert count_segments(fitted) == 2


def test_when_only_the_link_fits_the_link_alone_is_sent():
    link = "https://orderdesk.example/t/" + "x" * 290
    assert fit_sms("Your order is on its way", keep=link) == link
