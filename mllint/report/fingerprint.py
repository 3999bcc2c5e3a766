"""GitHub code scanning's ``primaryLocationLineHash``.

A rolling hash (multiplier 37, modulo 2**64) over a 100-character window of the file with spaces
and tabs skipped, CR/CRLF read as LF, an end-of-file marker (65535) and 100 zeros flushed at the
end; each line's hash covers the 100 kept characters starting at that line's first kept
character.  The value is lower-case hex plus ``:`` and how many times that value was seen so far.
The file is processed as UTF-16 code units, as the upload action does.  Written from the
algorithm's description and checked against the action's published test vectors.
"""
from __future__ import annotations

BLOCK = 100
MASK = (1 << 64) - 1
MULT = 37
FIRST_MOD = pow(MULT, BLOCK, 1 << 64)
EOF_MARK = 65535


def _code_units(text: str):
    for ch in text:
        o = ord(ch)
        if o > 0xFFFF:
            o -= 0x10000
            yield 0xD800 + (o >> 10)
            yield 0xDC00 + (o & 0x3FF)
        else:
            yield o


def line_hashes(text: str) -> list:
    """Hash of every line (index 0 = line 1)."""
    window = [0] * BLOCK
    line_numbers = [-1] * BLOCK
    state = {"hash": 0, "index": 0}
    counts: dict = {}
    out: dict = {}
    line_number = 0
    line_start = True
    prev_cr = False

    def output() -> None:
        idx = state["index"]
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_numbers[idx]] = f"{value}:{counts[value]}"
        line_numbers[idx] = -1

    def update(current: int) -> None:
        idx = state["index"]
        begin = window[idx]
        window[idx] = current
        state["hash"] = (MULT * state["hash"] + current - FIRST_MOD * begin) & MASK
        state["index"] = (idx + 1) % BLOCK

    def process(current: int) -> None:
        nonlocal line_number, line_start, prev_cr
        if current in (32, 9) or (prev_cr and current == 10):
            prev_cr = False
            return
        if current == 13:
            current = 10
            prev_cr = True
        else:
            prev_cr = False
        if line_numbers[state["index"]] != -1:
            output()
        if line_start:
            line_start = False
            line_number += 1
            line_numbers[state["index"]] = line_number
        if current == 10:
            line_start = True
        update(current)

    for cu in _code_units(text):
        process(cu)
    process(EOF_MARK)
    for _ in range(BLOCK):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    n = max(out) if out else 0
    return [out.get(i, "") for i in range(1, n + 1)]
