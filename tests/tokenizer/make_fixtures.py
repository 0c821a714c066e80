#!/usr/bin/env python3
"""make_fixtures.py — parity fixtures for maskjit's tokenizer, made with the HF
`tokenizers` package (the oracle; pip install tokenizers).

Writes, under tests/data/tokenizer/ (gzip-compressed text):
  adv_<name>.txt.gz   adversarial strings (fixed seed) with their ids and decodes:
                        E <hex text> <ids> <hex decode> <hex decode skipping specials>
                      and random id sequences (partial UTF-8, specials, unknown ids):
                        D <ids> <hex decode> <hex decode skipping specials>
                      fields are tab-separated; ids space-separated.
  real_<name>.txt.gz  one line per real-data text, in the order the C test
                      enumerates them (WebQuestions *.json sorted by name, each
                      qText; then MyriadLAMA questions.jsonl, each paraphrase):
                        <fnv1a32 of the text, 8 hex> <ids> [<hex decode if != text>]
for name in llama3, qwen3 (../shared/data/tokenizers/<name>) and, when the
SmolLM2 GGUF is present under models/, smollm2: an HF tokenizer rebuilt from
the GGUF's vocabulary the way SmolLM2's tokenizer.json is written
(Digits(individual) + ByteLevel pre-tokenizer, BPE, 17 special tokens).

Usage: python3 tests/tokenizer/make_fixtures.py [--data ../shared/data] [--gguf PATH]
"""
import argparse
import glob
import gzip
import json
import os
import random
import struct
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = 20240611
N_RANDOM = 2200


def fnv1a32(b):
    h = 0x811C9DC5
    for c in b:
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def real_texts(data):
    """The real-data texts, in the C test's enumeration order."""
    out = []
    for f in sorted(glob.glob(os.path.join(data, "webquestions", "*.json"))):
        for q in json.load(open(f, encoding="utf-8")):
            out.append(q["qText"])
    with open(os.path.join(data, "myriadlama", "questions.jsonl"), encoding="utf-8") as f:
        for line in f:
            out.extend(json.loads(line)["paraphrases"])
    return out


# ---- adversarial strings ----------------------------------------------------------

WS = [" ", "  ", "\t", "\n", "\r", "\r\n", "\n\n", "\x0b", "\x0c", "\xa0", "\u1680", "\u2000", "\u2003",
      "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\x85", "\u180e", "\u200b",
      "\ufeff", " \t ", "\r\r\n", " \n ", "\t\t\n"]
EMOJI = ["😀", "👍", "👍🏽", "👍🏿", "👨‍👩‍👧‍👦", "👩🏾‍💻", "🏳️‍🌈", "🇯🇵", "🇺🇸🇬🇧", "1️⃣", "❤️", "🤷‍♀️", "🧑🏻‍🤝‍🧑🏿",
         "😂😂😂", "🐍", "🦀", "☕", "⚡", "👁️‍🗨️", "🫠", "🫶🏼"]
CJK = ["中文", "日本語", "漢字", "こんにちは", "カタカナ", "ｶﾀｶﾅ", "한국어", "안녕하세요", "你好，世界！", "東京タワー",
       "〇一二三", "𠀀𠀁", "𪜀", "龍龘", "「引用」", "。、・"]
HANGUL = ["\u1100\u1161\u11a8", "\u1112\u1161\u11ab", "각", "\u1100\u1161", "ᄀ", "ᅡ", "ᆨ", "한글"]
COMBINING = ["e\u0301", "a\u0308", "o\u0302\u0323", "\u0301", "n\u0303", "A\u030a", "\u212b", "\u2126",
             "c\u0327", "x\u0300\u0301\u0302\u0303", "\u1e9b\u0323", "i\u0307", "\u0915\u093c",
             "\u0627\u0653", "\u05d1\u05bc", "Z\u0335\u0336\u0337", "é", "Å", "ﬁ", "ǅ", "Ⅻ"]
RTL = ["مرحبا بالعالم", "שלום עולם", "\u200f", "\u200e", "\u202e", "abc\u202edef", "العربية123",
       "עִבְרִית", "پارسی"]
