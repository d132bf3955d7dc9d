"""Messages the services show to people, marked for translation without Qt.

`msg("sequence length {n} is too long", n=4096)` returns the English text. The window translates what it
shows by finding the template again (widgets/service_text.py) in the catalog
resources/translations/services_zh_CN.json ({template: translation}); text that crossed a process
boundary (job events, CLI JSON) is matched the same way. tests/unit/test_service_messages.py fails
when a template marked here has no translation.
"""
from __future__ import annotations


def msg(template: str, /, **args: object) -> str:
    """The English text of `template` with `args` ({name} placeholders, format() syntax)."""
    return template.format(**args) if args else template
