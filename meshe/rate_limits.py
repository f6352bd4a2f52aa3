"""Abuse limits: fixed-window counters in Django's cache, and the 429 answers that go with them.

A limit is "COUNT/PERIOD" (settings.MESHE_RATE_LIMITS, by scope): at most COUNT hits per key
in each window of PERIOD seconds. Windows are aligned to the clock, so every process that
shares the cache (Redis in production, the file cache in development) counts into the same
bucket; a refused hit says how many seconds are left in its window as Retry-After.

Keys are hashed before they reach the cache, so tokens and addresses are not stored as such.
"""

import hashlib
import ipaddress
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Final

from django.conf import settings
from django.core.cache import cache
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import ngettext

View = Callable[..., HttpResponseBase]
KeyFunction = Callable[[HttpRequest], str | None]
Responder = Callable[[HttpRequest, int], HttpResponseBase]

_RATE: Final = re.compile(r"(?P<count>[1-9][0-9]*)/(?P<number>[1-9][0-9]*)?(?P<unit>[smhd])")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
IPV6_PREFIX: Final = 64


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window ends; 0 when allowed


def parse_rate(text: str) -> Rate:
    """'30/m', '5/300s' or '1000/d'; raises ValueError for anything else."""
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a rate such as 30/m or 5/300s")
    number = int(match["number"] or 1)
    return Rate(count=int(match["count"]), seconds=number * _UNIT_SECONDS[match["unit"]])


def rate_for(scope: str) -> Rate | None:
    """The configured rate of a scope; None when the scope is switched off ("" or "off")."""
    try:
        text = settings.MESHE_RATE_LIMITS[scope]
    except KeyError:
        raise ImproperlyConfigured(f"MESHE_RATE_LIMITS has no limit named {scope!r}.") from None
    if text in ("", "off"):
        return None
    return parse_rate(text)


def hit(scope: str, key: str) -> Decision:
    """Counts one hit of `key` against the scope's limit and says whether it is allowed.

    add-then-incr is atomic on Redis; on the file cache two processes may race for a count,
    which only matters on a development machine.
    """
    rate = rate_for(scope)
    if rate is None:
        return Decision(allowed=True, retry_after=0)
    now = time.time()
    window = int(now // rate.seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"meshe:rl:{scope}:{rate.count}/{rate.seconds}:{window}:{digest}"
    # Kept one second past the window's end, so a slow clock elsewhere still sees it.
    timeout = math.ceil((window + 1) * rate.seconds - now) + 1
    # A window's first hit is one round trip to the cache; later ones are an increment.
    if cache.add(cache_key, 1, timeout=timeout):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # evicted between add and incr: this hit starts the count again
            cache.set(cache_key, 1, timeout=timeout)
            count = 1
    if count <= rate.count:
        return Decision(allowed=True, retry_after=0)
    return Decision(allowed=False, retry_after=max(1, math.ceil((window + 1) * rate.seconds - now)))


# Keys ------------------------------------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with MESHE_TRUSTED_PROXY_COUNT proxies in front,
    the address the outermost trusted proxy saw. X-Forwarded-For is never trusted otherwise:
    anyone can send it."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.MESHE_TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For", "")
    if proxies > 0 and forwarded:
        # Each trusted proxy appends what it saw; the rightmost `proxies` entries are theirs.
        hops = [hop.strip() for hop in forwarded.split(",")]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)


def client_ip(request: HttpRequest) -> str:
    """The budget of an address (client_address): IPv6 clients count by their /64, which one
    client usually holds whole and could otherwise rotate through."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return address


def user_or_ip(request: HttpRequest) -> str:
    """The signed-in user, so people behind one address do not share a budget; else the IP."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


# Answers ---------------------------------------------------------------------------------------


def too_many_requests_page(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The HTML answer for people: 429 with Retry-After and a page saying when to try again."""
    minutes = max(1, math.ceil(retry_after / 60))
    response = render(request, "429.html", {"retry_minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def retry_message(retry_after: int) -> str:
    """The sentence of a JSON refusal: what happened and when to try again."""
    return ngettext(
        "Too many requests. Try again in %(seconds)d second.",
        "Too many requests. Try again in %(seconds)d seconds.",
        retry_after,
    ) % {"seconds": retry_after}


def too_many_requests_json(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The JSON answer for the APIs, in their {"error": {"code", "message"}} shape."""
    response = JsonResponse(
        {"error": {"code": "rate_limited", "message": retry_message(retry_after)}}, status=429
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def limited(
    scope: str,
    *,
    key: KeyFunction = client_ip,
    respond: Responder = too_many_requests_page,
    methods: frozenset[str] | None = None,
) -> Callable[[View], View]:
    """Refuses a view's requests over the scope's limit with `respond` (429 + Retry-After).

    `methods` limits only those methods (e.g. POST), `key` names whose budget a request
    spends; a key of None lets the request through uncounted.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if methods is None or request.method in methods:
                budget = key(request)
                if budget is not None:
                    decision = hit(scope, budget)
                    if not decision.allowed:
                        return respond(request, decision.retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# allauth's own limits (ACCOUNT_RATE_LIMITS) ------------------------------------------------------

# Which of allauth's actions a page's POST spends, to say how long its refusal lasts.
_ALLAUTH_ACTIONS: Final = {
    "account_login": ("login", "login_failed"),
    "account_signup": ("signup",),
    "account_reset_password": ("reset_password",),
    "account_reset_password_from_key": ("reset_password_from_key",),
    "account_change_password": ("change_password",),
    "account_email": ("manage_email",),
    "account_reauthenticate": ("reauthenticate",),
}


def allauth_retry_after(request: HttpRequest) -> int:
    """The longest period among the limits of what the page does: allauth counts in sliding
    windows of hits it accepted, so after that long every counted hit has expired."""
    try:
        actions = _ALLAUTH_ACTIONS.get(resolve(request.path_info).url_name or "")
    except Resolver404:
        actions = None
    limits = settings.ACCOUNT_RATE_LIMITS
    chosen = [limits.get(action) for action in actions] if actions else list(limits.values())
    seconds = [60]
    for text in filter(None, chosen):
        for part in str(text).split(","):
            amount_period = part.strip().rsplit("/", 1)[0]  # drop allauth's "/ip", "/key" …
            try:
                seconds.append(parse_rate(amount_period).seconds)
            except ValueError:
                continue
    return max(seconds)


def allauth_too_many_requests(request: HttpRequest) -> HttpResponse:
    """allauth's 429 (meshe.urls.handler429): our page, with a Retry-After allauth leaves out."""
    return too_many_requests_page(request, allauth_retry_after(request))


@register(Tags.security)
def check_rate_limits(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Every configured limit must parse, so a typo stops `check` rather than a request."""
    errors: list[CheckMessage] = []
    for scope, text in settings.MESHE_RATE_LIMITS.items():
        if text in ("", "off"):
            continue
        try:
            parse_rate(text)
        except ValueError as exc:
            errors.append(Error(f"MESHE_RATE_LIMITS[{scope!r}]: {exc}.", id="meshe.E001"))
    return errors
