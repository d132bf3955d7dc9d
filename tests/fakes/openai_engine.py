"""A FAKE serving engine for tests: a small real HTTP server on 127.0.0.1 that speaks the parts of the
OpenAI API QuantDesk uses (/health, /v1/models, streamed /v1/chat/completions, /metrics).

Started as `python openai_engine.py ARGS...` in place of vLLM or LMDeploy; it takes the port from
--port or --server-port and the name from --served-model-name or --model-name. FAKE_ENGINE_MODE:
ok (default), oom (prints a CUDA out-of-memory error and exits), hang (never ready), die (exits 1 s
after it is ready), cut (every answer stops after two pieces, without an end). FAKE_READY_S delays readiness; FAKE_ANSWER=garbled answers differently.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _arg(argv: list[str], *names: str, default: str | None = None) -> str | None:
    for i, a in enumerate(argv[:-1]):
        if a in names:
            return argv[i + 1]
    return default


def answer(prompt: str) -> list[str]:
    if os.environ.get("FAKE_ANSWER") == "garbled":
        return [f"zz{i} " for i in range(8)]
    return [w + " " for w in f"you asked: {prompt}".split()][:12]


def main(argv: list[str]) -> int:
    mode = os.environ.get("FAKE_ENGINE_MODE", "ok")
    port = int(_arg(argv, "--port", "--server-port") or 8000)
    name = _arg(argv, "--served-model-name", "--model-name", default="fake")
    print(f"fake engine starting: {' '.join(argv)}", flush=True)
    if mode == "oom":
        print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", flush=True)
        return 1
    ready_at = time.monotonic() + float(os.environ.get("FAKE_READY_S", "0.3"))
    requests = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            print("request", self.requestline, flush=True)

        def _send(self, code: int, body: str, kind: str = "application/json") -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            ready = mode != "hang" and time.monotonic() >= ready_at
            if self.path == "/health":
                self._send(200 if ready else 503, "{}")
            elif self.path == "/v1/models":
                self._send(200 if ready else 503, json.dumps({"data": [{"id": name}]}))
            elif self.path == "/metrics":
                usage = min(1.0, requests["n"] / 20)
                self._send(200, f'vllm:kv_cache_usage_perc {usage}\n'
                                f'vllm:cache_config_info{{block_size="16",num_gpu_blocks="100"}} 1.0\n', "text/plain")
            else:
                self._send(404, "{}")

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            requests["n"] += 1
            prompt = body["messages"][-1]["content"]
            words = answer(prompt)[: int(body.get("max_tokens") or 16)]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for w in words[:2] if mode == "cut" else words:
                chunk = {"choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.002)
            if mode == "cut":
                print("ValueError: could not broadcast input array from shape (16,) into shape (0,)", flush=True)
                return
            end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"completion_tokens": len(words)}}
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if mode == "die":
        def die():
            while time.monotonic() < ready_at + 1:
                time.sleep(0.05)
            print("fake engine: worker died", flush=True)
            os._exit(1)
        threading.Thread(target=die, daemon=True).start()
    print(f"fake engine listening on {port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