OTHER = ["Привет мир", "Ελληνικά", "देवनागरी", "ภาษาไทย", "ქართული", "Հայերեն", "ᚠᚢᚦ", "∀x∈ℝ: x²≥0",
         "½ ¾ ⅓", "²³¹", "١٢٣٤٥", "１２３", "۱۲۳", "०१२", "Ⅰ Ⅱ Ⅲ", "\u2160\u2161", "©®™", "€$¥£",
         "\U00011f00\U00011f01", "\U0001e4d0\U0001e4d1", "\U00031350", "\ue000\uf8ff", "\U000f0000",
         "\u0378", "\ufffd", "\ufffe", "\x00", "\x01\x02\x1f", "\x7f", "\u00ad", "ſ", "ß", "İ", "ı", "K",
         "ǰ", "ΐ", "ﬀ", "\u0345"]
SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
           "<|reserved_special_token_0|>", "<|reserved_special_token_250|>", "<|im_start|>", "<|im_end|>",
           "<|endoftext|>", "<think>", "</think>", "<tool_call>", "<|im_start", "<|im_start|", "im_start|>",
           "<|<|im_start|>", "<|im_start|><|im_end|>", "<||>", "<|begin_of_text|", "<repo_name>", "<file_sep>",
           "<|fim_prefix|>", "<|vision_start|>"]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
WORDS = ["the", "The", "THE", "hello", "world", "don", "it", "we", "they", "I", "you", "a", "quick",
         "brown", "fox", "Paris", "capital", "of", "France", "tokenizer", "maskjit", "x", "Z", "_",
         "foo_bar", "camelCase", "HTTPServer", "naïve", "café", "résumé", "über", "São", "Zürich"]
PUNCT = list(".,;:!?'\"()[]{}<>/\\|@#$%^&*-_+=~`") + ["...", "--", "—", "–", "’", "‘", "“", "”", "«»", "…",
                                                      "''", "\"'", "'''", "!!", "?!", "->", "=>", "::"]


def contraction_case(rng, c):
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in c)


def digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def piece(rng):
    k = rng.random()
    if k < 0.22:
        return rng.choice(WORDS)
    if k < 0.32:
        return rng.choice(WS)
    if k < 0.40:
        return rng.choice(PUNCT)
    if k < 0.46:
        return digits(rng, rng.randint(1, 12))
    if k < 0.52:
        return rng.choice(EMOJI)
    if k < 0.58:
        return rng.choice(CJK + HANGUL)
    if k < 0.64:
        return rng.choice(COMBINING)
    if k < 0.69:
        return rng.choice(RTL)
    if k < 0.75:
        return rng.choice(OTHER)
    if k < 0.81:
        return rng.choice(SPECIAL)
    if k < 0.88:
        return rng.choice(WORDS) + contraction_case(rng, rng.choice(CONTRACTIONS))
    if k < 0.94:
        return chr(rng.randint(0x20, 0x2FFF))
    cp = rng.randint(0x80, 0x10FFFF)
    return chr(cp) if not 0xD800 <= cp <= 0xDFFF else "?"


