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
        "分组大小 128 不能整除 hidden_size（q/k/v/gate/up 的输入） = 576；请使用 --group-size 64"
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


def test_weights_model_and_dataset_errors_translate_after_the_real_service_made_them(tmp_path):
    import pytest

    from services.datasets.errors import DatasetError
    from services.datasets.readers import ReadInfo, read_file
    from services.modelfiles import check_weights
    from services.modelinfo import model_line, shape_from_config

    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00")
    errors, _, _ = check_weights(tmp_path)
    assert errors == ["model.safetensors is truncated (2 bytes): download the model again"]
    assert translate_service(errors[0], "zh_CN") == "model.safetensors 不完整（2 字节）：请重新下载模型"

    shape = shape_from_config({"architectures": ["LlamaForCausalLM"], "num_hidden_layers": 2, "hidden_size": 64,
                               "num_attention_heads": 4, "vocab_size": 1000, "torch_dtype": "bfloat16"})
    line = model_line(shape)
    assert line.startswith("LlamaForCausalLM: 2 × 64, 4 heads (4 KV), ") and line.endswith(" params, bfloat16")
    assert translate_service(line, "zh_CN").endswith(" 参数，bfloat16")
    assert "个注意力头（4 个 KV 头）" in translate_service(line, "zh_CN")

    bad = tmp_path / "data.jsonl"
    bad.write_text('{"text": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        list(read_file(bad, ReadInfo()))
    assert str(info.value).startswith("data.jsonl line 2 is not valid JSON (")
    assert translate_service(str(info.value), "zh_CN").startswith("data.jsonl 第 2 行不是有效的 JSON（")


def test_job_ends_and_runtime_details_translate():
    from services.jobs.manager import describe_exit
    from services.runtime.managed import choose_torch
    from services.serving.engines import state

    killed = describe_exit(-9)
    assert killed == "the job process was killed by SIGKILL (out of memory?)"
    assert translate_service(killed, "zh_CN") == "任务进程被 SIGKILL 终止（内存不足？）"
    assert translate_service(describe_exit(3), "zh_CN") == "任务进程意外结束（退出状态 3）"
    build = choose_torch("560.94", [86])
    assert build.reason == "driver 560.94 takes cu126"
    assert translate_service(build.reason, "zh_CN") == "驱动 560.94 适用 cu126"
    missing = state("vllm", root=Path("/nonexistent-quantdesk-engines"), platform="win32").message
    assert translate_service(missing, "zh_CN") == (
        "vLLM 没有 Windows 版：QuantDesk 会在 WSL 中安装并运行它（需要 WSL：wsl --install）；"
        "未安装：quantdesk engines install vllm（约 5 分钟）")


def test_export_target_cluster_and_support_messages_translate_after_the_real_service_made_them(tmp_path):
    import pytest

    from services.checkpoint import AWQ, CheckpointFormat
    from services.envcheck.launcher import cmd_quote
    from services.support.bundle import write_bundle
    from services.targets.base import TargetInput
    from services.targets.edge10 import parse_remap
    from services.targets.gguf_convert import convert
    from services.targets.vllm import VllmTarget

    with pytest.raises(ValueError) as info:
        convert(tmp_path, tmp_path / "model.gguf", "q9_x")
    assert str(info.value).startswith("unknown GGUF type 'q9_x'; choose one of f16, bf16, ")
    assert translate_service(str(info.value), "zh_CN").startswith("未知 GGUF 类型 'q9_x'；请从以下选择：f16, bf16, ")

    gemv = TargetInput(tmp_path, {}, CheckpointFormat(AWQ, 4, 128, "gemv"), None)
    v = VllmTarget().check(gemv, {"kv": "int4", "tp": 1}, None)
    assert v.errors == ["this AWQ checkpoint uses the GEMV layout; vLLM loads only GEMM: re-quantize with "
                        "--version gemm",
                        "vLLM has no int4 KV cache: use --kv fp8 (or fp16), or the LMDeploy target for int8/int4 KV"]
    assert [translate_service(e, "zh_CN") for e in v.errors] == [
        "此 AWQ 检查点使用 GEMV 布局；vLLM 只加载 GEMM：请用 --version gemm 重新量化",
        "vLLM 没有 int4 KV 缓存：请使用 --kv fp8（或 fp16），或用 LMDeploy 目标来使用 int8/int4 KV"]

    _, problem = parse_remap("0,1,2", "--die-remap")
    assert problem == "--die-remap needs exactly 16 entries, got 3"
    assert translate_service(problem or "", "zh_CN") == "--die-remap 需要正好 16 项，实际为 3 项"

    with pytest.raises(ValueError) as info:
        write_bundle(tmp_path / "support.tar", None, None)  # type: ignore[arg-type]  # refused before they are used
    assert str(info.value) == f"{tmp_path / 'support.tar'} must end in .zip"
    assert translate_service(str(info.value), "zh_CN") == f"{tmp_path / 'support.tar'} 必须以 .zip 结尾"

    with pytest.raises(ValueError) as info:
        cmd_quote('D:\\模型\\"qwen"')
    assert translate_service(str(info.value), "zh_CN") == '路径不能包含双引号：D:\\模型\\"qwen"'
