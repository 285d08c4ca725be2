"""Writes guests/python/cpython-tests.md from the outcomes the CPython suite's
guest printed (scripts/cpython-tests.sh runs it). Every test that does not
pass gets the reason of the first rule below that matches it; a non-pass no
rule explains fails this script, so a new failure is looked at, not listed
blindly.

    python3 scripts/cpython_tests_table.py RESULTS.tsv > guests/python/cpython-tests.md
"""

import re
import sys

# (kind, pattern matched against "test-id outcome detail", reason)
KINDS = {
    "refused": "refused by design: the guest cannot have it (procgate.NotOfferedError)",
    "policy": "the sandbox's policy decides (a deliberate limit)",
    "no-fds": "the guest is WebAssembly: it has no descriptors to give or read",
    "wasi": "the guest's interpreter (CPython on WASI) lacks the OS call the test uses",
    "platform": "CPython's own skip on this platform",
    "semantics": "procgate's semantics differ by design (documented in guests/python/README.md)",
    "version": "version mismatch: CPython 3.13's tests, the guest's CPython 3.14, the host's python3 3.11",
}
RULES = [
    ("refused", r"close_fds=False", "close_fds=False: the child gets only its three standard streams"),
    ("refused", r"executable \(the policy", "executable=: the policy resolves the program; argv[0] is the program"),
    ("refused", r"preexec_fn", "preexec_fn: no guest code runs in the child (the host starts it)"),
    ("policy", r"relative paths are never allowed", "a relative program path is never allowed"),
    ("policy", r"DeniedError: program .* not in allow list", "the program is not in the test policy's allow list"),
    ("policy", r"UnicodeEncodeError: 'utf-8' codec can't encode", "arguments and variables are WIT strings (UTF-8): undecodable bytes are refused"),
    ("policy", r"test_exception_(cwd|bad_args)", "a cwd outside the granted directories is denied (PermissionError), not ENOENT"),
    ("no-fds", r"a procgate guest's child can have None", "stdin/stdout/stderr given as a file or descriptor"),
    ("no-fds", r"UnsupportedOperation: fileno", "the pipes are WASI streams, not descriptors (fileno())"),
    ("no-fds", r"no attribute 'pipe'", "os.pipe() does not exist on WASI"),
    ("no-fds", r"/dev/(null|zero|stdin)", "WASI has no /dev"),
    ("no-fds", r"Errno 58\] Not supported", "descriptor juggling (dup2, close of 0-2) is not supported on WASI"),
    ("wasi", r"can't start new thread", "no threads"),
    ("wasi", r"no attribute '(kill|waitpid|getsid)'", "no os.kill/os.waitpid/os.getsid: the host signals and reaps"),
    ("wasi", r"_posixsubprocess|_fork_exec", "CPython's fork/exec internals (replaced by procgate.Popen)"),
    ("wasi", r"Requires os.kill|No module named 'resource'|umask\(\) is not available|no set(reuid|regid|groups|pgid)|need /proc/self/status|vfork|W_STOPCODE|F_GETPIPE_SZ|file descriptor limit", "the OS feature the test needs"),
    ("platform", r"Windows|msvcrt|_winapi|Linux only|Linux specific|trigger a leak on Ubuntu|bash or ksh|ls required", "skipped by CPython's test itself"),
    ("semantics", r"test_zombie_fast_process_del|test_leak_fast_process_del", "a Popen collected while its child runs has the child killed by the host (CPython keeps it in subprocess._active)"),
    ("semantics", r"test_empty_env", "env= sets variables on top of the environment the policy builds (here PATH), it cannot remove them"),
    ("version", r"EncodingWarning", "the child is the host's python3 (3.11), which warns less than 3.13"),
]


def main(path):
    outcomes = {}
    seconds = "?"
    for line in open(path, encoding="utf-8", errors="replace"):
        fields = line.rstrip("\n").split("\t")
        ran = re.match(r"cpython-suite\tran \d+ in (\d+) s", line)
        if ran:
            seconds = ran.group(1)
        if len(fields) < 3 or fields[0] != "cpython-test":
            continue
        test, outcome, detail = fields[1], fields[2], fields[3] if len(fields) > 3 else ""
        # A test with failing subtests reports each; its worst outcome wins.
        previous = outcomes.get(test)
        if previous is None or previous[0] == "pass":
            outcomes[test] = (outcome, detail)
    rows, unexplained = [], []
    counts = {}
    for test in sorted(outcomes):
        outcome, detail = outcomes[test]
        counts[outcome] = counts.get(outcome, 0) + 1
        reason = ""
        if outcome != "pass":
            text = f"{test} {outcome} {detail}"
            for kind, pattern, why in RULES:
                if re.search(pattern, text):
                    reason = f"{kind}: {why}"
                    break
            else:
                unexplained.append(text)
        short = test.replace("test.test_asyncio.test_subprocess.", "asyncio: ").replace("test.test_subprocess.", "")
        rows.append((short, outcome, reason, detail if outcome != "pass" else ""))
    if unexplained:
        sys.exit("no rule explains:\n" + "\n".join(unexplained))
    total = len(outcomes)
    passed = counts.get("pass", 0)
    out = sys.stdout
    out.write("# CPython's subprocess tests in a procgate Python guest\n\n")
    out.write("Generated by `scripts/cpython-tests.sh` (do not edit); checked by\n")
    out.write("`tests/tests/guests/cpython_suite.rs`, which fails when fewer pass.\n\n")
    out.write(f"**{passed} of {total} pass**")
    out.write(" (" + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if k != "pass") + f"); the tests took {seconds} s in the guest on a 2-core machine.\n\n")
    out.write(
        "What runs: CPython 3.13's `Lib/test/test_asyncio/test_subprocess.py` (its\n"
        "`SubprocessMixin` tests on procgate's event loop, and `SubprocessTransportTests`)\n"
        "and `Lib/test/test_subprocess.py`'s `ProcessTestCase`, `RunFuncTestCase`,\n"
        "`ContextManagerTests`, `MiscTests` and `POSIXProcessTestCase`, read from pyenv's\n"
        "installed 3.13 through a read-only grant, inside a guest built by componentize-py\n"
        "0.25.1, whose interpreter is CPython 3.14.0 (no 3.14 test package is installed on\n"
        "these machines; the 3.13 watcher classes of test_asyncio, which 3.14 removed, are\n"
        "replaced by a class running SubprocessMixin on `asyncio.new_event_loop()`, as 3.14's\n"
        "file does). Not run: `Win32ProcessTestCase` and `CommandsWithSpaces` (Windows),\n"
        "`ProcessTestCaseNoPoll` (CPython's selector choice, which procgate replaces).\n"
        "`sys.executable` in the guest is `python3`: children run the host's `/usr/bin/python3`.\n\n"
    )
    by_kind = {}
    for _, outcome, reason, _ in rows:
        if reason:
            kind = reason.split(":")[0]
            by_kind[kind] = by_kind.get(kind, 0) + 1
    out.write("Why the others do not pass (no defect of procgate is left in this list):\n\n")
    for kind, n in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        out.write(f"- {n} {kind}: {KINDS[kind]}\n")
    out.write("\n| test | result | reason | detail |\n| --- | --- | --- | --- |\n")
    for short, outcome, reason, detail in rows:
        detail = detail.replace("|", "\\|")[:140]
        out.write(f"| {short} | {outcome} | {reason} | {detail} |\n")


if __name__ == "__main__":
    main(sys.argv[1])
