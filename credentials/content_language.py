"""Staff-entered text (titles, descriptions) in the visitor's language, when staff gave one.

Pure: reads only the active language (`django.utils.translation.get_language()`) and the texts
passed in. Signed documents never go through here: they keep every language as entered.
"""

from collections.abc import Mapping

from django.utils.translation import get_language


def _base(tag: str) -> str:
    """ "fr-BE" → "fr"; language tags compare without case."""
    return tag.split("-")[0].lower()


def in_active_language(texts: Mapping[str, object], *, main: str) -> str:
    """Return the text in the active language, else in the main language, else any non-empty one.

    texts maps language tags to texts ({"en": "…", "fr": "…"}); a tag with a region ("fr-BE")
    serves a visitor reading its base language. Empty and non-string values are skipped.
    """
    usable = {tag: text for tag, text in texts.items() if isinstance(text, str) and text}
    active = get_language() or ""
    for wanted in (active, main):
        if not wanted:
            continue
        for tag, text in usable.items():
            if tag.lower() == wanted.lower():
                return text
        for tag, text in usable.items():
            if _base(tag) == _base(wanted):
                return text
    return next(iter(usable.values()), "")
