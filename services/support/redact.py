"""Take secrets and personal names out of text before it leaves the machine: tokens and API keys,
passwords in URLs, the values of secret-looking variables, e-mail addresses, the user's name in
paths and the machine's name. Each replacement is counted by kind (the bundle's manifest lists them)."""
from __future__ import annotations

import getpass
import re
import socket
from collections import Counter
from dataclasses import dataclass, field

# Variable names that hold secrets: HF_TOKEN, OPENAI_API_KEY, DB_PASSWORD, api_key, access_token...
# (not a tokenizer's bos_token / pad_token, nor words such as "tokenizers")
SECRET_NAME = (r"(?!(?:bos|eos|pad|unk|sep|cls|mask)_token\b)"
               r"(?:[A-Z0-9_]*(?:TOKEN|KEY|SECRET|PASSWORD|PASSWD)[A-Z0-9_]*"
               r"|[a-z0-9_]*(?:_token|_key|_secret|password|passwd)|token|secret|apikey)")
# where a path starts: the start of a line, or after a space, quote, =, :, bracket or comma
_PATH_START = r"(?:^|(?<=[\s\"'=:(\[,]))"

PATTERNS: tuple[tuple[str, re.Pattern, str], ...] = (
    # "NAME": "value" (JSON) and NAME=value / NAME: value (env files, logs), for secret-looking names
    ("secret variable", re.compile(rf'("{SECRET_NAME}"\s*:\s*")([^"]*)(")'), r"\1[REDACTED]\3"),
    ("secret variable", re.compile(rf"(\b{SECRET_NAME}\s*[=:]\s*)(?![\"\[])([^\s,;&]+)"), r"\1[REDACTED]"),
    ("hugging face token", re.compile(r"\bhf_[A-Za-z0-9]{20,}\b"), "[REDACTED-HF-TOKEN]"),
    ("api key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}\b"), "[REDACTED-API-KEY]"),
    ("api key", re.compile(r"\b(?:ghp|gho|github_pat|xox[baprs])_[A-Za-z0-9_]{16,}\b"), "[REDACTED-API-KEY]"),
    ("bearer token", re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=\-]{8,}", re.IGNORECASE), r"\1[REDACTED]"),
    ("url password", re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:)([^\s@/]+)(@)", re.IGNORECASE),
     r"\1[REDACTED]\3"),
    ("e-mail", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"),
     "[REDACTED-EMAIL]"),
)


@dataclass
class Redactor:
    """Redacts text; `counts` says how many of each kind it replaced so far."""
    user: str | None = None
    host: str | None = None
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.user is None:
            try:
                self.user = getpass.getuser()
            except (KeyError, OSError):  # no user name in this environment
                self.user = ""
        if self.host is None:
            self.host = socket.gethostname()
        names: list[tuple[str, re.Pattern, str]] = [
            # the folder after Users/home: with spaces when a separator follows, else up to a space
            ("user name", re.compile(_PATH_START + r"((?:[A-Za-z]:)?[\\/]+(?:Users|home)[\\/]+)(?!<user>)"
                                     r"([^\\/\n\"']+?(?=[\\/])|[^\\/\s\"']+)", re.IGNORECASE | re.MULTILINE),
             r"\1<user>")]
        if self.user and len(self.user) >= 3 and self.user.lower() not in ("root", "user", "admin"):
            names.append(("user name", re.compile(rf"\b{re.escape(self.user)}\b", re.IGNORECASE), "<user>"))
        if self.host and len(self.host) >= 3 and self.host.lower() != "localhost":
            names.append(("machine name", re.compile(rf"\b{re.escape(self.host)}\b", re.IGNORECASE), "<machine>"))
        self._patterns = (*PATTERNS, *names)

    def text(self, value: str) -> str:
        for kind, pattern, repl in self._patterns:
            value, n = pattern.subn(repl, value)
            if n:
                self.counts[kind] += n
        return value

    def environment(self, env: dict) -> dict:
        """An environment mapping with secret-looking values replaced (names kept)."""
        out = {}
        for k, v in env.items():
            if re.fullmatch(SECRET_NAME, str(k)):
                out[k] = "[REDACTED]"
                self.counts["secret variable"] += 1
            else:
                out[k] = self.text(str(v))
        return out
