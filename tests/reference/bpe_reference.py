#!/usr/bin/env python3
"""An independent reference BPE tokenizer for the tokenizer tests (no Hugging Face code involved).

Written from the algorithm as OpenAI's GPT-2 encoder and Hugging Face's BPE model describe it:
  byte-level: split the text on added (special) tokens, split each piece with the pre-tokenizer regex,
  map each piece's UTF-8 bytes to printable characters (GPT-2's bytes-to-unicode table), then merge the
  adjacent pair with the lowest merge rank until no ranked pair is left, and look the symbols up.
  sentencepiece-style (Llama 2 / TinyLlama): prepend U+2581 and replace spaces by it (or, as the Metaspace
  pre-tokenizer does, prepend only where the text does not start with a space), split into
  characters, characters outside the vocabulary fall back to their UTF-8 bytes as <0xXX> tokens, then
  the same merge loop over the whole text.

Commands (JSON on stdout):
  train-bytelevel CORPUS N OUT   learn N byte-level merges, write OUT/vocab.json and OUT/merges.txt
  train-sentencepiece CORPUS N OUT   the same for the SentencePiece-style layout
  encode SPEC.json               encode SPEC["texts"] (kind, vocab, merges, extra_vocab, pattern, specials: {content: id},
                                 ignore_merges, nfc); prints a list of id lists
"""
import json
import sys
import unicodedata
from collections import Counter

import regex

PATTERNS = {
    # GPT-2's pattern (OpenAI's encoder.py; Hugging Face's ByteLevel pre-tokenizer with use_regex).
    "gpt2": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    # Llama 3's (tiktoken cl100k-like): case-insensitive contractions, digits in runs of up to three.
    "llama3": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    # Qwen2's: like Llama 3's but one digit per piece.
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
}

SPACE = "\u2581"


def bytes_to_unicode():
    """Every byte gets a printable character: the printable Latin-1 bytes stand for themselves, the
    others (control characters, space, ...) are shifted to 256 + n in the order they occur."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table, shift = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + shift)
            shift += 1
    return table


BYTE_CHAR = bytes_to_unicode()


def merge(symbols, ranks):
    """Merges the lowest-ranked adjacent pair (leftmost on ties) until no ranked pair remains."""
    symbols = list(symbols)
    while len(symbols) > 1:
        best, where = None, -1
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best):
                best, where = r, i
        if best is None:
            break
        symbols[where:where + 2] = [symbols[where] + symbols[where + 1]]
    return symbols


def split_specials(text, specials):
    """Pieces of text with the added tokens cut out: [(piece, is_special)]. Longest token first."""
    if not specials:
        return [(text, False)]
    alternation = "|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True))
    out, last = [], 0
    for m in regex.finditer(alternation, text):
        if m.start() > last:
            out.append((text[last:m.start()], False))
        out.append((m.group(0), True))
        last = m.end()
    if last < len(text):
        out.append((text[last:], False))
    return out


def encode_bytelevel(text, vocab, ranks, pattern, specials, ignore_merges, nfc):
    ids = []
    for piece, special in split_specials(text, specials):
        if special:
            ids.append(vocab[piece])
            continue
        if nfc:
            piece = unicodedata.normalize("NFC", piece)
        for word in regex.findall(PATTERNS[pattern], piece):
            mapped = "".join(BYTE_CHAR[b] for b in word.encode("utf-8"))
            if ignore_merges and mapped in vocab:
                ids.append(vocab[mapped])
                continue
            ids.extend(vocab[s] for s in merge(mapped, ranks))
    return ids


def encode_sentencepiece(text, vocab, ranks, specials, metaspace=False):
    ids = []
    for piece, special in split_specials(text, specials):
        if special:
            ids.append(vocab[piece])
            continue
        if not piece:  # the Prepend normalizer leaves an empty text empty
            continue
        normalized = piece.replace(" ", SPACE)
        # The Prepend normalizer always adds U+2581; the Metaspace pre-tokenizer (prepend_scheme "first") only to
        # the text's first piece, and not when it already starts with one (a leading space).
        if not metaspace or (not normalized.startswith(SPACE) and not ids):
            normalized = SPACE + normalized
        symbols = []
        for ch in normalized:
            if ch in vocab:
                symbols.append(ch)
            else:
                symbols.extend("<0x%02X>" % b for b in ch.encode("utf-8"))
        ids.extend(vocab[s] for s in merge(symbols, ranks))
    return ids


def learn(words, n):
    """Plain BPE training: repeatedly merge the most frequent adjacent pair (ties: first seen)."""
    words = Counter({tuple(w): c for w, c in Counter(words).items()})
    merges = []
    for _ in range(n):
        pairs = Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: kv[1])[0]
        merges.append(best)
        merged = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        words = merged
    return merges


def write(out, vocab, merges):
    with open(f"{out}/vocab.json", "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(f"{out}/merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


def train_bytelevel(corpus, n, out):
    words = ["".join(BYTE_CHAR[b] for b in w.encode("utf-8")) for w in regex.findall(PATTERNS["gpt2"], corpus)]
    merges = learn(words, n)
    vocab = {BYTE_CHAR[b]: i for i, b in enumerate(sorted(BYTE_CHAR, key=lambda b: ord(BYTE_CHAR[b])))}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    write(out, vocab, merges)


def train_sentencepiece(corpus, n, out):
    # Line breaks stay out of the vocabulary (a merge must fit on a line of merges.txt): they fall back to <0x0A>.
    text = corpus.replace("\n", " ").replace(" ", SPACE)
    words = regex.findall(SPACE + r"?[^" + SPACE + "]+|" + SPACE, SPACE + text)
    # Rare characters (CJK, emoji) stay out of the vocabulary so that they exercise byte fallback.
    chars = sorted({c for c in text + SPACE if ord(c) < 0x3000})
    words = [w for w in words if all(c in chars for c in w)]
    merges = learn(words, n)
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for c in chars:
        vocab.setdefault(c, len(vocab))
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    write(out, vocab, merges)


def main():
    cmd = sys.argv[1]
    if cmd.startswith("train-"):
        corpus = open(sys.argv[2], encoding="utf-8").read()
        {"train-bytelevel": train_bytelevel, "train-sentencepiece": train_sentencepiece}[cmd](
            corpus, int(sys.argv[3]), sys.argv[4])
        return
    spec = json.load(open(sys.argv[2], encoding="utf-8"))
    vocab = json.load(open(spec["vocab"], encoding="utf-8"))
    lines = open(spec["merges"], encoding="utf-8").read().split("\n")
    pairs = [tuple(l.split(" ")) for l in lines if l and not l.startswith("#version")]
    ranks = {p: r for r, p in enumerate(pairs)}
    vocab.update(spec.get("extra_vocab", {}))  # tokens no merge leads to (what ignore_merges is for)
    specials = spec.get("specials", {})  # added tokens: content -> id
    for s, i in specials.items():
        vocab.setdefault(s, i)
    if spec["kind"].startswith("sentencepiece"):
        out = [encode_sentencepiece(t, vocab, ranks, specials, spec["kind"] == "sentencepiece-metaspace") for t in spec["texts"]]
    else:
        out = [encode_bytelevel(t, vocab, ranks, spec["pattern"], specials, spec.get("ignore_merges", False),
                                spec.get("nfc", False)) for t in spec["texts"]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
