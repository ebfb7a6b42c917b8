#!/usr/bin/env python3
"""Python's own character tables, as sklearn's analyzers use them: `re`'s `\\w`, `str.isspace`,
`str.lower`, NFKD, `unicodedata.combining` and which code points are assigned, for every code
point of this interpreter's Unicode database. Standard library only, so that any Python can write
them: the golden tests compare the core's rules with them, for the Unicode version each declares.

  python3.X scripts/python_char_tables.py -o FILE.json
"""
import argparse
import json
import re
import unicodedata


def _ranges(predicate):
    out, start = [], None
    for cp in range(0x110000 + 1):
        inside = cp <= 0x10FFFF and predicate(cp)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            out.append([start, cp - 1])
            start = None
    return out


def char_tables():
    word = re.compile(r"\w")
    chars = [chr(cp) for cp in range(0x110000)]
    lower = {}
    nfkd = {}
    for cp, c in enumerate(chars):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        low = c.lower()
        if low != c:
            lower[str(cp)] = low
        decomposed = unicodedata.normalize("NFKD", c)
        if decomposed != c:
            nfkd[str(cp)] = decomposed
    return {
        "python_unicode_version": unicodedata.unidata_version,
        "word": _ranges(lambda cp: not 0xD800 <= cp <= 0xDFFF and word.match(chars[cp]) is not None),
        "space": _ranges(lambda cp: chars[cp].isspace()),
        "combining": _ranges(lambda cp: unicodedata.combining(chars[cp]) != 0),
        "assigned": _ranges(lambda cp: unicodedata.category(chars[cp]) != "Cn"),
        "lower": lower,
        "nfkd": nfkd,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(char_tables(), out, ensure_ascii=False, separators=(",", ":"))
        out.write("\n")


if __name__ == "__main__":
    main()
