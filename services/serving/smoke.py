"""The smoke test against a running server: the built-in English and Chinese prompts at temperature 0
(streamed: time to first token, tokens/s), how close the answers are to the source model's greedy
answers, N parallel requests (throughput, p50/p95 latency) and a verdict with thresholds.

Closeness is the token-sequence similarity (difflib's ratio: 2 x matching tokens / both lengths): a
greedy answer that drifts by one token early keeps the tokens it still shares, where the position-by-
position agreement (also reported, with the first differing token) counts the whole rest as wrong.
On a small model even a Q8_0 file with 1.003x the source's perplexity drifts in most 64-token answers."""
from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.evaluate.answers import agreement
from services.messages import msg
from services.serving.client import ChatReply, ServerError, chat


@dataclass(frozen=True)
class SmokeThresholds:
    agree_ok: float = 0.6  # mean similarity to the source's answers at or above this: pass
    agree_warn: float = 0.3  # at or above this: warn (read the answers); below: fail


def _messages(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def concurrency(url: str, model: str, prompts: list[str], parallel: int, max_tokens: int,
                extra: dict | None = None, check: Callable[[], None] = lambda: None) -> dict:
    """`parallel` requests at once (prompts in turn): throughput over the wall time and latency percentiles."""
    results: list[ChatReply | None] = [None] * parallel
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            reply = chat(url, model, _messages(prompts[i % len(prompts)]), max_tokens, extra=extra)
        except ServerError as exc:
            errors.append(str(exc))
            return
        if reply.tokens == 0 or reply.finish_reason is None:  # cut off by the server (another request)
            errors.append(msg("request {number} ended after {tokens} tokens without a finish reason", number=i + 1,
                              tokens=reply.tokens))
        else:
            results[i] = reply

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(parallel)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        check()  # a stop leaves the requests to die with the engine
        for t in threads:
            t.join(0.1)
    wall = time.monotonic() - started
    done = [r for r in results if r is not None]
    latency = [r.total_s for r in done]
    tokens = sum(r.tokens for r in done)
    return {"parallel": parallel, "completed": len(done), "errors": errors[:3], "wall_s": round(wall, 3),
            "tokens": tokens, "throughput_tok_s": round(tokens / wall, 2) if wall > 0 else None,
            "latency_p50_s": _r(percentile(latency, 0.5)), "latency_p95_s": _r(percentile(latency, 0.95))}


def _r(x: float | None, n: int = 3) -> float | None:
    return None if x is None else round(x, n)


def compare(texts: list[str], reference: list[str] | None, tokenize: Callable[[str], list[int]] | None) -> list[dict]:
    """Per prompt: similarity to the reference answer, position-by-position agreement, the first differing token."""
    import difflib

    out: list[dict] = []
    split = tokenize or (lambda s: [hash(w) for w in s.split()])
    for i, text in enumerate(texts):
        if reference is None or i >= len(reference):
            out.append({"similarity": None, "agreement": None, "first_divergence": None})
            continue
        ref, got = split(reference[i]), split(text)
        a = agreement(ref, got)
        sim = difflib.SequenceMatcher(a=ref, b=got, autojunk=False).ratio() if ref or got else 1.0
        out.append({"similarity": round(sim, 4), "agreement": round(a.rate, 4), "first_divergence": a.first_divergence})
    return out


# The verdict's texts by key (the workbench translates the key; {n}, {of}, {pct} are filled in).
VERDICTS = {
    "no_answers": "no answers",
    "all_empty": "every answer is empty: the model or its chat template is broken",
    "parallel_failed": "{n} of {of} parallel requests failed",
    "no_reference": "answers received, but no source model to compare with: read them",
    "agree": "answers are close to the source's greedy answers ({pct} similar)",
    "agree_some": "answers are only {pct} similar to the source's: read them before shipping",
    "agree_little": "answers are only {pct} similar to the source's: do not ship this model",
}


def verdict(report: dict, t: SmokeThresholds = SmokeThresholds()) -> tuple[str, str, dict]:
    """(level, key, args): level is "pass", "warn" or "fail"; VERDICTS[key] with args is the text."""
    answers = report.get("answers") or []
    if not answers:
        return "fail", "no_answers", {}
    empty = sum(1 for a in answers if not a["text"].strip())
    args: dict = {"empty": empty}
    if empty == len(answers):
        return "fail", "all_empty", args
    conc = report.get("concurrency") or {}
    if conc and conc.get("completed", 0) < conc.get("parallel", 0):
        return "fail", "parallel_failed", {**args, "n": conc["parallel"] - conc["completed"], "of": conc["parallel"]}
    mean = report.get("similarity_mean")
    if mean is None:
        return "warn", "no_reference", args
    args["pct"] = f"{mean:.0%}"
    if mean >= t.agree_ok and not empty:
        return "pass", "agree", args
    if mean >= t.agree_warn:
        return "warn", "agree_some", args
    return "fail", "agree_little", args


def verdict_text(key: str, args: dict) -> str:
    text = VERDICTS[key].format(**{k: args.get(k, "") for k in ("n", "of", "pct")})
    return text + (f" ({args['empty']} empty answers)" if args.get("empty") and key not in ("all_empty",) else "")


def summarize(prompts: list[str], replies: list[ChatReply], reference: list[str] | None,
              tokenize: Callable[[str], list[int]] | None, conc: dict | None) -> dict:
    agree = compare([r.text for r in replies], reference, tokenize)
    answers = [{"prompt": p, "text": r.text, "reference": reference[i] if reference and i < len(reference) else None,
                "ttft_s": _r(r.ttft_s), "tokens": r.tokens, "tokens_per_s": _r(r.tokens_per_s, 2),
                "finish_reason": r.finish_reason, **agree[i]} for i, (p, r) in enumerate(zip(prompts, replies, strict=True))]
    rates = [a["agreement"] for a in answers if a["agreement"] is not None]
    sims = [a["similarity"] for a in answers if a["similarity"] is not None]
    ttfts = [r.ttft_s for r in replies if r.ttft_s is not None]
    tps = [r.tokens_per_s for r in replies if r.tokens_per_s is not None]
    report: dict[str, Any] = {"answers": answers, "prompts": len(prompts),
              "similarity_mean": round(statistics.fmean(sims), 4) if sims else None,
              "agreement_mean": round(statistics.fmean(rates), 4) if rates else None,
              "ttft_s_median": _r(statistics.median(ttfts)) if ttfts else None,
              "tokens_per_s_median": _r(statistics.median(tps), 2) if tps else None,
              "concurrency": conc}
    report["verdict"], report["verdict_key"], report["verdict_args"] = verdict(report)
    report["verdict_text"] = verdict_text(report["verdict_key"], report["verdict_args"])
    return report
