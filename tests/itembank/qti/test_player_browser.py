"""The bank's QTI export played by an independent QTI 3 player: ``@citolab/qti-components`` (pinned,
installed from the npm registry into a cache folder outside the repository on first use) renders
exported items of every type in both languages in headless Chromium; each item is answered with the
bank's key and with wrong answers (numeric tolerance, full-width and the-number-inside-another), and
the player's SCORE must equal the bank's score; items with weights (mapped scoring) are answered in
every way there is, and the order item with its key, a swap, the listed order and an unfinished one.  No registry, no npm: the test fails, never skips."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    Order,
    ShortResponse,
    SingleChoice,
)
from itembank.bank.validation import load_bank
from itembank.delivery.scoring import score_response
from itembank.qti import package_files, read_qti_files
from itembank.qti.names import qti_id
from tests.browser import launch_chromium
from tests.conftest import TEST_UNITS, shared_path
from tests.itembank.qti.test_mapped_scoring import weighted_items
from tests.itembank.qti.test_order import order_item
from tests.npm_cache import npm_package

PLAYER = "@citolab/qti-components"
VERSION = "7.27.4"
FULL = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
BASE = "http://player.test"


def player_dir() -> Path:
    """The player's bundle folder, installed with npm (pinned version) when not cached yet."""
    return npm_package(PLAYER, VERSION, f"qti-components-{VERSION}") / "cdn"


PAGE = f"""<!doctype html><html><head><meta charset="utf-8"></head><body><div id="host"></div>
<script type="module">
import {{ qtiTransformItem }} from "{BASE}/player/index.js";
window.playItem = async (path, xml) => {{
  const host = document.getElementById("host");
  host.innerHTML = "";
  host.appendChild(qtiTransformItem().parse(xml).path("{BASE}/pkg/" + path).htmlDoc());
  await customElements.whenDefined("qti-assessment-item");
  const item = host.querySelector("qti-assessment-item");
  await item.updateComplete;
  return host.querySelectorAll("[response-identifier]").length;
}};
window.scoreItem = async (response) => {{
  const item = document.querySelector("#host qti-assessment-item");
  item.updateResponseVariable("RESPONSE", response);
  item.processResponse();
  const score = item.getOutcome("SCORE");
  return score && score.value !== null && score.value !== undefined ? Number(score.value) : null;
}};
window.ready = true;
</script></body></html>"""


def answers(item: Any) -> list[Any]:
    """The bank's key and wrong answers, as the player's response values (QTI identifiers); every
    answer there is to an item with weights."""
    if isinstance(item, MultipleChoice) and item.weights is not None:
        ids = [qti_id(o.id) for o in item.options]
        return [list(c) for n in range(len(ids) + 1) for c in itertools.combinations(ids, n)]
    if isinstance(item, ComplexChoice) and item.weights is not None:
        rows = [[None, *(f"{qti_id(s.id)} {qti_id(c.id)}" for c in item.choices)] for s in item.statements]
        return [[p for p in picks if p] for picks in itertools.product(*rows)]
    if isinstance(item, Order):
        key = [qti_id(k) for k in item.key]
        return [key, [key[1], key[0], *key[2:]], [qti_id(o.id) for o in item.options], key[:-1]]
    if isinstance(item, SingleChoice):
        wrong = next(o.id for o in item.options if o.id != item.key)
        return [qti_id(item.key), qti_id(wrong)]
    if isinstance(item, MultipleChoice):
        key = [qti_id(k) for k in item.key]
        other = next(qti_id(o.id) for o in item.options if o.id not in item.key)
        alternatives = [[qti_id(k) for k in a] for a in item.also_correct]  # other correct answers
        return [key, [*key, other], key[:-1], [other], *alternatives, *([[*a[:-1]] for a in alternatives])]
    if isinstance(item, ComplexChoice):
        right = [f"{qti_id(s)} {qti_id(c)}" for s, c in item.key.items()]
        choices = [c.id for c in item.choices]
        first = next(iter(item.key))
        flipped = next(c for c in choices if c != item.key[first])
        return [right, [f"{qti_id(first)} {qti_id(flipped)}", *right[1:]], right[:1]]
    assert isinstance(item, ShortResponse)
    key = item.accepted.en[0]
    out = [key, item.accepted.zh_TW[-1], key.translate(FULL), key + "。", key.upper(), "9" + key, "wrong"]
    if item.numeric is not None:
        value, tol = Decimal(repr(item.numeric.value)), Decimal(repr(item.numeric.tolerance))
        step = Decimal(1).scaleb(min(value.normalize().as_tuple().exponent, tol.normalize().as_tuple().exponent, 0))
        for x in (value + tol, value - tol, value + 2 * tol + 1):
            text = format(x.quantize(step).normalize(), "f")
            out += [text, text.translate(FULL)]
        out.append(f"{value:.1f}")  # "40.0"
    return out


