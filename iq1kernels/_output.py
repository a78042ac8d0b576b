"""Output files written safely: a temporary file beside the target, renamed over it only when complete.

    with AtomicOutput("out.gguf") as out:      # refuses bad targets before anything is written
        out.write(b"...")                      # any exception (also KeyboardInterrupt, SystemExit) removes
                                               # the temporary file and leaves an existing out.gguf as it was

Rules (the same for every writer of this package):
* a new file gets mode 0666 minus the umask, as open() would give it; an existing file keeps its mode
  (and its owner and group where the process may set them);
* a symlink is written through: its target is replaced, the link stays a link pointing to it;
* a directory, device, FIFO or socket as output is refused (OutputFileError, an OSError) — never replaced;
* `inputs=` names files the output must not be (the same file by device and inode, also through links);
* errors about a missing or read-only output folder name the path the caller gave, not the temporary file.

Temporary files are named `.<name>.<random>.tmp` in the target's folder. `live_temp_files()` lists those
being written right now and `remove_temp_files()` deletes them: a SIGTERM handler can call it (the context
manager already cleans up on every exception that unwinds through it, which SIGTERM by default does not).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import threading

_live: set[str] = set()  # temporary files this process is writing
_live_lock = threading.Lock()


class OutputFileError(OSError):
    """An output path that must not be written: not a regular file, or one of the inputs."""


def live_temp_files() -> list:
    """Temporary files being written at this moment (absolute paths)."""
    with _live_lock:
        return sorted(_live)


def remove_temp_files() -> None:
    """Delete every temporary file being written (for a signal handler before the process exits)."""
    for tmp in live_temp_files():
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(path, inputs=()) -> str:
    """The file to replace for `path` (a symlink resolved to its target); raises for a bad target."""
    user = os.fspath(path)
    if not user:
        raise FileNotFoundError(errno.ENOENT, "empty output path", user)
    target = os.path.realpath(user)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", user)
        if not stat.S_ISREG(st.st_mode):
            raise OutputFileError(
                errno.EINVAL, "not a regular file (a device, FIFO or socket): refusing to replace it", user
            )
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"the folder {os.path.dirname(user) or '.'} does not exist", user)
    for inp in inputs:
        if st is not None and _same_file(inp, target):
            raise OutputFileError(errno.EINVAL, f"the output is the input file {os.fspath(inp)}", user)
    return target


class AtomicOutput:
    """One output file written through a temporary file (see the module docstring)."""

    def __init__(self, path, inputs=()):
        self.path = os.fspath(path)
        self.target = check_output_path(self.path, inputs)
        self.tmp = None
        self._fd = None
        self._open()

    def _fail(self, exc, doing):
        return type(exc)(exc.errno, f"{exc.strerror} ({doing})", self.path)

    def _open(self):
        folder, base = os.path.split(self.target)
        for _ in range(100):
            tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
            try:
                # 0o666: the kernel applies the umask, exactly as for open(path, "w")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise self._fail(exc, "creating the output") from None
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary name", self.path)
        with _live_lock:
            _live.add(tmp)
        self.tmp, self._fd = tmp, fd
        try:
            st = os.stat(self.target)
        except FileNotFoundError:
            return
        try:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                os.fchown(fd, st.st_uid, st.st_gid)
        except OSError:
            pass  # not allowed to give it the old owner: it keeps ours

    def write(self, data) -> None:
        view = memoryview(data).cast("B")
        try:
            while view:
                n = os.write(self._fd, view[: 1 << 30])
                view = view[n:]
        except OSError as exc:
            raise self._fail(exc, "writing") from None

    def tell(self) -> int:
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def finish(self) -> None:
        """fsync and close the temporary file (done by commit; a writer of several files calls it as each
        one is complete and commits them all at the end)."""
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self.abort()
            raise self._fail(exc, "writing") from None
        os.close(self._fd)
        self._fd = None

    def commit(self) -> None:
        """finish(), then rename over the target."""
        self.finish()
        try:
            check_output_path(self.path)  # still a regular file or absent
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.abort()
            if isinstance(exc, OutputFileError):
                raise
            raise self._fail(exc, "replacing the output") from None
        with _live_lock:
            _live.discard(self.tmp)
        self.tmp = None
        try:
            dfd = os.open(os.path.dirname(self.target), os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass

    def abort(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            with _live_lock:
                _live.discard(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