def adversarial(data):
    rng = random.Random(SEED)
    out = []
    # every listed item alone, and embedded between words
    for lst in (WS, EMOJI, CJK, HANGUL, COMBINING, RTL, OTHER, SPECIAL, PUNCT):
        for s in lst:
            out += [s, "a" + s + "b", " " + s + " ", "x" + s, s + s]
    for c in CONTRACTIONS:
        for cased in {c, c.upper(), c.capitalize(), c.swapcase(), "'" + c[1:].upper()}:
            out += [cased, "it" + cased, "It" + cased + " go", " " + cased, "x " + cased + "y", cased + cased,
                    "’" + cased[1:], "they" + cased + "n't"]
    # where Oniguruma and PCRE2 disagree on \s (U+180E, U+0085)
    for w in ("\u180e", "\x85"):
        out += ["a %s b" % w, " %s%s x" % (w, w), "x%s\n" % w, w * 5 + "y", "!%s %s" % (w, w), "%s " % w,
                " %s" % w, "%s\t%s" % (w, w), "x  %s" % w, "%s  x" % w]
    for n in (1, 2, 3, 4, 5, 6, 7, 10, 31, 100, 257, 1000):
        out += [digits(rng, n), "a" + digits(rng, n) + "b", " " + digits(rng, n), "x" * 3 + "1" * n]
    for w in WS:
        for n in (2, 3, 7, 33, 300):
            out += [w * n, "a" + w * n + "b", w * n + "x", "x" + w * n]
    long_words = ["a" * 5000, "ab" * 1500, "Supercalifragilisticexpialidocious" * 40,
                  "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4000)),
                  "é" * 1000, "中" * 2000, "😀" * 500, "!" * 3000, "_" * 2500, "-=" * 800,
                  " " + "x" * 70, "x" * 63, "x" * 64, "x" * 65, "xy" * 33, "ab" * 40 + "'s"]
    out += long_words
    # the prompt shape the study uses
    prefix_path = os.path.join(data, "myriadlama", "few_shot_prefix.txt")
    prefix = open(prefix_path, encoding="utf-8").read() if os.path.exists(prefix_path) else "Answer:\n"
    for q in ("David Gates is a [MASK] player.", "What is the capital of France? [MASK]."):
        out.append(prefix + "Q: " + q + "\nA:")
    out += ["<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "", " ", "\n"]
    # random mixtures
    for _ in range(N_RANDOM):
        out.append("".join(piece(rng) for _ in range(rng.randint(1, 24))))
    seen, uniq = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


def bytes_to_unicode():
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def random_id_seqs(tok, rng, count=600):
    b2u = bytes_to_unicode()
    byte_ids = [tok.token_to_id(b2u[b]) for b in range(256)]
    byte_ids = [i if i is not None else tok.token_to_id("a") for i in byte_ids]   # SmolLM2 lacks a few
    vocab = tok.get_vocab_size(with_added_tokens=True)
    specials = [tok.token_to_id(s) for s in SPECIAL if tok.token_to_id(s) is not None]
    seqs = []
    for _ in range(count):
        seq = []
        for _ in range(rng.randint(1, 16)):
            k = rng.random()
            if k < 0.45:
                seq.append(byte_ids[rng.randint(0x80, 0xFF)])
            elif k < 0.6:
                seq.append(byte_ids[rng.randint(0, 0x7F)])
            elif k < 0.85:
                seq.append(rng.randrange(vocab))
            elif k < 0.95 and specials:
                seq.append(rng.choice(specials))
            else:
                seq.append(vocab + rng.randrange(1000))   # unknown ids are dropped
        seqs.append(seq)
    return seqs


def hx(s):
    return s.encode("utf-8").hex()


def write_adv(tok, name, strings, outdir):
    rng = random.Random(SEED + 1)
    lines = []
    for s in strings:
        ids = tok.encode(s, add_special_tokens=False).ids
        d0 = tok.decode(ids, skip_special_tokens=False)
        d1 = tok.decode(ids, skip_special_tokens=True)
        lines.append("E\t%s\t%s\t%s\t%s" % (hx(s), " ".join(map(str, ids)), hx(d0), hx(d1)))
    for seq in random_id_seqs(tok, rng):
        d0 = tok.decode(seq, skip_special_tokens=False)
        d1 = tok.decode(seq, skip_special_tokens=True)
        lines.append("D\t%s\t%s\t%s" % (" ".join(map(str, seq)), hx(d0), hx(d1)))
    path = os.path.join(outdir, "adv_%s.txt.gz" % name)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode())
    return len(strings)


def write_real(tok, name, texts, outdir):
    lines = []
    for s in texts:
        ids = tok.encode(s, add_special_tokens=False).ids
        d = tok.decode(ids, skip_special_tokens=False)
        line = "%08x\t%s" % (fnv1a32(s.encode("utf-8")), " ".join(map(str, ids)))
        if d != s:
            line += "\t" + hx(d)
        lines.append(line)
    path = os.path.join(outdir, "real_%s.txt.gz" % name)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode())


# ---- SmolLM2 from its GGUF ------------------------------------------------------------

