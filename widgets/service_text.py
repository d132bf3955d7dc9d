"""The interface's translation of messages that come from the services (services/messages.py marks them):
exact templates by lookup, templates with {placeholders} by matching, the arguments carried over."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parents[1] / "resources" / "translations"
_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


@lru_cache(maxsize=4)
def catalog(language: str) -> tuple[dict[str, str], list[tuple[re.Pattern, str]]]:
    """(exact templates, (pattern, translation) for templates with placeholders) of `language`."""
    path = CATALOG_DIR / f"services_{language}.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, []
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern, str, int]] = []
    for template, translated in entries.items():
        if not translated:
            continue
        if _PLACEHOLDER.search(template):
            patterns.append((template_pattern(template), translated, len(_PLACEHOLDER.sub("", template))))
        else:
            exact[template] = translated
    patterns.sort(key=lambda p: -p[2])  # the most specific first: the most fixed characters
    return exact, [(pattern, translated) for pattern, translated, _ in patterns]


def template_pattern(template: str) -> re.Pattern:
    """A regex matching what `template` formats to, one named group per placeholder."""
    out, pos, seen = [], 0, set()
    for m in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$", re.S)


def translate_service(text: str, language: str | None = None) -> str:
    """`text` in the interface's language (unchanged when English or not in the catalog)."""
    if language is None:
        from app.i18n import running_language

        language = running_language()
    if language == "en" or not text:
        return text
    exact, patterns = catalog(language)
    if text in exact:
        return exact[text]
    if "\n" in text:  # one message per line: a placeholder never swallows several
        return "\n".join(translate_service(line, language) for line in text.split("\n"))
    for pattern, translated in patterns:
        m = pattern.match(text)
        if m:
            args = {k: translate_service(v, language) for k, v in m.groupdict().items()}
            return _PLACEHOLDER.sub(lambda p, a=args: a.get(p.group(1), p.group(0)), translated)
    return _by_parts(text, language)


def _by_parts(text: str, language: str) -> str:
    """Messages joined with '; ' or a newline (several errors in one line) are translated part by part."""
    for sep in ("; ",):
        if sep in text:
            parts = text.split(sep)
            out = [translate_service(p, language) for p in parts]
            if out != parts:
                return ("；" if sep == "; " else sep).join(out)
    return text
