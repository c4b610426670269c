#!/usr/bin/env python3
"""Writes the ABI header of a simulated next minor version: today's header with the minor version
one higher and a trailing field appended to every sized struct (every struct that begins with
`uint32_t struct_size`), as a real next minor appends fields. The ABI matrix builds a host and a
plugin against it, to check that today's host and plugin get along with them.

    next_minor_header.py IN_HEADER OUT_HEADER

The appended field is `uint64_t future_fields[3]` (a host built against this header fills it with
0xee bytes where it writes); the header also defines WFP_TEST_FUTURE_FIELDS, so that sources can
tell. Structs without struct_size (wfp_str, wfp_header, ...) cannot grow within a major, and are
left alone."""
import re
import sys


def next_minor(text):
    match = re.search(r"#define WFP_ABI_VERSION_MINOR (\d+)", text)
    if not match:
        raise SystemExit("no WFP_ABI_VERSION_MINOR in the header")
    minor = int(match.group(1)) + 1
    text = text.replace(match.group(0), f"#define WFP_ABI_VERSION_MINOR {minor}\n#define WFP_TEST_FUTURE_FIELDS 1")
    grown = []

    def grow(m):
        grown.append(m.group(1))
        return (m.group(0)[: -len(m.group(3))] +
                f"  uint64_t future_fields[3]; /* appended by the simulated 1.{minor} */\n" + m.group(3))

    # typedef struct NAME { uint32_t struct_size; ... } NAME;  (no nested struct in them)
    text = re.sub(r"typedef struct (wfp_\w+) \{\n(\s*uint32_t struct_size;.*?)(\} \1;)", grow, text, flags=re.S)
    if not grown:
        raise SystemExit("no sized struct found in the header")
    return text, grown


def main():
    src, dst = sys.argv[1:3]
    text, grown = next_minor(open(src, encoding="utf-8").read())
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"next-minor header: grew {', '.join(grown)}")


if __name__ == "__main__":
    main()
