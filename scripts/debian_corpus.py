#!/usr/bin/python3
"""Build a labelled text corpus from this machine's Debian package lists.

Each line of the output is `section<TAB>description`: the package's Section (archive prefixes such
as `contrib/` dropped) and its short and long English description joined, whitespace collapsed.
Only the most frequent sections are kept. Needs `apt-get update -o Acquire::Languages=en` first so
that the long descriptions (Translation-en lists) are present; without them the short descriptions
alone are used.
"""

import argparse
import collections
import glob
import re
import subprocess
import sys


def records(text):
    """Yields deb822 paragraphs as dicts; continuation lines are kept with their newlines."""
    fields, key = {}, None
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, key = {}, None
        elif line[0] in " \t" and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    if fields:
        yield fields


def long_descriptions():
    """Maps Description-md5 to the English long description, from the Translation-en lists."""
    found = {}
    for path in glob.glob("/var/lib/apt/lists/*_i18n_Translation-en*"):
        text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path],
                              check=True, capture_output=True, text=True).stdout
        for record in records(text):
            md5, description = record.get("Description-md5"), record.get("Description-en")
            if md5 and description:
                found[md5] = description
    return found


def description_text(description):
    """Short line plus long paragraphs, with the ` .` paragraph separators dropped."""
    lines = description.split("\n")
    kept = [lines[0]] + [line for line in lines[1:] if line.strip() != "."]
    return " ".join(" ".join(kept).split())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True, help="TSV file to write")
    parser.add_argument("--sections", type=int, default=20, help="keep the N most frequent")
    args = parser.parse_args()

    available = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True,
                               text=True).stdout
    translations = long_descriptions()
    documents = set()
    for record in records(available):
        section = record.get("Section", "").split("/")[-1]
        description = translations.get(record.get("Description-md5", ""),
                                       record.get("Description", ""))
        text = description_text(description)
        if section and text:
            documents.add((section, text))
    counts = collections.Counter(section for section, _ in documents)
    keep = {section for section, _ in counts.most_common(args.sections)}
    rows = sorted((s, t) for s, t in documents if s in keep)
    if len(rows) < 1000:
        sys.exit(f"only {len(rows)} package descriptions found: run "
                 "`apt-get update -o Acquire::Languages=en` first")
    with open(args.output, "w", encoding="utf-8") as out:
        for section, text in rows:
            out.write(f"{section}\t{text.replace(chr(9), ' ')}\n")
    print(f"wrote {len(rows)} descriptions in {len(keep)} sections to {args.output} "
          f"({len(translations)} long descriptions found)")


if __name__ == "__main__":
    main()
