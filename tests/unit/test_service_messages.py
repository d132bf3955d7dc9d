"""Every message the services mark with msg() has a Chinese translation, with the same placeholders, and the
window's matcher finds it again from the English text (also text that came through a job's events)."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from services.messages import msg
from widgets.service_text import CATALOG_DIR, template_pattern, translate_service

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)[^{}]*\}")


def marked_templates() -> dict[str, str]:
    """{template: where} of every msg("literal", ...) call in services/."""
    out = {}
    for path in sorted((ROOT / "services").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "msg" and node.args:
                first = node.args[0]
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), \
                    f"{path.relative_to(ROOT)}:{node.lineno}: msg() takes a literal template (put values in arguments)"
                out[first.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return out


def test_every_marked_service_message_has_a_chinese_translation_with_the_same_placeholders():
    catalog = json.loads((CATALOG_DIR / "services_zh_CN.json").read_text(encoding="utf-8"))
    marked = marked_templates()
    missing = [f"{where}: {t}" for t, where in marked.items() if not catalog.get(t)]
    assert not missing, "add these to resources/translations/services_zh_CN.json:\n" + "\n".join(missing)
    wrong = [t for t in marked if sorted(set(PLACEHOLDER.findall(t))) != sorted(set(PLACEHOLDER.findall(catalog[t])))]
    assert not wrong, f"the translation's placeholders differ: {wrong}"
    obsolete = sorted(set(catalog) - set(marked))
    assert not obsolete, f"no longer in the code (remove them): {obsolete}"


def test_the_matcher_finds_templates_again_and_carries_their_arguments():
    assert template_pattern("torch {version} ({build})").match("torch 2.13.0+cpu (CPU build)").groupdict() == \
        {"version": "2.13.0+cpu", "build": "CPU build"}
    text = msg("Python {version}, 64-bit", version="3.11.7")
    assert translate_service(text, "en") == text
    assert translate_service(text, "zh_CN") == "Python 3.11.7，64 位"
    assert translate_service("not a service message at all", "zh_CN") == "not a service message at all"


def test_messages_built_from_several_templates_translate_part_by_part():
    from services.quant.groups import group_size_problem

    text = group_size_problem({"hidden_size": 576, "num_attention_heads": 9, "intermediate_size": 1536}, 128)
    assert text == "group size 128 does not divide hidden_size (q/k/v/gate/up inputs) = 576; use --group-size 64"
    assert translate_service(text, "zh_CN") == \
        "分组大小 128 不能整除 hidden_size (q/k/v/gate/up inputs) = 576；请使用 --group-size 64"
    from services.quant.backends import get_backend

    try:
        get_backend("autoawq", "gptq")
    except ValueError as exc:
        assert str(exc) == "backend autoawq does not offer 'gptq'; use --backend llmcompressor"
        assert translate_service(str(exc), "zh_CN") == "后端 autoawq 不提供 'gptq'；请使用 --backend llmcompressor"


def test_job_progress_and_units_translate_after_crossing_the_process_boundary():
    step = msg("pass {done}/{passes}, {step}", done=1, passes=2,
               step=msg("calibrating: {where}", where=msg("layer {layer}/{layers}", layer=3, layers=28)))
    assert step == "pass 1/2, calibrating: layer 3/28"
    assert translate_service(step, "zh_CN") == "第 1/2 遍，正在校准：第 3/28 层"
    assert translate_service(msg("layer"), "zh_CN") == "层"
    ready = msg("read the first {count:,} texts only (enough for calibration)", count=50_000)
    assert translate_service(ready, "zh_CN") == "只读取了前 50,000 条文本（足够用于校准）"
