"""llama.cpp's OpenAI server as QuantDesk starts it: `python -m services.serving.llamacpp_server --model F.gguf
--port P [--n-ctx N] [--alias NAME] [--extra-bufts auto|on|off]`.

Runs inside the llama.cpp engine's own environment: it imports only the standard library and
llama_cpp. Beside llama_cpp.server's routes it serves `/metrics` (the KV cells in use and the pool).
On CPUs with AMX, Q8_0/Q4_K models crash while loading when llama.cpp repacks weights into its
extra buffer types (llama.cpp issue 20824), so "auto" turns them off there.
"""
from __future__ import annotations

import argparse
import os
import sys


def has_amx(cpuinfo: str) -> bool:
    return any(flag in cpuinfo.split() for flag in ("amx_tile", "amx_int8", "amx_bf16"))


def cpu_has_amx() -> bool | None:
    """True/False from /proc/cpuinfo; None where it cannot be read (Windows, macOS)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            return has_amx(f.read())
    except OSError:
        return None


def use_extra_bufts(choice: str, amx: bool | None) -> bool:
    if choice in ("on", "off"):
        return choice == "on"
    return amx is False  # unknown CPUs too: a slower load beats a crash


def _without_extra_bufts() -> None:
    import llama_cpp.llama_cpp as c

    default = c.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    c.llama_model_default_params = params


def metrics_text() -> str:
    import llama_cpp.server.app as server_app

    proxy = getattr(server_app, "_llama_proxy", None)
    llama = getattr(proxy, "_current_model", None)
    if llama is None:
        return ""
    used, capacity = int(getattr(llama, "n_tokens", 0)), int(llama.n_ctx())
    return ("# TYPE quantdesk_kv_cache_tokens_used gauge\n"
            f"quantdesk_kv_cache_tokens_used {used}\n"
            "# TYPE quantdesk_kv_cache_tokens_capacity gauge\n"
            f"quantdesk_kv_cache_tokens_capacity {capacity}\n"
            "# TYPE quantdesk_kv_cache_usage_ratio gauge\n"
            f"quantdesk_kv_cache_usage_ratio {used / capacity if capacity else 0:.6f}\n")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="llamacpp_server")
    ap.add_argument("--model", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--alias", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--extra-bufts", choices=("auto", "on", "off"), default="auto")
    args = ap.parse_args(argv)
    amx = cpu_has_amx()
    extra = use_extra_bufts(args.extra_bufts, amx)
    print(f"quantdesk: extra buffer types {'on' if extra else 'off'} (AMX: {amx}, asked: {args.extra_bufts})",
          flush=True)
    if not extra:
        _without_extra_bufts()
    import uvicorn
    from fastapi.responses import PlainTextResponse
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    model = ModelSettings(model=args.model, model_alias=args.alias or os.path.basename(args.model),
                          n_ctx=args.n_ctx, n_threads=args.threads or max(1, (os.cpu_count() or 2) // 2),
                          verbose=True)
    # requests queue for the one model; by default a new one would cut off the one streaming
    server = ServerSettings(host=args.host, port=args.port, interrupt_requests=False)
    app = create_app(server_settings=server, model_settings=[model])
    app.add_api_route("/metrics", lambda: PlainTextResponse(metrics_text()), methods=["GET"])
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
