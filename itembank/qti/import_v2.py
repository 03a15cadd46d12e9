"""QTI 2.x items as QTI 3 trees: element and attribute names rewritten, so that one mapper
(:mod:`.import_v3`) reads both versions.

QTI 3 renamed every QTI element of 2.x to kebab case with a ``qti-`` prefix (``choiceInteraction``
-> ``qti-choice-interaction``) and its attributes to kebab case (``maxChoices`` -> ``max-choices``);
the XHTML elements of item bodies kept their names.
"""

from __future__ import annotations

import re

from lxml import etree

from .names import QTI2, QTI3

# XHTML elements that QTI 2.1 bodies use; every other element of the QTI 2 namespace is a QTI element.
HTML = frozenset("""a abbr acronym address b big blockquote br caption cite code col colgroup dd dfn div dl dt em
h1 h2 h3 h4 h5 h6 hr i img kbd li object ol p param pre q samp small span strong sub sup table tbody td tfoot
th thead tr tt ul var figure figcaption""".split())
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def kebab(name: str) -> str:
    return _CAMEL.sub("-", name).lower()


def is_qti2(root: etree._Element) -> bool:
    return etree.QName(root).namespace in QTI2


def to_qti3(root: etree._Element) -> etree._Element:
    """A copy of the QTI 2.x tree ``root`` in QTI 3 names (sourcelines kept for messages)."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        qname = etree.QName(el)
        if qname.namespace in QTI2:
            name = qname.localname if qname.localname in HTML else "qti-" + kebab(qname.localname)
            el.tag = f"{{{QTI3}}}{name}"
        for attr in list(el.attrib):
            if attr.startswith("{"):
                continue
            new = kebab(attr)
            if new != attr:
                el.set(new, el.attrib.pop(attr))
    etree.cleanup_namespaces(root)
    return root
