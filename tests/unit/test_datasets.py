"""Calibration sources from files the tests write: formats, encodings, sampling, bad inputs (offline)."""
import json
import time

import pytest

from services.datasets.errors import DatasetError
from services.datasets.preview import preview
from services.datasets.sampling import CalibrationSpec, build_samples, token_hash
from services.datasets.source import collect_texts

ZH = "量化模型需要有代表性的校准文本。这是第二句话，用来测试中文编码。"
EN = "Return a new dictionary initialized from an optional positional argument and keyword arguments."


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def texts_of(path, **kw):
    texts, info, _ = collect_texts(str(path), **kw)
    return texts, info


def test_txt_blocks_and_lines(tmp_path):
    p = write(tmp_path / "a b.txt", f"{EN}\nsecond line\n\n\n{ZH}\n")
    texts, info = texts_of(p)
    assert texts == [f"{EN}\nsecond line", ZH] and info.encoding == "utf-8"
    texts, _ = texts_of(p, split="lines")
    assert texts == [EN, "second line", ZH]


@pytest.mark.parametrize("encoding,expected", [("gbk", "gb18030"), ("gb18030", "gb18030"), ("utf-16", "utf-16"),
                                               ("utf-16-le", "utf-16-le"), ("utf-8-sig", "utf-8-sig")])
def test_encodings_are_detected_and_reported(tmp_path, encoding, expected):
    p = write(tmp_path / "中文.txt", f"{ZH}\n\n{EN}\n", encoding)
    texts, info = texts_of(p)
    assert texts == [ZH, EN]
    assert info.encoding == expected


def test_jsonl_field_and_chat_messages(tmp_path):
    p = tmp_path / "d.jsonl"
    rows = [{"id": 1, "text": EN}, {"id": 2, "text": ZH}]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert texts_of(p)[0] == [EN, ZH]
    with pytest.raises(DatasetError, match=r"no field 'body'; fields: id, text"):
        texts_of(p, field="body")
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"messages": [{"role": "user", "content": "你好"},
                                             {"role": "assistant", "content": "Hello"}]}), encoding="utf-8")
    assert texts_of(chat)[0] == ["user: 你好\nassistant: Hello"]


def test_json_csv_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "d.json").write_text(json.dumps({"data": [{"content": EN}, {"content": ZH}]}), encoding="utf-8")
    assert texts_of(tmp_path / "d.json")[0] == [EN, ZH]
    write(tmp_path / "d.csv", f"id,article\n1,\"{EN}\"\n2,{ZH}\n", "gbk")
    texts, info = texts_of(tmp_path / "d.csv")
    assert texts == [EN, ZH] and info.field == "article" and info.encoding == "gb18030"
    pq.write_table(pa.table({"n": [1, 2], "text": [EN, ZH]}), tmp_path / "d.parquet")
    texts, info = texts_of(tmp_path / "d.parquet")
    assert texts == [EN, ZH] and info.field == "text"
    pq.write_table(pa.table({"n": [1, 2], "score": [0.5, 0.7]}), tmp_path / "numbers.parquet")
    with pytest.raises(DatasetError, match="no text columns"):
        texts_of(tmp_path / "numbers.parquet")


def test_folder_of_files_and_saved_dataset(tmp_path):
    folder = tmp_path / "语料 folder"
    folder.mkdir()
    write(folder / "a.txt", EN)
    write(folder / "b.jsonl", json.dumps({"text": ZH}, ensure_ascii=False))
    write(folder / "ignore.bin", "x")
    texts, info = texts_of(folder)
    assert texts == [EN, ZH] and info.files == 2

    import datasets

    saved = tmp_path / "saved"
    datasets.Dataset.from_dict({"text": [EN, ZH, ""]}).save_to_disk(str(saved))
    texts, info = texts_of(saved)
    assert texts == [EN, ZH] and info.encoding == "saved dataset"


@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"   \n\n \t\n", "only whitespace"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "looks binary"),
    (b"caf\xe9 cr\xe8me br\xfbl\xe9e \xff\xfe garbage", "unknown text encoding"),
])
def test_bad_files_get_one_line_errors(tmp_path, content, message):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as exc:
        texts_of(p)
    assert "\n" not in str(exc.value)


