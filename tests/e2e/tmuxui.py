# tests/e2e/tmuxui.py: drives the real `outbox ui` inside a private tmux server: send keys, wait
# for text on the screen (polling with a deadline, never a fixed sleep), and save screens.
import os
import secrets
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def screens_dir():
    """Where captured screens go: $OUTBOX_TEST_OUTPUT/screens, else build/test-output/screens."""
    base = os.environ.get("OUTBOX_TEST_OUTPUT")
    path = os.path.join(base, "screens") if base else os.path.join(REPO, "build", "test-output", "screens")
    os.makedirs(path, exist_ok=True)
    return path


class TmuxUI:
    """One `outbox ui` in a detached tmux session of its own server (-L), so tests never touch
    the user's tmux. After the UI exits, the pane's shell prints its exit code and the terminal
    modes, and stays open so the test can look at what was left on the terminal."""

    def __init__(self, outbox_bin, env, width=80, height=24, pane_term=None):
        self.socket = "outbox-tui-" + secrets.token_hex(6)
        self.env = dict(env)
        self.env.pop("TMUX", None)
        self.env["TERM"] = "xterm-256color"
        # The trap keeps the shell alive through Ctrl-C (the UI still gets the default action).
        script = ('trap : INT; "$OUTBOX_UI_BIN" ui; echo "[ui exited $?]"; stty -a | tr -s " ;" "\\n\\n" '
                  '| grep -E "^-?(echo|icanon)$" | tr "\\n" " "; echo "[stty]"; exec sleep 3600')
        self.env["OUTBOX_UI_BIN"] = outbox_bin
        # The UI gets tmux's default-terminal as TERM unless pane_term names another.
        if pane_term:
            script = f"TERM={pane_term}; export TERM; " + script
        self._tmux("-f", "/dev/null", "new-session", "-d", "-x", str(width), "-y", str(height),
                   "-s", "ui", "sh", "-c", script)
        self._tmux("set-option", "-g", "status", "off")

    def _tmux(self, *args, check=True):
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              env=self.env, timeout=30)
        if check:
            assert proc.returncode == 0, f"tmux {' '.join(args)} failed: {proc.stderr}"
        return proc.stdout

    def keys(self, *keys):
        """tmux key names: "Tab", "BTab", "Enter", "Escape", "Up", "C-u", ..."""
        for k in keys:
            self._tmux("send-keys", "-t", "ui", k)

    def type(self, text):
        self._tmux("send-keys", "-t", "ui", "-l", "--", text)  # "--": text may start with "-"

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", "ui")

    def find(self, text):
        """Where `text` starts on the screen as 0-based (x, y); fails with the screen if absent."""
        s = self.screen()
        for y, line in enumerate(s.splitlines()):
            x = line.find(text)
            if x >= 0:
                return x, y
        raise AssertionError(f"want {text!r} on screen to click it, got:\n{s}")

    def pane_term(self):
        """TERM as the UI itself has it: tmux sets the pane's own (its default-terminal), which
        is not the TERM of the process that started tmux."""
        with open(f"/proc/{self.ui_pid()}/environ", "rb") as f:
            env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        return env[b"TERM"].decode()

    def mouse_protocol(self):
        """How ncurses reads the mouse under the pane's TERM: its kmous says which reports to
        expect. "\\E[<" means SGR (1006) reports, "\\E[M" the X10 encoding of xterm's normal mode."""
        term = self.pane_term()
        kmous = subprocess.run(["tput", "-T", term, "kmous"], capture_output=True).stdout
        if kmous == b"\x1b[<":
            return "sgr"
        if kmous == b"\x1b[M":
            return "x10"
        raise AssertionError(f"want kmous \\E[< or \\E[M for TERM={term}, got {kmous!r}")

    def click(self, x, y):
        """A left click at 0-based (x, y), as the terminal would report it: press then release,
        written to the pane as raw bytes (send-keys -H) so tmux passes them on unchanged."""
        if self.mouse_protocol() == "sgr":
            report = f"\x1b[<0;{x + 1};{y + 1}M\x1b[<0;{x + 1};{y + 1}m".encode()
        else:
            report = bytes([0x1b, ord("["), ord("M"), 32, 33 + x, 33 + y,
                            0x1b, ord("["), ord("M"), 32 + 3, 33 + x, 33 + y])
        self._tmux("send-keys", "-t", "ui", "-H", *(f"{b:02x}" for b in report))

    def click_text(self, text, offset=0):
        """Click on `text` where it is on the screen (its first character, plus offset)."""
        x, y = self.find(text)
        self.click(x + offset, y)

    def fmt(self, f):
        return self._tmux("display-message", "-p", "-t", "ui", f).strip()

    def wait_for(self, *texts, timeout=15, absent=()):
        """Wait until every text is on the screen (and none of `absent`); return the screen."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if all(t in s for t in texts) and not any(a in s for a in absent):
                return s
            if time.monotonic() > deadline:
                raise AssertionError(f"want {texts!r} on screen (without {absent!r}), got:\n{s}")
            time.sleep(0.05)

    def wait_gone(self, text, timeout=15):
        return self.wait_for(absent=(text,), timeout=timeout)

    def save(self, name):
        s = self.screen()
        with open(os.path.join(screens_dir(), name + ".txt"), "w") as f:
            f.write(s)
        return s

    def resize(self, width, height):
        self._tmux("resize-window", "-t", "ui", "-x", str(width), "-y", str(height))

    def threads(self):
        """How many threads the UI process has now (from /proc)."""
        with open(f"/proc/{self.ui_pid()}/status") as f:
            return int(next(l for l in f if l.startswith("Threads:")).split()[1])

    def wait_threads(self, want, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            got = self.threads()
            if got == want:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"want {want} thread(s) in outbox ui, got {got}")
            time.sleep(0.05)

    def ui_pid(self):
        """The outbox process: the only child of the pane's shell while the UI runs."""
        shell = self.fmt("#{pane_pid}")
        out = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        assert len(out) == 1, f"want one child of the pane shell, got {out}"
        return int(out[0])

    def wait_exit(self, timeout=15):
        """Wait for the UI to exit; return (exit code, the stty words echo/icanon)."""
        s = self.wait_for("[ui exited", "[stty]", timeout=timeout)
        line = next(l for l in s.splitlines() if "[ui exited" in l)
        code = int(line.split("[ui exited", 1)[1].split("]")[0])
        modes = next(l for l in s.splitlines() if "[stty]" in l).replace("[stty]", "").split()
        return code, modes, s

    def close(self):
        self._tmux("kill-server", check=False)