def gguf_metadata(path):
    """Key/value metadata of a GGUF file (arrays as lists)."""
    with open(path, "rb") as f:
        buf = f.read(64 << 20)
    off = 0

    def rd(fmt):
        nonlocal off
        v = struct.unpack_from("<" + fmt, buf, off)
        off += struct.calcsize("<" + fmt)
        return v[0]

    def rstr():
        nonlocal off
        n = rd("Q")
        v = buf[off:off + n].decode("utf-8", "surrogateescape")
        off += n
        return v

    fmts = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def val(t):
        if t == 8:
            return rstr()
        if t == 9:
            et, n = rd("I"), rd("Q")
            return [val(et) for _ in range(n)]
        return rd(fmts[t])

    assert buf[:4] == b"GGUF"
    off = 4
    rd("I")
    rd("Q")
    nk = rd("Q")
    meta = {}
    for _ in range(nk):
        k = rstr()
        meta[k] = val(rd("I"))
    return meta


def smollm2_tokenizer(gguf):
    m = gguf_metadata(gguf)
    toks, types = m["tokenizer.ggml.tokens"], m["tokenizer.ggml.token_type"]
    merges = [tuple(x.split(" ", 1)) for x in m["tokenizer.ggml.merges"]]
    bpe = models.BPE(vocab={t: i for i, t in enumerate(toks)}, merges=merges)
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(toks, types) if ty == 3])
    return tok


# ---- toy tokenizers: the HF features Llama 3 / Qwen3 do not use --------------------------

def toy_tokenizers(outdir, strings):
    """Small BPE tokenizers (trained once, then reused from the committed
    tokenizer.json) exercising NFKC, ByteLevel add_prefix_space with and
    without its regex, Split Removed, Digits, TemplateProcessing BOS and added
    tokens with lstrip / rstrip / single_word / normalized."""
    out = {}
    for name in ("toy", "toy2"):
        d = os.path.join(outdir, name)
        path = os.path.join(d, "tokenizer.json")
        if not os.path.exists(path):
            os.makedirs(d, exist_ok=True)
            tok = Tokenizer(models.BPE())
            if name == "toy":
                tok.normalizer = normalizers.NFKC()
                tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
            else:
                tok.pre_tokenizer = pre_tokenizers.Sequence([
                    pre_tokenizers.Split(pattern="|", behavior="removed"),
                    pre_tokenizers.Digits(individual_digits=False),
                    pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)])
            tok.decoder = decoders.ByteLevel()
            trainer = trainers.BpeTrainer(vocab_size=700, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                          special_tokens=["<s>", "</s>"], show_progress=False)
            corpus = [x for x in strings if len(x) < 400] * 2 + real_texts_sample()
            tok.train_from_iterator(corpus, trainer)
            tok.add_tokens([AddedToken("[MASK]", lstrip=True, normalized=False, special=True),
                            AddedToken("<sep>", rstrip=True, normalized=False, special=True),
                            AddedToken("<both>", lstrip=True, rstrip=True, normalized=False),
                            AddedToken("hello", single_word=True, normalized=True),
                            AddedToken("ｆｕｌｌ", normalized=True),
                            AddedToken("<raw>", normalized=False)])
            tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
            tok.save(path)
        out[name] = Tokenizer.from_file(path)
    return out


def real_texts_sample():
    return ["What is the capital of France? [MASK].", "hello world, hello<sep>there", "ﬁne ｆｕｌｌ width 123456",
            "Straße ½ ² Ⅻ", "ohello hello_ hello! [MASK] x<both>y"] * 20


TOY_EXTRA = ["hello", "hello world", "ohello", "hello_x", "hellohello", "say hello!", " hello ", "HELLO hello",
             "[MASK]", "a [MASK]", "a   [MASK] b", "\t[MASK]", "x[MASK][MASK]", "<sep>", "a<sep>   b", "<sep>\n\nx",
             "x <both> y", "x<both>y", "  <both>  ", "ｆｕｌｌ", "full", "a ｆｕｌｌ b", "ﬁ", "<raw>", " <raw> ",
             "1|2|3", "a||b", "|", "x 12345 y", "①②", "ｈｅｌｌｏ", "ｈｅｌｌｏ world", "hello\u00a0world",
             "[MASK]hello", "hello[MASK]", "<s>hi</s>", " leading", "trailing ", "  ", "\u3000x"]


# ---- synthetic GGUF files: the GGUF loader without the SmolLM2 download ----------------

RE_QWEN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
           r"\s*[\r\n]+|\s+(?!\S)|\s+")
RE_LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
             r"\s*[\r\n]+|\s+(?!\S)|\s+")


