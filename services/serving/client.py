"""A small OpenAI-API client on the standard library: readiness, models, streamed chat with timings.
Used by the serve job and by the workbench's chat box (no torch, no Qt)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass

from services.messages import msg


@dataclass
class ChatReply:
    text: str
    ttft_s: float | None  # time to the first content token
    total_s: float
    tokens: int  # completion tokens (the server's count when it sends one, else content chunks)
    finish_reason: str | None = None

    @property
    def tokens_per_s(self) -> float | None:
        if self.ttft_s is None or self.tokens < 2 or self.total_s <= self.ttft_s:
            return None
        return (self.tokens - 1) / (self.total_s - self.ttft_s)

    def to_dict(self) -> dict:
        return {**asdict(self), "tokens_per_s": self.tokens_per_s}


class ServerError(RuntimeError):
    pass


# Greedy means no repetition penalty either: llama-cpp-python applies 1.1 unless told otherwise.
GREEDY = {"llamacpp": {"repeat_penalty": 1.0, "top_k": 1}, "vllm": {"repetition_penalty": 1.0},
          "lmdeploy": {"repetition_penalty": 1.0, "top_k": 1}}


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """(HTTP status, body); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError, ValueError):
        return 0, ""


def model_name(base: str, timeout: float = 5.0) -> str | None:
    status, body = get(base.rstrip("/") + "/v1/models", timeout)
    try:
        data = json.loads(body)["data"]
        return str(data[0]["id"]) if status == 200 and data else None
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def chat(base: str, model: str, messages: list[dict], max_tokens: int = 64, temperature: float = 0.0,
         timeout: float = 300.0, on_text: Callable[[str], None] | None = None, seed: int | None = 0,
         extra: dict | None = None, check: Callable[[], None] | None = None) -> ChatReply:
    """One streamed chat completion; `on_text` gets each piece as it arrives; `extra`: engine-specific fields;
    `check` runs at every chunk (it may raise to stop). A stream that ends without a finish reason raises."""
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
            "stream": True, "stream_options": {"include_usage": True}, **(extra or {})}
    if seed is not None:
        body["seed"] = seed
    req = urllib.request.Request(base.rstrip("/") + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    started = time.monotonic()
    first: float | None = None
    parts: list[str] = []
    chunks, usage, finish, done = 0, None, None, False
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            for raw in r:
                if check:
                    check()
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    done = True
                    break
                try:
                    data = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(data.get("usage"), dict):
                    usage = data["usage"].get("completion_tokens")
                for choice in data.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    if piece:
                        if first is None:
                            first = time.monotonic() - started
                        chunks += 1
                        parts.append(piece)
                        if on_text:
                            on_text(piece)
    except urllib.error.HTTPError as exc:
        raise ServerError(msg("the server answered {code}: {body}", code=exc.code,
                              body=exc.read().decode("utf-8", "replace")[:300])) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerError(msg("the server did not answer: {reason}", reason=exc)) from None
    if not done and finish is None:
        raise ServerError(msg("the answer stopped after {chunks} pieces without an end (the engine failed mid-answer)",
                              chunks=chunks))
    return ChatReply("".join(parts), first, time.monotonic() - started, int(usage) if usage else chunks, finish)
