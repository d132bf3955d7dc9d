"""Edge10 / TyLLM NPU: the vendor's two steps, each in its Docker image. `checkpoint_convert.py`
(tyquantize image) turns the AWQ checkpoint into the toolchain's layout; a generated `compile_llm.py`
(tyllm image) calls `build_and_compile_llm`. With docker and the images here, both run as the job;
without them the job writes the scripts and the exact `docker run` commands to run on the GPU host.

Nothing here claims a compile happened unless the vendor's image ran it.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from services.checkpoint import AWQ
from services.envcheck.model import CheckResult
from services.jobs.events import Emitter, JobFailure
from services.messages import msg
from services.targets import docker, scripts
from services.targets.base import BuildInputs, Target, TargetInput, Verdict
from services.targets.gpus import Gpu

REMAP_LEN = 16
SUPPORTED = ("LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Qwen2VLForConditionalGeneration",
             "Qwen2_5_VLForConditionalGeneration")
SIDE_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
              "special_tokens_map.json", "generation_config.json", "preprocessor_config.json", "chat_template.jinja")
HINTS = {  # known failures from the vendor's guide: text in the output -> what to do
    "segfault": msg("the compiler crashed (segfault): the guide's fix is pyarrow==16.0.0 in the tyllm image "
                    "(pip install pyarrow==16.0.0 in a derived image)"),
    "segmentation fault": msg("the compiler crashed (segfault): the guide's fix is pyarrow==16.0.0 in the tyllm "
                              "image"),
    "same device": msg("tensors on mixed devices: set --compile-threads 1 (COMPILE_THREAD=1)"),
    "vocab.json": msg("the checkpoint lacks vocab.json: copy it from the source model"),
}
IN, OUT = "/workspace/input", "/workspace/out"


def parse_remap(text: str | None, flag: str) -> tuple[list[int], str | None]:
    """(the 16 die numbers, or an error naming the flag); empty text means 0..15."""
    if not text:
        return list(range(REMAP_LEN)), None
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        return [], msg("{flag} takes {count} comma-separated whole numbers, not {text!r}", flag=flag, count=REMAP_LEN,
                      text=text)
    if len(values) != REMAP_LEN:
        return [], msg("{flag} needs exactly {count} entries, got {got}", flag=flag, count=REMAP_LEN, got=len(values))
    if any(not 0 <= v < REMAP_LEN for v in values):
        return [], msg("{flag} entries are die numbers from 0 to {last}", flag=flag, last=REMAP_LEN - 1)
    return values, None


def images(params: dict) -> tuple[str, str]:
    prefix = f"{params['registry'].rstrip('/')}/" if params.get("registry") else ""
    tag = params.get("image_tag") or "latest"
    return f"{prefix}tyquantize:{tag}", f"{prefix}tyllm:{tag}"


def artifacts_name(model: str, params: dict) -> str:
    return f"{model}-AOT_{params['prefill']}_{params['max_kv']}/{params['die_num']}die"


def is_vision(cfg: dict) -> bool:
    return isinstance(cfg.get("vision_config"), dict)


def compile_script(src: TargetInput, params: dict, lm: list[int], vm: list[int] | None) -> str:
    lines = [f'"""Edge10 AOT compile of {src.model.name}: written by QuantDesk, run inside the tyllm image."""',
             "from tyllm import build_and_compile_llm  # the toolchain's entry point (vendor guide)", "",
             f"LM_die_remap = {lm}"]
    lines += [f"VM_die_remap = {vm}"] if vm is not None else []
    lines += [f"assert len(LM_die_remap) == {REMAP_LEN}" + (f" and len(VM_die_remap) == {REMAP_LEN}" if vm else ""),
              "", "build_and_compile_llm(",
              f"    model_path={OUT + '/converted'!r},",
              f"    artifacts_path={OUT + '/' + artifacts_name(src.model.name, params)!r},",
              f"    max_kv_cache_size={params['max_kv']},",
              f"    seq_len_list=[1, {params['prefill']}],",
              f"    dev_count={params['die_num']},",
              "    embedding_as_input=False,",
              "    LM_die_remap=LM_die_remap,"]
    lines += ["    VM_die_remap=VM_die_remap,"] if vm is not None else []
    lines += [")", ""]
    return "\n".join(lines)


def docker_run(image: str, mounts: list[tuple[str, str, bool]], command: list[str], name: str | None = None,
               env: dict[str, str] | None = None, job_id: str | None = None) -> list[str]:
    argv = ["docker", "run", "--rm", "--gpus", "all"] + (["--name", name] if name else [])
    argv += ["--label", f"{docker.JOB_LABEL}={job_id}"] if job_id else []
    for k, v in (env or {}).items():
        argv += ["-e", f"{k}={v}"]
    for host, container, ro in mounts:
        argv += ["-v", f"{host}:{container}" + (":ro" if ro else "")]
    return argv + [image, *command]


CONVERT = ["bash", "-c", f"python checkpoint_convert.py --src {IN} --dst {OUT}/converted --quant_type awq && "
                         f"cp -n {OUT}/side_files/* {OUT}/converted/"]
COMPILE = ["python", f"{OUT}/compile_llm.py"]


class Edge10Target(Target):
    name = "edge10"
    title = "Edge10 NPU"
    summary = "the Edge10 / TyLLM NPU: checkpoint conversion and AOT compile in the vendor's Docker images"
    scripts_without_prerequisites = True

    def prerequisites(self, params: dict | None = None) -> list[CheckResult]:
        params = params or {"registry": None, "image_tag": "latest"}
        registry = (params.get("registry") or "").rstrip("/").split("/")[0] or None
        return docker.docker_checks(list(images(params)), registry)

    def check(self, src: TargetInput, params: dict, gpu: Gpu | None) -> Verdict:
        v = Verdict()
        f = src.fmt
        if f.kind != AWQ:
            v.errors.append(msg("the Edge10 toolchain converts AWQ checkpoints (--quant_type awq); this one is "
                                "{format}: quantize with --method awq first", format=f.describe()))
        elif f.version == "gemv":
            v.errors.append(msg("the converter reads AWQ GEMM checkpoints: re-quantize with --version gemm"))
        arch = (src.cfg.get("architectures") or ["?"])[0]
        if arch not in SUPPORTED:
            v.warnings.append(msg("{arch} is not on the toolchain's supported list ({archs}): the compile may fail",
                                  arch=arch, archs=", ".join(SUPPORTED)))
        if not (src.model / "config.json").is_file():
            v.errors.append(msg("config.json is missing from the model folder"))
        if not (src.model / "tokenizer.json").is_file():
            v.errors.append(msg("tokenizer.json is missing: copy it (and tokenizer_config.json) from the source model"))
        vision = is_vision(src.cfg)
        if vision and not (src.model / "preprocessor_config.json").is_file():
            v.errors.append(msg("this vision model has no preprocessor_config.json: copy it from the source model"))
        lm, err = parse_remap(params.get("die_remap"), "--die-remap")
        v.errors += [err] if err else []
        vm: list[int] | None = None
        if vision:
            vm, err = parse_remap(params.get("vm_die_remap"), "--vm-die-remap")
            v.errors += [err] if err else []
        elif params.get("vm_die_remap"):
            v.warnings.append(msg("--vm-die-remap is for vision models; this one has no vision tower, so it is not used"))
        if problem := scripts.cmd_problem(str(src.model)):
            v.errors.append(problem)
        path = str(src.model)
        if ":" in (path[2:] if scripts.is_windows_path(path) else path):
            v.errors.append(msg("{path} contains ':', which docker -v cannot mount: rename the folder", path=src.model))
        registry = params.get("registry")
        if registry is not None and not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?(/[A-Za-z0-9._\-]+)*/?", registry):
            v.errors.append(msg("--registry {registry!r} is not a registry address such as 10.0.0.1:5000",
                                registry=registry))
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}", str(params.get("image_tag") or "")):
            v.errors.append(msg("--image-tag {tag!r} is not a docker tag (letters, digits, . _ -)",
                                tag=params.get("image_tag")))
        if params["prefill"] > params["max_kv"]:
            v.errors.append(msg("--prefill {prefill} is longer than --max-kv {max_kv}: lower it", prefill=params["prefill"],
                                max_kv=params["max_kv"]))
        if params["die_num"] > REMAP_LEN:
            v.errors.append(msg("--die-num is at most {count}", count=REMAP_LEN))
        if v.errors:
            return v
        checks = self.prerequisites(params)
        missing = [c for c in checks if c.status == "fail"]
        mode = "scripts" if missing else "compile"
        if missing:
            v.notes.append(msg("this machine cannot run the vendor's images ({why}): the export writes the scripts and "
                               "docker commands to run on the GPU host", why="; ".join(c.summary for c in missing)))
        elif gpu is None:
            v.warnings.append(msg("no NVIDIA GPU detected: the compile needs one (docker run --gpus all)"))
        quant_img, llm_img = images(params)
        v.info.update(mode=mode, lm=lm, vm=vm, images=[quant_img, llm_img], vision=vision,
                      artifacts=artifacts_name(src.model.name, params),
                      command="bash run_convert.sh && bash run_compile.sh")
        return v

    def _runs(self, src: TargetInput, params: dict, out: str, windows: bool, name: str | None = None,
              job_id: str | None = None):
        """(convert argv, compile argv) with host paths for the shell the command runs in."""
        quant_img, llm_img = images(params)
        model = scripts.docker_host_path(str(src.model), windows)
        out = scripts.docker_host_path(out, windows)
        env = {"COMPILE_THREAD": str(params["compile_threads"])} if params["compile_threads"] else {}
        convert = docker_run(quant_img, [(model, IN, True), (out, OUT, False)], CONVERT,
                             name and f"{name}-convert", job_id=job_id)
        compile_ = docker_run(llm_img, [(out, OUT, False)], COMPILE, name and f"{name}-compile", env, job_id)
        return convert, compile_

    def build(self, b: BuildInputs, events: Emitter) -> dict:
        src, params, info = b.source, b.params, b.verdict.info
        events.stage("scripts", msg("writing compile_llm.py and the docker commands"))
        scripts.write_text(b.partial, "compile_llm.py", compile_script(src, params, info["lm"], info["vm"]))
        side = b.partial / "side_files"
        side.mkdir()
        for n in SIDE_FILES:
            if (src.model / n).is_file():
                shutil.copy2(src.model / n, side / n)
        if not (side / "vocab.json").exists() and (vocab := _vocab_from_tokenizer(src.model)) is not None:
            (side / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
            events.log(msg("wrote vocab.json from tokenizer.json (the compile fails without it)"))
        files = ["compile_llm.py"]
        linux_runs = self._runs(src, params, str(b.out), False)
        windows_runs = self._runs(src, params, str(b.out), True)
        for step, sh, win in zip(("convert", "compile"), linux_runs, windows_runs, strict=True):
            header = [f"QuantDesk: Edge10 {step} step for {src.model.name} (run on the GPU host with docker)."]
            scripts.write_text(b.partial, f"run_{step}.sh", scripts.sh_script(sh, header, pass_args=False),
                               executable=True)
            scripts.write_text(b.partial, f"run_{step}.cmd", scripts.cmd_native(win, header, pass_args=False))
            scripts.write_text(b.partial, f"run_{step}.ps1", scripts.ps1_native(win, header, pass_args=False))
            files += [f"run_{step}.sh", f"run_{step}.cmd", f"run_{step}.ps1"]
        command = " && ".join(f"bash {scripts.sh_quote(str(b.out / f'run_{s}.sh'))}" for s in ("convert", "compile"))
        if info["mode"] != "compile":
            return {"files": files, "command": command, "compiled": False}
        docker_bin = docker.docker_bin() or "docker"
        name = f"quantdesk-{b.job_id or b.out.name}".lower().replace(" ", "-")[:60]
        runs = self._runs(src, params, str(b.partial), False, name, b.job_id)
        for step, argv, image in zip(("convert", "compile"), runs, info["images"], strict=True):
            events.stage(step, msg("the {step} step in {image}", step=step, image=image))
            code, hint = docker.run_container([docker_bin, *argv[1:]], f"{name}-{step}", events, HINTS)
            if code != 0:
                raise JobFailure(msg("the Edge10 {step} step failed (docker exit code {code})", step=step, code=code),
                                 hint=hint or msg("see the job log for the container's output"))
        return {"files": files, "command": command, "compiled": True, "artifacts": info["artifacts"]}

    def verify(self, b: BuildInputs, events: Emitter) -> dict:
        if not b.verdict.info.get("mode") == "compile":
            return _verify_scripts(b)
        r = verify_artifacts(b.partial / b.verdict.info["artifacts"], b.params)
        return {**r, "artifacts": b.verdict.info["artifacts"]}  # relative: the folder moves into place after this


def _vocab_from_tokenizer(model: Path) -> dict | None:
    try:
        tok = json.loads((model / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    vocab = (tok.get("model") or {}).get("vocab")
    return vocab if isinstance(vocab, dict) else None


def _verify_scripts(b: BuildInputs) -> dict:
    import py_compile

    from services.targets.vllm import verify_scripts

    r = verify_scripts(b, ["run_convert.sh", "run_compile.sh"])
    try:
        py_compile.compile(str(b.partial / "compile_llm.py"), doraise=True, cfile=str(b.partial / ".pyc-check"))
    except py_compile.PyCompileError as exc:
        r["problems"].append(f"compile_llm.py: {exc.msg}")
    (b.partial / ".pyc-check").unlink(missing_ok=True)
    r.update(ok=not r["problems"], compiled=False)
    return r


def verify_artifacts(root: Path, params: dict) -> dict:
    """The artifacts tree as the guide lays it out: config.json, buffer_config.json, and for each
    batch_1/seqlen_<n> one .so and one .params per die."""
    problems = []
    if not root.is_dir():
        return {"ok": False, "compiled": True,
                "problems": [msg("no artifacts folder {name} was written", name=root.name)]}
    for n in ("config.json", "buffer_config.json"):
        if not list(root.rglob(n)):
            problems.append(msg("{name} is missing from the artifacts", name=n))
    dies = params["die_num"]
    for seqlen in (1, params["prefill"]):
        folder = root / "batch_1" / f"seqlen_{seqlen}"
        if not folder.is_dir():
            problems.append(msg("batch_1/seqlen_{seqlen} is missing", seqlen=seqlen))
            continue
        for ext in (".so", ".params"):
            found = len(list(folder.glob(f"*{ext}")))
            if found != dies:
                problems.append(msg("batch_1/seqlen_{seqlen} has {found} {ext} files for {dies} dies", seqlen=seqlen,
                                    found=found, ext=ext, dies=dies))
    return {"ok": not problems, "compiled": True, "problems": problems, "artifacts": str(root)}
