"""Joining by phone: the number to call and the code to type, from the two web services Jitsi's
own dial-in uses (config.js `dialInNumbersUrl` and `dialInConfCodeUrl`).

Both are asked `GET <url>?conference=<room>@<muc>`, as jitsi-meet's invite/_utils.ts does:
- the conference mapper answers {"message": …, "id": 1234567, "conference": "<room>@<muc>"};
- the numbers list answers [{"countryCode": "fr", "tollFree": false, "formattedNumber": "+33 …"}, …]
  or, in the older form jitsi-meet still reads, {"numbers": {"FR": ["+33 …"]}, "numbersEnabled": true}.
"""

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DialIn:
    """What someone without internet needs: a number to call, then a code to type and #."""

    number: str
    code: str


def dial_in(numbers_url: str, code_url: str, room: str, muc: str, *, country: str = "FR",
            timeout: float = 5) -> DialIn | None:
    """The number (for `country`, free ones first) and the room's code, or None when either
    service fails or has nothing: a page or message then simply says nothing about phones."""
    conference = quote(f"{room}@{muc}", safe="@")
    try:
        mapping = _get_json(_with_conference(code_url, conference), timeout)
        numbers = _get_json(_with_conference(numbers_url, conference), timeout)
    except (OSError, ValueError) as error:  # URLError, timeouts, HTTP errors, bad JSON
        log.warning("dial-in services did not answer: %s", error)
        return None
    code = mapping.get("id") if isinstance(mapping, dict) else None
    number = _number_for(numbers, country)
    if code in (None, "") or not str(code).isdigit() or number is None:
        return None
    return DialIn(number=number, code=str(code))


def _with_conference(url: str, conference: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}conference={conference}"


def _get_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _number_for(numbers: Any, country: str) -> str | None:
    wanted = country.lower()
    if isinstance(numbers, list):
        ours = [entry for entry in numbers if isinstance(entry, dict)
                and str(entry.get("countryCode", "")).lower() == wanted and entry.get("formattedNumber")]
        ours.sort(key=lambda entry: not entry.get("tollFree"))  # a free number first
        return str(ours[0]["formattedNumber"]) if ours else None
    if isinstance(numbers, dict) and numbers.get("numbersEnabled", True):
        by_country = numbers.get("numbers") or {}
        for key, listed in by_country.items() if isinstance(by_country, dict) else ():
            if str(key).lower() == wanted and listed:
                return str(listed[0])
    return None
