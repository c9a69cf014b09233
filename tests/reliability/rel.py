"""rel.py — shared helpers of the reliability suites: start nnlabd on a free loopback
port, talk raw HTTP/1.1 to it, sample its resident memory, stop it and scan its stderr.

Standard library only (runs on Debian's python3). Every suite imports this module."""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"  # every load in these suites targets loopback only
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAN_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer",
                "ERROR: ThreadSanitizer")

FAILURES = []


def log(*a):
    print(*a, flush=True)


def check(cond, what):
    """Record (and print) one assertion; the suite exits nonzero at the end if any failed."""
    log(("  ok   " if cond else "  FAIL ") + what)
    if not cond:
        FAILURES.append(what)
    return cond


def finish(name):
    if FAILURES:
        log("%s: %d check(s) FAILED:" % (name, len(FAILURES)))
        for f in FAILURES:
            log("   - " + f)
        sys.exit(1)
    log("%s: all checks passed" % name)


class Daemon:
    """nnlabd on a free port. stderr goes to a temp file scanned for sanitizer reports."""

    def __init__(self, binary, args=(), env=None, wrapper=()):
        self.binary = binary
        self.wrapper = tuple(wrapper)
        self.errpath = tempfile.mktemp(prefix="nnlabd-", suffix=".err")
        self.errf = open(self.errpath, "w")
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=32")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if env:
            e.update(env)
        cmd = list(wrapper) + [binary, "--host", HOST, "--port", "0"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errf, env=e,
                                     cwd=ROOT)
        self.port = self._read_port(60 if wrapper else 20)
        self.pid = self._server_pid()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                st, _, _ = request("GET", self.port, "/healthz", timeout=5)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nnlabd did not answer /healthz")

    def _read_port(self, timeout):
        # nnlabd --port 0 prints the port it bound on stdout; accept a bare number or any line
        # containing ":PORT" / "port PORT".
        result = {}

        def reader():
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace")
                for tok in line.replace(":", " ").replace("/", " ").split():
                    if tok.isdigit() and 0 < int(tok) < 65536 and int(tok) != 127:
                        result["port"] = int(tok)
                if "port" in result:
                    break
            # keep draining so the daemon never blocks on a full pipe
            for _ in self.proc.stdout:
                pass

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        deadline = time.time() + timeout
        while time.time() < deadline and "port" not in result:
            if self.proc.poll() is not None:
                raise RuntimeError("nnlabd exited at start: " + self.stderr())
            time.sleep(0.02)
        if "port" not in result:
            raise RuntimeError("nnlabd printed no port")
        return result["port"]

    def _server_pid(self):
        # under a wrapper (valgrind) the wrapper's process *is* the daemon (valgrind execs it)
        return self.proc.pid

    def rss_kib(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def metric(self, name):
        st, _, body = request("GET", self.port, "/metrics", timeout=10)
        if st != 200:
            return None
        for line in body.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.split()[-1])
        return None

    def stop(self, timeout=30):
        """SIGTERM, wait; returns (exit code, stderr text)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errf.close()
        return self.proc.returncode, self.stderr()

    def stderr(self):
        try:
            with open(self.errpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def check_clean_exit(self):
        code, err = self.stop()
        bad = [p for p in SAN_PATTERNS if p in err]
        check(code == 0, "daemon exited 0 after SIGTERM (got %s)" % code)
        check(not bad, "no sanitizer report in daemon stderr %s" % (bad or ""))
        if bad or code != 0:
            lines = [l for l in err.splitlines() if "nnlabd" not in l[:8]]
            log("---- daemon stderr (tail) ----")
            log("\n".join(err.splitlines()[-60:]))
            del lines
        try:
            os.unlink(self.errpath)
        except OSError:
            pass
        return code, err


def request(method, port, path, body=None, headers=None, timeout=30):
    """One request on a fresh connection. Returns (status, headers dict (lower-case), body)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        h = {"Host": "%s:%d" % (HOST, port), "Connection": "close"}
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            elif isinstance(body, str):
                body = body.encode()
            h["Content-Type"] = "application/json"
            h["Content-Length"] = str(len(body))
        if headers:
            h.update(headers)
        head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join(
            "%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        s.sendall(head.encode() + (body or b""))
        return read_response(s)
    finally:
        s.close()


def parse_head(head):
    """The status and the headers (lower-case names) of a response head, without its blank line."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs


def read_response(s, stop_after_lines=None):
    """Read one HTTP/1.1 response (Content-Length, chunked or until close)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed before headers (got %r)" % buf[:200])
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    rest = bytearray(rest)  # += on bytes is quadratic for large bodies
    status, hdrs = parse_head(head)
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        return status, hdrs, bytes(rest[:n])
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        return status, hdrs, read_chunked(s, bytes(rest))
    while True:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    return status, hdrs, bytes(rest)


def read_chunked(s, rest):
    out = bytearray()
    buf = rest
    while True:
        while b"\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return bytes(out)
            buf += d
        line, buf = buf.split(b"\r\n", 1)
        n = int(line.split(b";")[0], 16)
        if n == 0:
            return bytes(out)
        while len(buf) < n + 2:
            d = s.recv(65536)
            if not d:
                return bytes(out + buf)
            buf += d
        out += buf[:n]
        buf = buf[n + 2:]


def is_error_json(body, status):
    """The contract's error object: {"error": {"status", "code", "message", "field"?}}."""
    try:
        j = json.loads(body)
        e = j["error"]
        return (e["status"] == status and isinstance(e["code"], str) and
                isinstance(e["message"], str) and
                ("field" not in e or isinstance(e["field"], str)))
    except (ValueError, KeyError, TypeError):
        return False


def png_b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


class Prober(threading.Thread):
    """Polls GET /healthz every `period` s on fresh connections and records latencies (ms) and
    failures, to show other clients are unaffected while a scenario runs."""

    def __init__(self, port, period=0.1, timeout=5.0):
        super().__init__(daemon=True)
        self.port, self.period, self.timeout = port, period, timeout
        self.lat, self.fail = [], []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            t0 = time.monotonic()
            try:
                st, _, _ = request("GET", self.port, "/healthz", timeout=self.timeout)
                if st != 200:
                    self.fail.append("status %d" % st)
            except OSError as e:
                self.fail.append(repr(e))
            self.lat.append((time.monotonic() - t0) * 1000)
            self.stopping.wait(self.period)

    def stop(self):
        self.stopping.set()
        self.join()
        return self

    def max_ms(self):
        return max(self.lat) if self.lat else float("inf")

    def p99_ms(self):
        if not self.lat:
            return float("inf")
        s = sorted(self.lat)
        return s[min(len(s) - 1, int(len(s) * 0.99))]


class CpuLoad:
    """`n` busy-looping processes, to run a scenario on a machine whose cores are all taken
    (as on a loaded CI runner): the daemon's threads, and the clients, then wait for a core.
    A context manager; the spinners are killed on exit."""

    def __init__(self, n):
        self.n, self.procs = n, []

    def __enter__(self):
        for _ in range(self.n):
            self.procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []


class RssSampler(threading.Thread):
    """Samples the daemon's VmRSS (KiB) once a second."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.d = daemon
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            r = self.d.rss_kib()
            if r is not None:
                self.samples.append(r)
            self.stopping.wait(1.0)

    def stop(self):
        self.stopping.set()
        self.join()
        return self.samples


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if s else 0


# RSS is "flat" when the median of the last window exceeds the median of the first window by
# no more than max(RSS_TOL_MIB MiB, RSS_TOL_FRAC of the first window). Allocator arenas and
# thread stacks settle in the first seconds; a leak of even 1 KiB per request at thousands of
# requests per second exceeds this within a minute.
RSS_TOL_MIB = 16
RSS_TOL_FRAC = 0.10


def rss_flat(samples, window=10):
    if len(samples) < 2 * window:
        window = max(1, len(samples) // 3)
    first = median(samples[:window])
    last = median(samples[-window:])
    tol = max(RSS_TOL_MIB * 1024, first * RSS_TOL_FRAC)
    return last - first <= tol, first, last, tol


def make_png(w, h, seed=1):
    """A w x h RGB 8-bit PNG with a deterministic pattern (stdlib only)."""
    import struct
    import zlib
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            row += bytes(((x * 7 + y * 3 + seed) & 255, (x * y + seed) & 255, (x ^ y) & 255))
        rows.append(bytes(row))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def sample_bodies():
    """The valid requests of the load mix, as JSON bytes: /conv on a 64x64 PNG with a Sobel
    kernel, /pool on a 32x32x3 tensor, /mlp with two hidden layers."""
    conv = {"image": base64.b64encode(make_png(64, 64)).decode(), "kernel": "sobel_x",
            "padding": 1, "activation": "relu"}
    pool = {"input": {"shape": [32, 32, 3],
                      "data": [((i * 37) % 101) / 101.0 for i in range(32 * 32 * 3)]},
            "function": "max", "size": 2}
    mlp = {"input": [((i * 13) % 17) / 17.0 - 0.5 for i in range(64)], "hidden_layers": 2,
           "hidden_size": 32, "activation": "tanh", "output_size": 10, "seed": 7}
    return {k: json.dumps(v).encode() for k, v in (("conv", conv), ("pool", pool), ("mlp", mlp))}
