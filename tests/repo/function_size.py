#!/usr/bin/env python3
"""Small functions and files in the production code: no function over 80 lines, no file over 600.

Usage: function_size.py SOURCE_DIR [--list]. Exits 1 naming each function or file past its limit
that is not in EXCEPTIONS below, and each exception that is no longer needed (so the list only
shrinks). --list prints every function of 50 lines or more, longest first.

What it measures, crudely and honestly:
- Files: every .cc/.h/.c under PRODUCTION_DIRS (tests, fuzzers and benchmarks are not production),
  counted in physical lines (comments and blank lines included).
- Functions: brace matching on the text with comments, string literals (raw strings too) and
  character literals blanked out. A `{` outside any function opens a function body when the text
  before it (back to the previous `;`, `{` or `}`) contains a `)` and neither names a namespace,
  class, struct, union or enum nor ends in `=` (an initializer). Everything up to the matching `}`
  belongs to that function: lambdas and local classes count toward the function that holds them.
  A function's length runs from the first line of its signature to its closing brace, inclusive.
  Member functions defined inside a class body are found the same way; macros are not expanded.
"""
import os
import re
import sys

FUNCTION_LIMIT = 80
FILE_LIMIT = 600
PRODUCTION_DIRS = ["abi", "common", "plugin", "host_stub", "tools"]
EXTENSIONS = (".cc", ".h", ".c", ".cpp", ".hpp")

# What is over a limit today, and why it is left. Keys: "path" (a file) or "path:function".
# Values: the limit it may reach, and the reason. An entry that is no longer over its limit is an
# error: take it out.
EXCEPTIONS = {
    # Left on purpose (issue 17).
    "plugin/schedule/cron_pattern.cc:CronFields::NextAtOrAfter":
        (105, "mirrors cron4j's nested search loops; the mutants name lines in it"),
}


def blank_literals(text):
    """The text with comments, string and character literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c == "R" and text.startswith('"', i + 1) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append("R\"\"")
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i + 3:j]))
            i = j
            continue
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum() and text[i + 1:i + 2].isdigit():
                out.append(c)  # a digit separator: 1'000'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(c + c)
            out.append(" " * max(0, j - i - 2))
            i = j
            continue
        else:
            out.append(c)
            i += 1
            continue
        out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
        i = j
    return "".join(out)


SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b")
NAME = re.compile(r"([A-Za-z_][\w:~<>,\s]*?(?:operator\s*\S+?)?)\s*\(")


def functions(text):
    """(name, first line, last line) of each function body in `text`."""
    clean = blank_literals(text)
    found = []
    stack = []  # "scope", "data" or ("fn", name, first line)
    last = 0  # where the text before the next `{` starts
    for pos, ch in enumerate(clean):
        if ch in ";":
            last = pos + 1
        elif ch == "{":
            header = clean[last:pos]
            in_fn = any(isinstance(s, tuple) or s == "inner" for s in stack)
            if in_fn:
                stack.append("inner")
            elif SCOPE.search(header) and ")" not in header.split("{")[-1]:
                stack.append("scope")
            elif ")" in header and not header.rstrip().endswith("="):
                start = last + len(header) - len(header.lstrip())
                m = NAME.search(header.lstrip())
                name = m.group(1).split()[-1] if m else "?"
                stack.append(("fn", name, clean.count("\n", 0, start) + 1))
            else:
                stack.append("data")
            last = pos + 1
        elif ch == "}":
            top = stack.pop() if stack else None
            if isinstance(top, tuple):
                found.append((top[1], top[2], clean.count("\n", 0, pos) + 1))
            last = pos + 1
    return found


# The measure checks itself on every run: a raw string and a string with braces, a comment with a
# brace, a lambda (counted in its function), a class with a member function, an initializer, and a
# namespace.
SAMPLE = r"""namespace a {
const int kTable[] = {1, 2};
struct S {
  int Get() const {
    return 1;
  }
};
// }
int F(int x) {
  auto f = [](int y) { return y; };
  const char* s = "}{";
  const char* r = R"({"a":{}})";
  return f(x);
}
}  // namespace a
"""


def self_test():
    got = functions(SAMPLE)
    want = [("Get", 4, 6), ("F", 9, 14)]
    if got != want:
        print(f"function_size.py measures its sample wrongly: {got}, expected {want}")
        return False
    return True


def sources(root):
    for d in PRODUCTION_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames[:] = sorted(x for x in dirnames if x not in ("build", "node_modules"))
            for f in sorted(filenames):
                if f.endswith(EXTENSIONS):
                    path = os.path.join(dirpath, f)
                    yield os.path.relpath(path, root), path


def main(argv):
    if not self_test():
        return 1
    root = argv[1] if len(argv) > 1 else "."
    listing = "--list" in argv
    over, used, lengths = [], set(), []
    for rel, path in sources(root):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        measured = [(rel, text.count("\n") + (not text.endswith("\n") and bool(text)), FILE_LIMIT)]
        for name, first, last in functions(text):
            length = last - first + 1
            lengths.append((length, f"{rel}:{first}", name))
            measured.append((f"{rel}:{name}", length, FUNCTION_LIMIT))
        for key, length, limit in measured:
            if length <= limit:
                continue
            allowed = EXCEPTIONS.get(key)
            if allowed and length <= allowed[0]:
                used.add(key)
            else:
                over.append(f"{key}: {length} lines, over the limit of "
                            f"{allowed[0] if allowed else limit}")
    stale = [k for k in EXCEPTIONS if k not in used]
    if listing:
        for length, where, name in sorted(lengths, reverse=True):
            if length >= 50:
                print(f"{length:5d}  {where}  {name}")
    for line in over:
        print(f"too long: {line}")
    for key in stale:
        print(f"exception no longer needed (take it out of EXCEPTIONS): {key}")
    if over or stale:
        print(f"limits: functions {FUNCTION_LIMIT} lines, files {FILE_LIMIT} lines "
              "(tests/repo/function_size.py)")
        return 1
    print(f"every production function is within {FUNCTION_LIMIT} lines and every file within "
          f"{FILE_LIMIT}, but for {len(used)} listed exceptions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
