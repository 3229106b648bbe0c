"""Hooks of the contract test, loaded by tests/contract/run.sh (SCHEMATHESIS_HOOKS).

The document states every rule a JSON Schema can state (src/openapi/constraints.rs). The rules
it cannot state are of two sorts, handled here, each listed with its reason:

1. Rules a generated request can be made to keep (`before_call`): such requests are changed,
   before they are sent, into what a client following the document's descriptions sends.
   Only requests generated as valid are changed, except the Idempotency-Key (below).

2. Rules that depend on the server's state or on other objects (an id that names nothing, a
   credit code already registered, a code not in the catalog, a date before the park's first
   day): a refusal of a valid request is excused (`filter_failure`) only for the operations
   listed in EXCUSED, only as a 422 problem whose every error is one listed for that operation.
   Any other refusal, and every other check, still fails the run.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import re
import sys

import schemathesis

# The requests sent, counted for the report (a stateful test case sends several).
_SENT = itertools.count(1)
_COUNT = {"sent": 0}


@schemathesis.hook
def after_call(context, case, response):
    _COUNT["sent"] = next(_SENT)


@atexit.register
def _report():
    print(f"Requests sent: {_COUNT['sent']}", flush=True)


# ---------------------------------------------------------------------------------------------
# 1. Requests made to keep a rule.
# ---------------------------------------------------------------------------------------------

# An Idempotency-Key names one request: the server refuses a key reused for another request
# (422, documented). Generation draws few distinct keys, so every request gets a new one, as a
# client makes a new key for each new request. A key outside the documented shape is left as it
# is (it tests the shape).
_KEYS = itertools.count(1)
_KEY_SHAPE = re.compile(r"^[!-~]{1,255}$")

# The ledgers: `month`, or `from` with `to`, not both (a rule across parameters).
_LEDGER = re.compile(r"^/api/v1/(parks|enterprises|warehouses)/\{id\}/ledger(/lines|/export\.csv|/export\.xlsx)?$")

# A weighing (in, corrected, at collection): `net_grams`, when given, is `gross_grams -
# tare_grams` (a rule across fields).
_WEIGH_IN = {
    ("POST", "/api/v1/lots"),
    ("POST", "/api/v1/lots/{id}/corrections"),
    ("POST", "/api/v1/pickup-requests/{id}/collect"),
}


# Photo uploads: the body is an image whose bytes begin as the type its Content-Type names (the
# server reads the signature, which no schema of a binary string can state).
_PHOTOS = re.compile(r"^/api/v1/(findings|feedback)/\{id\}/photos$")
_SIGNATURES = {
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
}


def _whole(n) -> bool:
    """A JSON integer, which may come as 5 or as 5.0."""
    if isinstance(n, bool):
        return False
    return isinstance(n, int) or (isinstance(n, float) and n.is_integer())


def _positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key":
                key = headers[name]
                if isinstance(key, str) and _KEY_SHAPE.match(key):
                    headers[name] = f"{key[:200]}.{next(_KEYS)}"
    if not _positive(case):
        return
    path = case.operation.path
    method = case.method.upper()
    query = case.query
    if query:
        # A cursor is opaque: only the `next_cursor` of a page the server gave is one. A
        # client that has none asks for the first page, leaving it out.
        query.pop("cursor", None)
        if method == "GET" and _LEDGER.match(path) and "month" in query:
            query.pop("from", None)
            query.pop("to", None)
    body = case.body
    if method == "POST" and _PHOTOS.match(path):
        media = (case.media_type or "").split(";")[0].strip().lower()
        signature = _SIGNATURES.get(media)
        if signature is not None:
            case.body = signature + (body if isinstance(body, bytes) else b"")
        return
    if (method, path) in _WEIGH_IN and isinstance(body, dict):
        gross, tare = body.get("gross_grams"), body.get("tare_grams")
        if _whole(gross) and _whole(tare) and gross > tare and "net_grams" in body:
            body["net_grams"] = int(gross - tare)
        # The weighings of door lots and of manifests, item by item.
        for name in ("door_weighings", "manifest_weighings"):
            items = body.get(name)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                gross, tare = item.get("gross_grams"), item.get("tare_grams")
                if _whole(gross) and _whole(tare) and gross > tare and "net_grams" in item:
                    item["net_grams"] = int(gross - tare)


# ---------------------------------------------------------------------------------------------
# 2. Refusals excused: (method, path) -> [(field pattern, error code, reason)].
# ---------------------------------------------------------------------------------------------

_LEDGER_RULES = [
    (r"month", "required", "month, or from with to, must be given: a rule across parameters"),
    (r"from|to", "required", "from and to go together: a rule across parameters"),
    (r"to", "before_from", "to is not before from: a rule across parameters"),
    (r"to", "range_too_long", "at most 366 days from from to to: a rule across parameters"),
    (r"month|from", "before_park", "the period must not end before the park's first day (state)"),
]

_CONTRACT_RULES = [
    (r"target", "unknown_code", "a code or category not in the catalog (its content)"),
    (r"target", "not_licensed", "the disposer's licences must cover it (other objects)"),
    (r"effective_from", "out_of_period", "within the contract's own dates (the contract)"),
]

# Each entry: (field pattern, error code pattern, reason). A 422 is excused when each of its errors
# matches an entry of its operation.
_PARK_RULES = [
    (r"permit_scope\[\d+\]", "unknown_code", "a code not in the catalog (the catalog's content)"),
    (r"permit_valid_until", "before_start", "the permit ends after it starts: across fields"),
    (r"collection_permit_number", "required", "permit details come with a permit number: across fields"),
    (r"uscc", "(organization_)?check_character", "a check character (computed)"),
]

EXCUSED: dict[tuple[str, str], list[tuple[str, str, str]]] = {
    # WeChat sign-in: a code is valid only if WeChat (here its stand-in) issued it just now.
    ("POST", "/api/v1/auth/wechat/login"): [
        (r"code", "invalid", "a code WeChat did not issue (state of another service)"),
        (r"code", "used", "a code already used (state)"),
    ],
    ("POST", "/api/v1/auth/wechat/link"): [
        (r"code", "invalid", "a code WeChat did not issue (state of another service)"),
        (r"code", "used", "a code already used (state)"),
    ],
    # Registrations: a credit code is unique among registered organisations of its kind.
    # The two check characters of a credit code are computed from the others (GB 32100).
    ("POST", "/api/v1/carriers"): [
        (r"uscc", "taken", "credit code already registered (uniqueness)"),
        (r"uscc", "(organization_)?check_character", "a check character (computed)"),
    ],
    ("POST", "/api/v1/disposers"): [
        (r"uscc", "taken", "credit code already registered (uniqueness)"),
        (r"uscc", "(organization_)?check_character", "a check character (computed)"),
    ],
    ("POST", "/api/v1/enterprises"): [
        (r"uscc", "taken", "credit code already registered (uniqueness)"),
        (r"uscc", "(organization_)?check_character", "a check character (computed)"),
    ],
    # References to other objects by id.
    ("POST", "/api/v1/users"): [
        (r"organization_id", "not_found", "names no organisation (a reference to another object)"),
        (r"role", "mismatch", "a role the organisation's kind does not have (the other object)"),
        (r"password", "too_weak", "a password easy to guess (zxcvbn's estimate, no schema can say)"),
        (r"username", "taken", "a username already taken (uniqueness)"),
        (r"dangerous_goods_qualification", "not_a_driver", "only a driver holds one: across fields (role)"),
    ],
    ("PATCH", "/api/v1/users/{id}"): [
        (r"active", "invalid", "an administrator cannot deactivate the account it is signed in with"),
        (r"dangerous_goods_qualification", "not_a_driver", "only a driver holds one: the stored user's role"),
        (r"password", "too_weak", "a password easy to guess (zxcvbn's estimate, no schema can say)"),
    ],
    ("POST", "/api/v1/vehicles"): [
        (r"operator_id", "not_found", "names no carrier or disposal company (a reference)"),
    ],
    ("POST", "/api/v1/contracts"): [
        (r"disposer_id", "not_found", "names no disposal company (a reference)"),
        (r"number", "taken", "a number the park's contracts already have (uniqueness)"),
        (r"valid_to", "before_start", "valid_to is not before valid_from: across fields"),
        (r"(prices|thresholds)\[\d+\]\.target", "unknown_code", "not in the catalog (its content)"),
        (r"(prices|thresholds)\[\d+\]\.target", "not_licensed", "the disposer's licences (other objects)"),
        (r"(prices|thresholds)\[\d+\]\.effective_from", "out_of_period", "within the contract's dates: across fields"),
    ],
    ("PATCH", "/api/v1/contracts/{id}"): [
        (r"valid_to", "before_start", "valid_to is not before valid_from: across fields and the stored contract"),
        (r"valid_to", "rules_after_end", "no membership, price or threshold starts after it (other objects)"),
    ],
    ("POST", "/api/v1/contracts/{id}/prices"): _CONTRACT_RULES,
    ("POST", "/api/v1/contracts/{id}/thresholds"): _CONTRACT_RULES,
    ("POST", "/api/v1/contracts/{id}/members"): [
        (r"enterprise_id", "not_in_park", "an enterprise of the contract's park (other objects)"),
    ],
    ("POST", "/api/v1/warehouses"): [
        (r"name", "taken", "a name the park's warehouses already have (uniqueness)"),
    ],
    # Membership of the catalog: a code must have been imported (the test's catalog is empty).
    ("POST", "/api/v1/disposers/{id}/licences"): [
        (r"scope\[\d+\]", "unknown_code", "a code not in the catalog (the catalog's content)"),
        (r"number", "taken", "a licence number the disposer already has (uniqueness)"),
        (r"valid_to", "before_start", "valid_to is not before valid_from: across fields"),
    ],
    # A catalog import's CSV file: its header and lines are described, not given a schema.
    ("POST", "/api/v1/catalog/imports"): [
        (r"header|body", ".+", "the content of the CSV file (described in words)"),
    ],
    # A year of the working-day calendar: its dates lie in the path's year (across the path
    # and the body); a make-up working day is a Saturday or Sunday and no holiday (the
    # calendar's own rule); a CSV file's lines are described in words.
    ("PUT", "/api/v1/calendar/{year}"): [
        (r"(holidays|workdays)\[\d+\]", "other_year", "a date of the path's year: across the path and the body"),
        (r"workdays\[\d+\]", "not_weekend|both", "a weekend day that is no holiday: across the items"),
        (r"line \d+|body", ".+", "the content of the CSV file (described in words)"),
        (r"source", "given_twice", "the notice named once, in the body or the query: across both"),
    ],
    # A park's collection permit: its codes must be in the catalog; its details come with its
    # number and end after they start (across fields, and with the stored park on a change);
    # the credit code's check character is computed.
    ("POST", "/api/v1/parks"): _PARK_RULES,
    ("PATCH", "/api/v1/parks/{id}"): _PARK_RULES,
    ("PATCH", "/api/v1/enterprises/{id}"): [
        (r"left_on", "before_joining", "leaving after joining (the enterprise's own dates)"),
    ],
    ("POST", "/api/v1/pickup-requests/{id}/collect"): [
        (r"tare_grams", "implausible", "the tare is less than the gross weight: across fields"),
        (r"gross_grams", "implausible", "gross - tare is at most a lot's weight: across fields"),
        (r"door_weighings\[\d+\]\.tare_grams", "implausible", "a door weighing's tare is less than its gross: across fields"),
        (r"door_weighings\[\d+\]\.net_grams", "mismatch", "a door weighing's net is its gross - tare: across fields"),
        (r"manifest_weighings\[\d+\]\.tare_grams", "implausible", "a manifest weighing's tare is less than its gross: across fields"),
        (r"manifest_weighings\[\d+\]\.net_grams", "mismatch", "a manifest weighing's net is its gross - tare: across fields"),
        (r"gross_grams|tare_grams", "required", "the vehicle's gross and tare go together, and are needed unless manifest_weighings is given: across fields"),
        (r"scanned_labels", "required", "required when a lot collected is checked at loading (the lots' kinds and the park's setting)"),
    ],
    # Rules across fields of one request.
    ("POST", "/api/v1/lots"): [
        (r"tare_grams", "implausible", "the tare is less than the gross weight: across fields"),
        (r"container_grams", "count_mismatch", "one weight per container (container_count): across fields"),
        (r"container_grams", "sum_mismatch", "the weights add up to gross - tare: across fields"),
    ],
    # A container the lot does not have (the lot's own number of containers).
    ("GET", "/api/v1/lots/{id}/label.svg"): [
        (r"container", "no_such_container", "a container beyond the lot's count (the lot's state)"),
    ],
    ("GET", "/api/v1/lots/{id}/label.html"): [
        (r"container", "no_such_container", "a container beyond the lot's count (the lot's state)"),
    ],
    ("POST", "/api/v1/lots/{id}/corrections"): [
        (r"gross_grams|tare_grams", "required", "gross and tare go together: across fields"),
        (r"tare_grams", "implausible", "the tare is less than the gross weight: across fields"),
    ],
    ("POST", "/api/v1/warehouses/{id}/zones"): [
        (r"categories\[\d+\]", "wrong_kind", "a category of the other kind than the zone's: across fields"),
        (r"categories\[\d+\]", "unknown_code", "a category not in the catalog (the catalog's content)"),
        (r"enterprise_id", "not_in_park", "an enterprise of the warehouse's park (a reference to another object)"),
    ],
    # A zone set aside for one enterprise names an enterprise of the warehouse's park.
    ("PATCH", "/api/v1/zones/{id}"): [
        (r"enterprise_id", "not_in_park", "an enterprise of the warehouse's park (a reference to another object)"),
    ],
    # Dates relative to today, or to an object's own dates.
    ("POST", "/api/v1/payments"): [(r"paid_on", "in_future", "a day after today (the clock)")],
    ("PATCH", "/api/v1/licences/{id}"): [
        (r"valid_to", "out_of_range", "a licence can only be shortened (the licence's own dates)"),
    ],
    # A statement's note: any amount but 0, which a schema of an integer cannot exclude simply.
    ("POST", "/api/v1/statements/{id}/notes"): [
        (r"amount_fen", "out_of_range", "0 is refused (the document's description says so)"),
    ],
    # Remittances: an administrator names the disposal company and the park (a dispatcher's and a
    # park office's own are the defaults): a rule on who asks.
    ("GET", "/api/v1/remittances"): [
        (r"disposer_id|park_id", "required", "who asks decides what must be named"),
    ],
    ("GET", "/api/v1/remittances/export.csv"): [
        (r"disposer_id|park_id", "required", "who asks decides what must be named"),
    ],
    ("GET", "/api/v1/remittances/export.xlsx"): [
        (r"disposer_id|park_id", "required", "who asks decides what must be named"),
    ],
    # A patrol is of an enterprise or a warehouse, one of them (across fields); on a day not
    # after today in the park's time zone (the clock); its findings due not before it (across
    # fields).
    ("POST", "/api/v1/patrols"): [
        (r"enterprise_id", "required", "the enterprise or the warehouse must be named: across fields"),
        (r"warehouse_id", "both", "the enterprise or the warehouse, not both: across fields"),
        (r"patrolled_on", "in_future", "a day after today in the park's time zone (the clock)"),
        (r"findings\[\d+\]\.deadline", "before_patrol", "a deadline before the patrol's day: across fields"),
    ],
    # Findings added to a patrol: due not before the patrol's day (the patrol's state).
    ("POST", "/api/v1/patrols/{id}/findings"): [
        (r"findings\[\d+\]\.deadline", "before_patrol", "a deadline before the patrol's day (the patrol's state)"),
    ],
    # The patrols' days: `to` not before `from` (across parameters).
    ("GET", "/api/v1/patrols"): [(r"to", "before_from", "to is not before from: across parameters")],
    # Webhooks: the host must be one webhooks may reach (not an internal address).
    ("POST", "/api/v1/webhooks"): [(r"url", "not_allowed", "an internal address (the network's)")],
    ("PATCH", "/api/v1/webhooks/{id}"): [(r"url", "not_allowed", "an internal address (the network's)")],
}
# A park's figures: `to` not before `from`, and at most 36 months, either one defaulting to
# the current month (rules across parameters and relative to today).
_FIGURES_RULES = [
    (r"to", "before_from", "to is not before from: across parameters, or from after this month"),
    (r"to", "range_too_long", "at most 36 months from from to to (or this month): across parameters"),
]
for _figure in ("latency", "volumes"):
    EXCUSED[("GET", f"/api/v1/parks/{{id}}/figures/{_figure}")] = _FIGURES_RULES
for _holder in ("parks", "enterprises", "warehouses"):
    for _tail in ("", "/lines", "/export.csv", "/export.xlsx"):
        EXCUSED[("GET", f"/api/v1/{_holder}/{{id}}/ledger{_tail}")] = _LEDGER_RULES


def _excused(method: str, path: str, errors: list) -> str | None:
    rules = EXCUSED.get((method, path))
    if not rules or not errors:
        return None
    reasons = []
    for error in errors:
        if not isinstance(error, dict):
            return None
        field, code = str(error.get("field", "")), str(error.get("code", ""))
        for pattern, rule_code, reason in rules:
            if re.fullmatch(rule_code, code) and re.fullmatch(pattern, field):
                reasons.append(reason)
                break
        else:
            return None
    return "; ".join(reasons)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keeps every failure but a valid request refused for a reason listed in EXCUSED."""
    if getattr(failure, "code", None) != "ST202" or response.status_code != 422:
        return True
    try:
        problem = json.loads(response.content)
    except (ValueError, TypeError):
        return True
    if not isinstance(problem, dict):
        return True
    errors = problem.get("errors")
    if not isinstance(errors, list):
        return True
    kept = _excused(case.method.upper(), case.operation.path, errors) is None
    if kept and os.environ.get("CONTRACT_DEBUG"):
        print(f"not excused: {case.method} {case.operation.path}: {errors}", file=sys.stderr)
    return kept
# Enterprises' compliance: a profile's codes must be in the catalog (another object) and each
# listed once (across items); trends' months as the figures' (across parameters).
EXCUSED[("PUT", "/api/v1/enterprises/{id}/profile")] = [
    (r"wastes\[\d+\]\.waste_code", "unknown_code|withdrawn_code", "a code not in the catalog (a reference to another object)"),
    (r"wastes\[\d+\]\.waste_code", "duplicate", "each code once: across items"),
]
for _holder in ("parks", "enterprises"):
    for _tail in ("", "/export.csv", "/export.xlsx"):
        EXCUSED[("GET", f"/api/v1/{_holder}/{{id}}/trends{_tail}")] = _FIGURES_RULES
for _tail in ("", "/export.csv", "/export.xlsx", "/print"):
    EXCUSED[("GET", f"/api/v1/parks/{{id}}/report{_tail}")] = _FIGURES_RULES
