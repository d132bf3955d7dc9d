"""Take secrets and personal names out of text before it leaves the machine: tokens and API keys,
passwords in URLs, the values of secret-looking variables, e-mail addresses, the user's name in
paths and the machine's name. Each replacement is counted by kind (the bundle's manifest lists them)."""
from __future__ import annotations

import getpass
import re
import socket
from collections import Counter
from dataclasses import dataclass, field

# Names that hold secrets, in any case and style: HF_TOKEN, hfToken, access-token, OPENAI_API_KEY,
# client_secret, DB_PASSWORD, passphrase... (not a tokenizer's bos_token / pad_token, nor "tokenizers")
SECRET_NAME = (r"(?!(?:bos|eos|pad|unk|sep|cls|mask)[_-]?token\b)"
               r"[A-Za-z0-9_\-]*(?:token(?!s|_?(?:hash|ids?|count|type|len)|iz)|key(?!s\b)|secret|passw(?:or)?d"
               r"|passphrase|credential)[A-Za-z0-9_\-]*")
_NAME_RE = re.compile(rf"(?i)^(?!tokeniz){SECRET_NAME}$")
# where a path starts: the start of a line, or after a space, quote, =, :, bracket or comma
_PATH_START = r"(?:^|(?<=[\s\"'=:(\[,]))"
_Q = r"(?:\\?[\"'])"  # a quote, maybe escaped (JSON inside a log line)

PATTERNS: tuple[tuple[str, re.Pattern, str], ...] = (
    # "NAME": "value" / 'NAME': 'value' / \"NAME\": \"value\" / NAME="value" / NAME: value / NAME=value
    ("secret variable", re.compile(rf"(?i)({_Q}?\b(?!tokeniz){SECRET_NAME}{_Q}?\s*[=:]\s*)({_Q})(.*?)(\2)"),
     r"\1\2[REDACTED]\4"),
    ("secret variable", re.compile(rf"(?i)(\b(?!tokeniz){SECRET_NAME}{_Q}?\s*[=:]\s*)(?![\"'\[{{\\])([^\s,;&}}\]]+)"),
     r"\1[REDACTED]"),
    ("secret variable", re.compile(r"(?i)(--(?:hf-)?(?:token|api-key|password|secret)[ =])(\S+)"), r"\1[REDACTED]"),
    ("hugging face token", re.compile(r"\bhf_[A-Za-z0-9]{20,}\b"), "[REDACTED-HF-TOKEN]"),
    ("api key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}\b"), "[REDACTED-API-KEY]"),
    ("api key", re.compile(r"\b(?:ghp|gho|github_pat|xox[baprs])_[A-Za-z0-9_]{16,}\b"), "[REDACTED-API-KEY]"),
    ("bearer token", re.compile(r"(?i)(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=\-]{8,}"), r"\1[REDACTED]"),
    # bounded repeats: a long line without spaces must not take quadratic time
    ("url password", re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]{0,30}://[^\s:/@]{1,256}:)([^\s@/]{1,256})(@)"),
     r"\1[REDACTED]\3"),
    ("e-mail", re.compile(r"\b[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"),
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
            ("user name", re.compile(r"(?:" + _PATH_START + r"|(?<=/mnt)|(?<=/var))((?:[A-Za-z]:)?[\\/]+(?:Users|home)[\\/]+)(?!<user>)"
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
        return self.data(env)

    def data(self, value):
        """JSON-like data with the values under secret-looking keys replaced, at any depth."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if _NAME_RE.match(str(k)) and not isinstance(v, dict | list):
                    out[k] = "[REDACTED]"
                    self.counts["secret variable"] += 1
                else:
                    out[k] = self.data(v)
            return out
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return self.text(value) if isinstance(value, str) else value
