"""The one check on an SVG drawing, run on every way an image enters the bank (upload in the
editor, YAML import, QTI import, restore from an export) and again when a PDF embeds it.

An SVG is *refused*, never rewritten, unless it is a plain drawing:

- well-formed XML without DOCTYPE, entities or processing instructions (``xml-stylesheet``);
- only elements of the allow-list :data:`ELEMENTS` (shapes, text, groups, gradients, patterns,
  markers, clip paths, masks, filters) and, for files saved by drawing programs, the elements of
  their metadata namespaces (:data:`EDITOR_NAMESPACES`); no scripts, ``foreignObject``,
  animation (which can rewrite a link) or links (``<a>``);
- only attributes of the allow-list :data:`ATTRIBUTES` (no event handlers);
- no reference outside the file, at any depth: a ``href`` is a ``#fragment`` or a ``data:`` URI of
  an image that itself passes :func:`itembank.bank.images.check_image` (so an SVG inside a
  ``data:image/svg+xml`` URI is checked like this one, up to :data:`MAX_DEPTH` levels); in
  styles (``style`` attributes, ``<style>``, presentation attributes) CSS escapes (``\\72``,
  ``@im\\port``) and comments are decoded first, then ``url()`` may only name a ``#fragment``
  and ``@import``, ``image-set()``, ``image()``, ``element()``, ``cross-fade()``,
  ``expression()`` and ``javascript:`` are refused.

Every message contains the word "SVG" (the web app translates by it).
"""

from __future__ import annotations

import re

from lxml import etree

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
EDITOR_NAMESPACES = frozenset({
    "http://www.inkscape.org/namespaces/inkscape",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://creativecommons.org/ns#",
    "http://web.resource.org/cc/",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://ns.adobe.com/AdobeIllustrator/10.0/",
    "http://ns.adobe.com/SaveForWeb/1.0/",
})
MAX_DEPTH = 3  # SVG inside a data: URI inside an SVG ... at most this deep
MAX_ELEMENTS = 50_000

ELEMENTS = frozenset({
    "svg", "g", "defs", "title", "desc", "metadata", "symbol", "use", "switch", "style",
    "rect", "circle", "ellipse", "line", "polyline", "polygon", "path",
    "text", "tspan", "textPath",
    "image", "marker", "pattern", "clipPath", "mask",
    "linearGradient", "radialGradient", "stop",
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
    "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood",
    "feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode",
    "feMorphology", "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile",
    "feTurbulence",
})

ATTRIBUTES = frozenset("""
id class style lang tabindex transform href viewBox preserveAspectRatio width height x y x1 y1 x2 y2
cx cy r rx ry fx fy fr d points pathLength version baseProfile zoomAndPan dx dy rotate textLength
lengthAdjust startOffset method spacing side refX refY markerUnits markerWidth markerHeight orient
patternUnits patternContentUnits patternTransform gradientUnits gradientTransform spreadMethod
offset clipPathUnits maskUnits maskContentUnits filterUnits primitiveUnits result in in2 mode
values type tableValues slope intercept amplitude exponent operator k1 k2 k3 k4 order kernelMatrix
divisor bias targetX targetY edgeMode kernelUnitLength preserveAlpha surfaceScale diffuseConstant
specularConstant specularExponent scale xChannelSelector yChannelSelector stdDeviation azimuth
elevation z pointsAtX pointsAtY pointsAtZ limitingConeAngle radius baseFrequency numOctaves seed
stitchTiles requiredFeatures requiredExtensions systemLanguage media title
alignment-baseline baseline-shift clip clip-path clip-rule color color-interpolation
color-interpolation-filters color-profile color-rendering cursor direction display
dominant-baseline enable-background fill fill-opacity fill-rule filter flood-color flood-opacity
font font-family font-size font-size-adjust font-stretch font-style font-variant font-weight
glyph-orientation-horizontal glyph-orientation-vertical image-rendering kerning letter-spacing
lighting-color marker marker-end marker-mid marker-start mask opacity overflow paint-order
pointer-events shape-rendering stop-color stop-opacity stroke stroke-dasharray stroke-dashoffset
stroke-linecap stroke-linejoin stroke-miterlimit stroke-opacity stroke-width text-anchor
text-decoration text-rendering transform-origin unicode-bidi vector-effect visibility
word-spacing writing-mode mix-blend-mode isolation white-space
""".split())
XML_ATTRIBUTES = frozenset({"space", "lang"})  # not xml:base, which would move every link
XLINK_ATTRIBUTES = frozenset({"href", "title", "type", "role", "arcrole"})

_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\r\n\f]?|\r\n|([\s\S]))")
_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.S | re.I)
_FORBIDDEN_CSS = ("@import", "image-set(", "image(", "element(", "cross-fade(", "expression(",
                  "javascript:", "behavior:", "-moz-binding", "src(", "@font-face")