def test_bad_paths(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="has no .txt"):
        texts_of(tmp_path / "empty")
    with pytest.raises(DatasetError, match="does not exist"):
        texts_of(tmp_path / "missing.txt")
    write(tmp_path / "x.docx", "x")
    with pytest.raises(DatasetError, match="unsupported file type .docx"):
        texts_of(tmp_path / "x.docx")
    write(tmp_path / "bad.jsonl", '{"text": "ok"}\n{broken\n')
    with pytest.raises(DatasetError, match="line 2 is not valid JSON"):
        texts_of(tmp_path / "bad.jsonl")


def test_big_file_is_streamed_not_loaded(tmp_path):
    p = tmp_path / "big.txt"
    block = (EN + "\n\n") * 1000
    with open(p, "w", encoding="utf-8") as f:
        for _ in range(300):  # ~29 MB
            f.write(block)
    t0 = time.monotonic()
    texts, info, limited = collect_texts(str(p), max_texts=2000)
    assert limited and len(texts) == 2000
    assert time.monotonic() - t0 < 2.0  # stopped at the limit instead of reading 29 MB


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_tokenizer))


def corpus(n=40):
    from tests.tinymodels import stdlib_docstrings

    return stdlib_docstrings()[:n]


def test_concat_mode_cuts_fixed_blocks(tokenizer):
    spec = CalibrationSpec(source="-", samples=8, seqlen=64, mode="concat")
    cal = build_samples(corpus(), tokenizer, spec)
    assert len(cal.ids) == 8 and all(len(s) == 64 for s in cal.ids)
    assert cal.samples_available == (cal.total_tokens + len(corpus())) // 64  # EOS between texts


def test_truncate_mode_takes_one_text_per_sample(tokenizer):
    texts = corpus()
    spec = CalibrationSpec(source="-", samples=500, seqlen=64, mode="truncate")
    cal = build_samples(texts, tokenizer, spec)
    long_enough = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) >= 64 for t in texts)
    assert cal.samples_available == long_enough == len(cal.ids)
    assert all(len(s) == 64 for s in cal.ids)
    assert "gives only" in cal.warnings[0]


def test_same_seed_same_tokens_other_seed_other_tokens(tokenizer):
    spec = CalibrationSpec(source="-", samples=4, seqlen=32, seed=7)
    a = build_samples(corpus(), tokenizer, spec).token_hash
    b = build_samples(corpus(), tokenizer, spec).token_hash
    spec.seed = 8
    c = build_samples(corpus(), tokenizer, spec).token_hash
    assert a == b != c
    assert token_hash([[1, 2], [3]]) != token_hash([[1], [2, 3]])


def test_fewer_tokens_than_one_sample(tokenizer):
    with pytest.raises(DatasetError, match="fewer tokens than one sample"):
        build_samples(["short text"], tokenizer, CalibrationSpec(source="-", seqlen=512))


def test_preview_document(tmp_path, tiny_tokenizer):
    blocks = [t.replace("\n\n", "\n") for t in corpus(30)] + [ZH]
    p = write(tmp_path / "mix.txt", "\n\n".join(blocks))
    doc = preview(CalibrationSpec(source=str(p), samples=4, seqlen=32), str(tiny_tokenizer))
    assert doc["texts"] == 31 and doc["encoding"] == "utf-8"
    assert 0 < doc["cjk_share"] < 0.2
    assert doc["samples"] == 4 and doc["samples_available"] >= 4 and len(doc["token_hash"]) == 64
    q = doc["tokens"]["quantiles"]
    assert q["p0"] <= q["p50"] <= q["p100"]
    assert sum(doc["tokens"]["histogram"]["counts"]) == 31
    json.dumps(doc, ensure_ascii=False)


def test_hub_name_without_network_fails_fast_and_names_fallbacks(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")
    t0 = time.monotonic()
    with pytest.raises(DatasetError) as exc:
        collect_texts("wikitext2")
    elapsed = time.monotonic() - t0
    msg = str(exc.value)
    assert elapsed < 20
    assert "unreachable" in msg or "offline" in msg
    assert "local .txt/.jsonl/.parquet/.csv" in msg and "HF_ENDPOINT" in msg and "modelscope/wikitext" in msg


def test_offline_mode_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetError, match="offline mode is on"):
        collect_texts("pileval")
    with pytest.raises(DatasetError, match="unknown dataset|does not exist"):
        collect_texts("pilevall")
