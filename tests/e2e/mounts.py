# tests/e2e/mounts.py: a real file system of its own (tmpfs) for one test, for what only a file
# system can show: a full disk, or a read-only mount that even root cannot write.
import contextlib
import subprocess


@contextlib.contextmanager
def tmpfs(tmp_path, name, size):
    """Mount a tmpfs of `size` (e.g. "4m") at tmp_path/name for the block; yields its path."""
    mnt = tmp_path / name
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mnt)], check=True)
    try:
        yield str(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