class SvgError(ValueError):
    """The SVG is refused; the message says why (and contains "SVG")."""


def css_unescape(text: str) -> str:
    """CSS text with its escapes decoded (``\\72`` → ``r``, ``\\i`` → ``i``, escaped newline → '')."""

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        if match.group(2) is not None:
            return "" if match.group(2) in "\n\f" else match.group(2)
        return ""  # an escaped CR LF

    return _ESCAPE.sub(one, text)


def css_problem(text: str) -> str | None:
    """Why a piece of CSS (a style sheet, a ``style`` attribute or a presentation attribute) may
    load something outside the drawing, or None."""
    decoded = _COMMENT.sub("", css_unescape(text.replace("\x00", "\ufffd")))
    flat = "".join(decoded.split()).lower()
    for needle in _FORBIDDEN_CSS:
        if needle in flat:
            return f"an SVG whose styles use {needle.rstrip('(:')!r} is refused (it could load other files)"
    if flat.count("url(") != len(_URL.findall(decoded)):
        return "an SVG with a url() the check cannot read is refused"
    for match in _URL.finditer(decoded):
        target = match.group(2).strip()
        if not target.startswith("#"):
            return "an SVG whose styles load other files or addresses (url()) is refused"
    return None


def _href_problem(value: str, depth: int) -> str | None:
    target = "".join(value.split())
    if target.startswith("#"):
        return None
    if target.lower().startswith("data:"):
        from .images import ImageError, decode_data_uri

        try:
            decode_data_uri(target, depth=depth + 1)
        except ImageError as exc:
            return f"an SVG with an embedded image that is refused: {exc}"
        return None
    return "an SVG that links to other files or addresses is refused"


def svg_problem(data: bytes, depth: int = 0) -> str | None:
    """Why the SVG ``data`` is refused, or None for a plain drawing (see the module's rules)."""
    if depth > MAX_DEPTH:
        return f"an SVG nested more than {MAX_DEPTH} levels deep in data: URIs is refused"
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        return "an SVG with a DOCTYPE or entities is refused"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return "the SVG file is not well-formed XML"
    if not isinstance(root.tag, str) or etree.QName(root).localname != "svg" or \
            etree.QName(root).namespace not in (SVG_NS, None):
        return "the file is not an SVG drawing (its root element is not <svg>)"
    siblings = [*root.itersiblings(preceding=True), *root.itersiblings()]
    if any(isinstance(node, etree._ProcessingInstruction) for node in siblings):
        return "an SVG with processing instructions (xml-stylesheet) is refused"
    for count, element in enumerate(root.iter()):
        if count > MAX_ELEMENTS:
            return f"an SVG with more than {MAX_ELEMENTS} elements is refused"
        problem = _element_problem(element, depth)
        if problem:
            return problem
    return None


def _element_problem(element: etree._Element, depth: int) -> str | None:
    if isinstance(element, etree._ProcessingInstruction):
        return "an SVG with processing instructions (xml-stylesheet) is refused"
    if not isinstance(element.tag, str):
        return "an SVG with entity references is refused"  # comments are removed when parsing
    name = etree.QName(element)
    editor = name.namespace in EDITOR_NAMESPACES
    if not editor and (name.namespace not in (SVG_NS, None) or name.localname not in ELEMENTS):
        return f"an SVG with <{name.localname}> is refused (only drawing elements; no scripts, links, " \
               "animation or embedded content)"
    for attr, value in element.attrib.items():
        qname = etree.QName(attr)
        local, namespace = qname.localname, qname.namespace
        if local.lower().startswith("on"):
            return f"an SVG with the event attribute {local!r} is refused"
        if namespace == XLINK_NS:
            allowed = local in XLINK_ATTRIBUTES
        elif namespace == XML_NS:
            allowed = local in XML_ATTRIBUTES
        elif namespace is None:
            allowed = editor or local in ATTRIBUTES
        else:
            allowed = namespace in EDITOR_NAMESPACES and local.lower() not in ("href", "src", "base")
        if not allowed:
            return f"an SVG with the attribute {local!r} is refused"
        if local == "href":
            problem = _href_problem(value, depth)
        elif "javascript:" in "".join(css_unescape(value).split()).lower():
            problem = "an SVG with script in its attributes is refused"
        else:
            problem = css_problem(value) if ("url" in value.lower() or "\\" in value or "@" in value
                                                    or "(" in value) else None
        if problem:
            return problem
    if name.localname == "style" and not editor:
        return css_problem("".join(element.itertext()))
    return None


def check_svg(data: bytes, depth: int = 0) -> None:
    """Raise :class:`SvgError` when ``data`` is not a plain SVG drawing."""
    problem = svg_problem(data, depth)
    if problem:
        raise SvgError(problem)
