"""Per-file result cache.

Each analysed file's ``FileResult`` (summary, config documents, file-phase findings) is stored
under a key made of its content hash, mllint's version, the module name it was analysed as, the
enabled file rules and the settings that affect a file.  The graph and project rules always
re-run from the (cached) summaries, so a changed file invalidates only itself.

Location: ``--cache-dir``/``MLLINT_CACHE_DIR``/``cache-dir`` when given; otherwise the user cache
directory (``$XDG_CACHE_HOME/mllint/<project hash>``), because mllint never writes into the
repository it scans unless asked.  Every cache directory mllint creates holds a ``CACHEDIR.TAG``
and a ``.gitignore`` containing ``*``.  Writes are atomic (temp file + rename); a corrupt or
unreadable entry is ignored, never fatal.
"""
from __future__ import annotations

import os
import pickle
import sys
import tempfile

from mllint import __version__
from mllint._hash import blake2b

TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by mllint.\n"


def default_cache_dir(root: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    h = blake2b(os.path.abspath(root).encode(), digest_size=8).hexdigest()
    return os.path.join(base, "mllint", h)


_CODE_STAMP = None


def code_stamp() -> str:
    """A fingerprint of mllint's own code (engine and rules): results computed by other code are
    never reused, even when the version string did not change (development installs)."""
    global _CODE_STAMP
    if _CODE_STAMP is None:
        import mllint
        import mllint.rules

        h = blake2b(digest_size=8)
        for pkg in (mllint, mllint.rules):
            for base in pkg.__path__:
                for dirpath, dirnames, filenames in os.walk(base):
                    dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                    for f in sorted(filenames):
                        if f.endswith(".py"):
                            try:
                                st = os.stat(os.path.join(dirpath, f))
                            except OSError:
                                continue
                            h.update(f"{dirpath}/{f}:{st.st_mtime_ns}:{st.st_size};".encode())
        _CODE_STAMP = h.hexdigest()
    return _CODE_STAMP


def _ensure_dir(path: str) -> None:
    fresh = not os.path.isdir(path)
    os.makedirs(path, exist_ok=True)
    if fresh or not os.path.exists(os.path.join(path, "CACHEDIR.TAG")):
        for name, content in (("CACHEDIR.TAG", TAG), (".gitignore", "*\n")):
            try:
                with open(os.path.join(path, name), "w", encoding="utf-8") as fh:
                    fh.write(content)
            except OSError:
                pass


class Cache:
    def __init__(self, directory: str, salt: str):
        self.dir = directory
        self.salt = salt
        self.hits = 0
        self.misses = 0
        self.enabled = True
        self._digests: dict = {}

    @classmethod
    def open(cls, settings, cfg) -> "Cache":
        directory = settings.cache_dir or os.environ.get("MLLINT_CACHE_DIR") or default_cache_dir(settings.root)
        rules = ",".join(sorted(c.meta.code for c in cfg.file_rules))
        # the interpreter version too: pickles and the clone fingerprints (tuple hashes) depend on it
        salt = f"{__version__}|{code_stamp()}|{sys.version_info[:3]}|{rules}|{settings.fingerprint()}"
        c = cls(directory, salt)
        c.modules = cfg.modules
        c.cfg = cfg
        try:
            _ensure_dir(directory)
            os.makedirs(os.path.join(directory, __version__), exist_ok=True)
        except OSError:
            c.enabled = False
        return c

    def _key(self, df, data: bytes) -> str:
        mod = self.modules.get(df.path, ("", False)) if hasattr(self, "modules") else ("", False)
        h = blake2b(digest_size=16)
        h.update(self.salt.encode())
        serving = self.cfg.maybe_serving(df.path) if getattr(self, "cfg", None) is not None else True
        h.update(f"|{df.path}|{df.kind}|{mod[0]}|{mod[1]}|{serving}|".encode())
        h.update(data)
        return h.hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, __version__, key[:2], key + ".pkl")

    def key_for(self, df):
        """The entry key of a file (reads and hashes its content), or None if unreadable."""
        if df.path in self._digests:
            return self._digests[df.path]
        try:
            with open(df.abspath, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        key = self._key(df, data)
        self._digests[df.path] = key
        return key

    def get(self, df):
        if not self.enabled:
            return None
        key = self.key_for(df)
        if key is None:
            return None
        try:
            with open(self._path(key), "rb") as fh:
                fr = pickle.load(fh)
            self.hits += 1
            return fr
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # corrupt entry: ignore it, it will be rewritten
            self.misses += 1
            return None

    def put(self, df, fr) -> None:
        if not self.enabled or fr is None:
            return
        key = self._digests.get(df.path)
        if key is None:
            return
        _write_atomic(self._path(key), fr)

    # -- whole-scan results: when no file and no setting changed, the project phase is skipped
    def load_result(self, key: str):
        try:
            with open(self._result_path(key), "rb") as fh:
                return pickle.load(fh)
        except Exception:  # missing or corrupt: compute
            return None

    def save_result(self, key: str, payload) -> None:
        if not self.enabled:
            return
        _write_atomic(self._result_path(key), payload)

    def _result_path(self, key: str) -> str:
        return os.path.join(self.dir, __version__, "scan", key + ".pkl")

    def close(self) -> None:
        pass


def _write_atomic(target: str, obj) -> None:
    """Pickle ``obj`` to ``target`` through a temporary file renamed into place, so a reader never
    sees half an entry; any failure (unwritable directory, full disk, an object that does not
    pickle) leaves no entry and no temporary file behind."""
    tmp = None
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except Exception:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
