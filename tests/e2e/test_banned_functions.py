# tests/e2e/test_banned_functions.py: the banned-function check that `make check` runs first
# finds real calls, ignores comments and strings, and passes on the project's own code.
import os
import subprocess

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CHECK = os.path.join(ROOT, "scripts", "check-banned")


def run_check(*paths):
    return subprocess.run([CHECK, *paths], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_a_call_is_found_and_named_with_its_line(tmp_path):
    src = tmp_path / "bad.c"
    src.write_text("/* strcpy(a, b) in a comment is fine */\n"
                   "static const char *s = \"sprintf(x)\";\n"
                   "void f(char *a, const char *b)\n"
                   "{\n"
                   "\tstrcpy(a, b); // atoi(b) here is a comment\n"
                   "\tint n = atoi (b);\n"
                   "\tmy_sprintf(a);\n"
                   "}\n")
    r = run_check(str(src))
    want = [f"{src}:5: strcpy() is banned", f"{src}:6: atoi() is banned"]
    got = [line.split(" is banned")[0] + " is banned" for line in r.stdout.splitlines()]
    assert r.returncode == 1 and got == want, f"want exit 1 and {want}, got exit {r.returncode}: {r.stdout!r} {r.stderr!r}"


def test_the_project_calls_no_banned_function():
    r = run_check()
    assert r.returncode == 0, f"want exit 0, got {r.returncode}:\n{r.stdout}{r.stderr}"
