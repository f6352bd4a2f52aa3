"""The pure feed module: cursors, ETags, and the strict reading of a received page."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exchange import catalogue_feed
from exchange.catalogue_feed import FeedError

MOMENT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def item(**changes) -> dict:
    base = catalogue_feed.feed_item(
        id="https://b.example/catalogue/1/",
        modified=MOMENT,
        status="published",
        achievement={"id": "https://b.example/spec/1/v/1", "type": ["Achievement"]},
        title="Data Literacy",
        language="en",
        ects=Decimal("2.5"),
        eqf_level=6,
        isced_field="0613",
        participation="e92d221e4d",
    )
    base.update(changes)
    return base


def page(*items, next_url=None, watermark="2026-03-01T12:30:15.123456Z") -> bytes:
    return catalogue_feed.page_body(items=list(items), next_url=next_url, watermark=watermark)


def test_a_time_and_a_cursor_survive_the_round_trip_to_the_microsecond():
    assert catalogue_feed.parse_time(catalogue_feed.format_time(MOMENT)) == MOMENT
    cursor = catalogue_feed.encode_cursor(modified=MOMENT, pk=42)
    assert catalogue_feed.decode_cursor(cursor) == (MOMENT, 42)


@pytest.mark.parametrize("value", ["yesterday", "2026-03-01", "2026-03-01T12:00:00", 5, None])
def test_anything_but_rfc_3339_with_an_offset_is_refused(value):
    with pytest.raises(FeedError):
        catalogue_feed.parse_time(value)


@pytest.mark.parametrize("cursor", ["!!", "bm90LWEtY3Vyc29y", "x" * 200])
def test_a_cursor_we_did_not_make_is_refused(cursor):
    with pytest.raises(FeedError):
        catalogue_feed.decode_cursor(cursor)


def test_the_etag_is_strong_and_follows_every_byte():
    body = page(item())
    assert catalogue_feed.etag(body).startswith('"')
    assert catalogue_feed.etag(body) != catalogue_feed.etag(body.replace(b"Data", b"Date"))
    assert catalogue_feed.etag_matches(
        f'"x", {catalogue_feed.etag(body)}', catalogue_feed.etag(body)
    )
    assert not catalogue_feed.etag_matches(None, catalogue_feed.etag(body))


def test_a_valid_page_is_read_with_the_item_verbatim():
    received = catalogue_feed.parse_page(
        page(item(), item(id="https://b.example/2", status="withdrawn"))
    )
    first, second = received.items
    assert first.document == json.loads(page(item()))["items"][0]
    assert (first.title, str(first.ects), first.eqf_level, first.withdrawn) == (
        "Data Literacy",
        "2.5",
        6,
        False,
    )
    assert second.withdrawn is True


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "javascript:alert(1)"},
        {"id": "https://b.example/" + "x" * 600},
        {"status": "deleted"},
        {"modified": "2026-03-01"},
        {"achievement": "nope"},
        {"summary": {"title": ""}},
        {"summary": {"title": "x", "ects": "5"}},
        {"summary": {"title": "x", "ects": True}},
        {"summary": {"title": "x", "eqfLevel": 9}},
        {"summary": {"title": "x", "iscedField": "computing"}},
        {"summary": {"title": "x", "stacksInto": ["ftp://x"]}},
        {"achievement": {"padding": "x" * 200_000}},
    ],
    ids=[
        "id-scheme",
        "id-length",
        "status",
        "modified",
        "achievement",
        "empty-title",
        "ects-string",
        "ects-bool",
        "eqf-range",
        "isced",
        "stacks-into",
        "item-size",
    ],
)
def test_one_bad_item_makes_the_whole_page_malformed(bad):
    with pytest.raises(FeedError):
        catalogue_feed.parse_page(page(item(), item(**{"id": "https://b.example/2", **bad})))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"items": [], "next": null}',
        b'{"items": {}, "next": null, "watermark": null}',
        b'{"items": [], "next": "file:///etc/passwd", "watermark": null}',
        page(item(), item()),
        page(item(), watermark=None),
        json.dumps({"items": [item()] * 501, "next": None, "watermark": None}).encode(),
    ],
    ids=["json", "shape", "keys", "items", "next", "duplicate-id", "no-watermark", "too-many"],
)
def test_a_page_not_shaped_as_the_protocol_says_is_malformed(body):
    with pytest.raises(FeedError):
        catalogue_feed.parse_page(body)
