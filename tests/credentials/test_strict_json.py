"""The one strict JSON reader every door uses: what it refuses, and that it never crashes."""

import pytest

from credentials.standards import strict_json
from credentials.standards.strict_json import JsonRefused, Problem


def refusal(data, **caps) -> JsonRefused:
    with pytest.raises(JsonRefused) as caught:
        strict_json.loads(data, **caps)
    return caught.value


def test_a_plain_object_is_read_as_json_reads_it():
    assert strict_json.load_object(b'{"a": [1, 2.5, true, null, "x"]}') == {
        "a": [1, 2.5, True, None, "x"]
    }


def test_a_leading_byte_order_mark_is_ignored():
    assert strict_json.load_object("\ufeff{}".encode()) == {}


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_nesting_past_the_cap_is_refused_as_too_deep_without_recursion_error(depth):
    refused = refusal("[" * depth + "]" * depth)
    assert refused.problem is Problem.TOO_DEEP
    assert str(refused) == "it is nested more than 64 levels deep"


def test_nesting_up_to_the_cap_and_brackets_inside_strings_are_fine():
    assert strict_json.loads("[" * 64 + '"[[[[{{{{"' + "]" * 64)
    assert refusal('{"a":' * 11 + "1" + "}" * 11, max_depth=10).problem is Problem.TOO_DEEP


def test_a_repeated_key_is_refused_and_named():
    refused = refusal('{"a": 1, "a": 2}')
    assert refused.problem is Problem.INVALID
    assert str(refused) == "the key 'a' appears twice in one object"


def test_a_long_repeated_key_is_cut_short_in_the_message():
    key = "k" * 10_000
    assert len(str(refusal(f'{{"{key}": 1, "{key}": 2}}'))) < 120


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(constant):
    refused = refusal(f'{{"a": {constant}}}')
    assert refused.problem is Problem.INVALID
    assert str(refused) == f"{constant} is not a JSON value"


@pytest.mark.parametrize("number", ["1e999", "-1e400"])
def test_a_number_that_overflows_to_infinity_is_refused(number):
    assert "is too large" in str(refusal(f"[{number}]"))


@pytest.mark.parametrize("number", ["1" * 5_000, "1" * 401, "0." + "1" * 500])
def test_a_huge_number_is_refused_without_naming_interpreter_settings(number):
    refused = refusal(f"[{number}]")
    assert refused.problem is Problem.INVALID
    assert str(refused) == "a number is longer than 400 characters"


def test_numbers_up_to_the_cap_are_read():
    assert strict_json.loads("[" + "9" * 400 + "]") == [int("9" * 400)]


@pytest.mark.parametrize(
    "data", [b" " * 101, "x" * 101, "é" * 51], ids=["bytes", "characters", "utf-8"]
)
def test_input_over_the_size_cap_is_refused_as_too_large(data):
    refused = refusal(data, max_bytes=100)
    assert refused.problem is Problem.TOO_LARGE
    assert str(refused) == "it is larger than 100 bytes"


@pytest.mark.parametrize(
    ("data", "detail"),
    [(b"\xff\xfe{}", "it is not UTF-8 text"), ("{\ud800}", "it is not Unicode text")],
)
def test_input_that_is_not_text_is_refused(data, detail):
    refused = refusal(data)
    assert refused.problem is Problem.NOT_TEXT
    assert str(refused) == detail


@pytest.mark.parametrize("data", ["{", "", "[1,]", '{"a" 1}', "1 2"])
def test_malformed_json_is_refused_as_invalid(data):
    assert refusal(data).problem is Problem.INVALID


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "null", "3"])
def test_load_object_refuses_json_that_is_not_an_object(data):
    with pytest.raises(JsonRefused) as caught:
        strict_json.load_object(data)
    assert caught.value.problem is Problem.NOT_OBJECT


def test_every_refusal_is_a_value_error_so_older_handlers_still_catch_it():
    assert issubclass(JsonRefused, ValueError)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ('[["]]]"]]', 2),  # brackets inside a string do not count
        ('["\\"]]"]', 1),  # nor after an escaped quote
        ('[["unterminated', 2),
        ('["ends in a backslash\\', 1),
    ],
)
def test_nesting_is_counted_outside_strings_even_unterminated_ones(text, depth):
    assert strict_json.nesting_depth(text) == depth


def test_an_unterminated_string_of_escaped_quotes_is_scanned_once():
    # Each `\"` here could start a string that never ends: a scan that retried from every one
    # would take minutes for this input, where one pass takes milliseconds.
    text = '["' + '\\"' * 100_000
    assert strict_json.nesting_depth(text) == 1
    assert refusal(text).problem == Problem.INVALID


def test_more_arrays_and_objects_than_the_cap_are_refused_before_parsing():
    text = "[" + ",".join(["{}"] * 1_001) + "]"  # 1,002 containers
    with pytest.raises(JsonRefused) as refused:
        strict_json.loads(text, max_containers=1_001)
    assert refused.value.problem == Problem.TOO_LARGE
    assert str(refused.value) == "it holds more than 1,001 arrays and objects"
    assert len(strict_json.loads(text, max_containers=1_002)) == 1_001


def test_brackets_inside_strings_are_not_containers():
    assert strict_json.loads('["[{}]", "{[]}"]', max_containers=1) == ["[{}]", "{[]}"]