def write_gguf(path, kv):
    """A GGUF v3 file with metadata KV [(key, type, value)] and no tensors."""
    def s(x):
        b = x.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    def val(t, v):
        if t == 8:
            return s(v)
        if t == 9:
            et, items = v
            return struct.pack("<IQ", et, len(items)) + b"".join(val(et, x) for x in items)
        return struct.pack({4: "<I", 5: "<i", 7: "<?"}[t], v)

    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv))
    for k, t, v in kv:
        out += s(k) + struct.pack("<I", t) + val(t, v)
    out += b"\0" * (-len(out) % 32)
    with open(path, "wb") as f:
        f.write(out)


def toy_gguf_tokenizers(outdir):
    """GGUF files holding the toy vocabulary under three llama.cpp pre-tokenizer
    names, and HF tokenizers configured as those model families' tokenizer.json."""
    d = json.load(open(os.path.join(outdir, "toy", "tokenizer.json"), encoding="utf-8"))
    vocab = dict(d["model"]["vocab"])
    merges = [m if isinstance(m, str) else " ".join(m) for m in d["model"]["merges"]]
    kinds = {}
    for a in d["added_tokens"]:
        vocab[a["content"]] = a["id"]
        kinds[a["id"]] = 3 if a["special"] else 4
    toks = [None] * (max(vocab.values()) + 1)
    for t, i in vocab.items():
        toks[i] = t
    types = [kinds.get(i, 1) for i in range(len(toks))]
    out = {}
    for pre in ("qwen2", "llama-bpe", "smollm"):
        path = os.path.join(outdir, "toy_%s.gguf" % pre)
        write_gguf(path, [("general.architecture", 8, "llama"), ("tokenizer.ggml.model", 8, "gpt2"),
                          ("tokenizer.ggml.pre", 8, pre), ("tokenizer.ggml.tokens", 9, (8, toks)),
                          ("tokenizer.ggml.token_type", 9, (5, types)), ("tokenizer.ggml.merges", 9, (8, merges)),
                          ("tokenizer.ggml.bos_token_id", 4, 0), ("tokenizer.ggml.eos_token_id", 4, 1)])
        bpe = models.BPE(vocab={t: i for i, t in enumerate(toks)}, merges=[tuple(m.split(" ", 1)) for m in merges],
                         ignore_merges=(pre == "llama-bpe"))
        tok = Tokenizer(bpe)
        if pre == "smollm":
            tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                         pre_tokenizers.ByteLevel(add_prefix_space=False)])
        else:
            if pre == "qwen2":
                tok.normalizer = normalizers.NFC()
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(RE_QWEN if pre == "qwen2" else RE_LLAMA3), "isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        tok.decoder = decoders.ByteLevel()
        tok.add_tokens([AddedToken(toks[i], special=(types[i] == 3), normalized=False)
                        for i in range(len(toks)) if types[i] in (3, 4)])
        out["gguf_" + pre] = tok
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--gguf", default=os.path.join(ROOT, "models", "smollm2-135m-instruct",
                                                   "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "tokenizer"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    strings = adversarial(a.data)
    texts = real_texts(a.data)
    toks = {n: Tokenizer.from_file(os.path.join(a.data, "tokenizers", n, "tokenizer.json"))
            for n in ("llama3", "qwen3")}
    strings_toy = strings + TOY_EXTRA
    toys = toy_tokenizers(a.out, strings)
    if os.path.exists(a.gguf):
        toks["smollm2"] = smollm2_tokenizer(a.gguf)
    else:
        print("no SmolLM2 GGUF at %s: skipping its fixtures" % a.gguf, file=sys.stderr)
    for name, tok in toks.items():
        n = write_adv(tok, name, strings, a.out)
        write_real(tok, name, texts, a.out)
        print("%s: %d adversarial strings, %d real texts" % (name, n, len(texts)))
    for name, tok in toys.items():
        n = write_adv(tok, name, strings_toy, a.out)
        print("%s: %d adversarial strings" % (name, n))
    for name, tok in toy_gguf_tokenizers(a.out).items():
        n = write_adv(tok, name, strings_toy[::2], a.out)
        print("%s: %d adversarial strings" % (name, n))


if __name__ == "__main__":
    main()