def bank_response(item: Any, answer: Any) -> Any:
    """The same answer in the bank's response shape (bank ids)."""
    def bid(x: str) -> str:
        return x[1:] if x.startswith("_") and x[1:2].isdigit() else x
    if isinstance(item, SingleChoice):
        return bid(answer)
    if isinstance(item, MultipleChoice | Order):
        return [bid(x) for x in answer]
    if isinstance(item, ComplexChoice):
        return {bid(p.split()[0]): bid(p.split()[1]) for p in answer}
    return answer


def test_an_independent_qti_player_scores_exported_items_as_the_bank() -> None:
    bundle = player_dir()
    source = load_bank([TEST_UNITS, TEST_UNITS.parents[2] / "items"])
    assert not source.problems
    # every unit of the test bank (every item type) and the bank's short answers with tolerances
    units = [u for u in source.units if u.unit.id.startswith("T-") or any(
        isinstance(i, ShortResponse) and i.numeric is not None and i.numeric.tolerance > 0 for i in u.unit.items)]
    # items with weights: made here, and the IMS reference items whose mappings import as weights
    multiple, table = weighted_items()
    first = units[0].unit
    # a numeric answer with a tolerance (the demo bank has none since its second edition): the
    # key, inside and outside the tolerance, full-width digits, the number inside another
    numeric = ShortResponse.model_validate({
        "id": "W-NUM", "type": "short_response", "process": "evaluate_information",
        "prompt": {"zh-TW": "大約是多少公尺？", "en": "About how many metres?"},
        "accepted": {"zh-TW": ["120"], "en": ["120"]}, "numeric": {"value": 120.0, "tolerance": 2.5}})
    weighted = [first.model_copy(update={"id": "W-UNIT", "items": [multiple, table, order_item(), numeric]})]
    reference = shared_path("qti-samples", "qti21-qtiworks", "items")
    imported = read_qti_files({n: (reference / n).read_bytes() for n in ("choice_multiple.xml", "gap_match.xml",
                                                                       "choice_multiple_chocolade.xml")},
                              "reference.zip")
    assert imported.problems == []
    weighted += [u.unit for u in imported.units]
    files = package_files([*(u.unit for u in units), *weighted],
                          {**{u.unit.id: u.images for u in units}, "W-UNIT": units[0].images})
    from playwright.sync_api import sync_playwright

    compared = agreed = weighted_compared = 0
    rendered: dict[str, int] = {}
    disagreements: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()

        def serve(route: Any) -> None:
            url = route.request.url
            if url.startswith(f"{BASE}/player/"):
                path = bundle / url.removeprefix(f"{BASE}/player/").split("?")[0]
                if path.is_file():
                    return route.fulfill(body=path.read_bytes(), content_type="text/javascript")
            elif url.startswith(f"{BASE}/pkg/"):
                data = files.get(url.removeprefix(f"{BASE}/pkg/").split("?")[0])
                if data is not None:
                    return route.fulfill(body=data, content_type="application/xml")
            elif url in (BASE, f"{BASE}/"):
                return route.fulfill(body=PAGE, content_type="text/html")
            return route.fulfill(status=404, body="")

        page.route("**/*", serve)
        page.goto(f"{BASE}/")
        page.wait_for_function("window.ready === true")
        for unit in [*(u.unit for u in units), *weighted]:
            for item in unit.items:
                for lang in ("zh-TW", "en"):
                    path = f"items/{item.id}.{lang}.xml"
                    interactions = page.evaluate("([p, x]) => playItem(p, x)", [path, files[path].decode()])
                    assert interactions >= 1, path  # the player rendered the interaction
                    rendered[item.type] = rendered.get(item.type, 0) + 1
                    if isinstance(item, OpenResponse):
                        continue  # scored by human coders in the bank and in QTI (external-scored)
                    for answer in answers(item):
                        weighted_compared += getattr(item, "weights", None) is not None
                        bank = score_response(item, bank_response(item, answer))
                        player = page.evaluate("(r) => scoreItem(r)", answer)
                        compared += 1
                        if player is not None and player == bank:
                            agreed += 1
                        else:
                            disagreements.append(f"{path} {json.dumps(answer, ensure_ascii=False)}: "
                                                 f"player {player}, bank {bank}")
        browser.close()
    print(f"player vs bank: {agreed}/{compared} answers agree; rendered {rendered}")
    assert set(rendered) == {"single_choice", "multiple_choice", "complex_choice", "short_response",
                             "open_response", "order"}
    assert disagreements == []
    assert compared > 300
    assert weighted_compared == 2 * (32 + 27 + 64 + 25)  # every answer to the items with weights, both languages
