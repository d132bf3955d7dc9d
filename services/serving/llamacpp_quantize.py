"""`python llamacpp_quantize.py SRC.gguf DST.gguf TYPE`: llama-quantize's job through the llama.cpp engine's
own library (llama_model_quantize), for the K-quants (Q4_K_M, Q5_K_M, Q6_K...) of the GGUF target.

Run as a script by the engine's Python (it imports only the standard library and llama_cpp); llama.cpp
logs its "[ i/ n] tensor" lines to stderr, which the GGUF job turns into progress.
"""
from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: llamacpp_quantize.py SRC.gguf DST.gguf TYPE", file=sys.stderr)
        return 2
    import llama_cpp

    src, dst, name = argv
    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{name.upper()}", None)
    if ftype is None:
        print(f"unknown type {name}", file=sys.stderr)
        return 2
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    code = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
    if code != 0:
        print(f"llama_model_quantize failed with {code}", file=sys.stderr)
    return 1 if code else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
