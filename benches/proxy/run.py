#!/usr/bin/env python3
"""The proxy harness: our tls-frontend against nginx (stream + ssl), HAProxy (mode tcp, ssl
bind) and hitch, same certificates, same upstream, each server pinned to core 0 with one
worker, the load client (benches' `tls-load`) and the upstream on core 1, everything on
127.0.0.1 with ephemeral ports.

    python3 benches/proxy/run.py            # the full run (about 10 minutes here)
    python3 benches/proxy/run.py --smoke    # seconds per scenario: what CI runs

Figures per server: server CPU time per 1000 full handshakes (from /proc/PID/stat of the
server's whole process tree, so a slow client does not distort it) and handshakes/s, for TLS
1.3 ECDSA P-256 + X25519, TLS 1.3 RSA-2048, TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 and resumed
TLS 1.3; bulk relay server CPU seconds per GiB and MB/s for AES-128-GCM, AES-256-GCM,
ChaCha20-Poly1305 and (ours only) SM4-GCM; p50/p99 latency of a 1 KiB request/response at a
fixed moderate rate; RSS per idle established TLS connection. Writes a Markdown table (ratios
to nginx and to the best peer) and JSON into benches/proxy/results/.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKI = os.path.join(ROOT, "tests", "data", "pki")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def tree(root):
    """The pids of root and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(root):
    return sum(cpu_split(root))


def cpu_split(root):
    """(user, kernel) CPU seconds of root's process tree."""
    user = kernel = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2 :].split()
        user += int(fields[11])  # utime
        kernel += int(fields[12])  # stime
    return user / TICKS, kernel / TICKS


def rss_bytes(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            continue
    return total


def wait_port(port, proc, what, limit=20):
    t = time.time()
    while time.time() - t < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def ensure_packages(openssl_backend):
    missing = [p for p, cmd in [("nginx", "nginx"), ("haproxy", "haproxy"), ("hitch", "hitch")]
               if shutil.which(cmd) is None and not os.path.exists(f"/usr/sbin/{cmd}")]
    stream = os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so")
    # The openssl backend links the system libssl through openssl-sys.
    if openssl_backend and subprocess.run(["pkg-config", "--exists", "openssl"],
                                          stderr=subprocess.DEVNULL).returncode != 0:
        missing += ["pkg-config", "libssl-dev"]
    if missing or not stream:
        pkgs = missing + ([] if stream else ["libnginx-mod-stream"])
        print(f"== installing {' '.join(pkgs)}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", *pkgs], check=True, env=env,
                       stdout=subprocess.DEVNULL)


def sbin(cmd):
    return shutil.which(cmd) or f"/usr/sbin/{cmd}"


class Server:
    """One TLS terminator in front of the upstream, pinned to core 0."""

    def __init__(self, kind, work, cert, upstream_port, backend=None, tlcp=False, workers=1,
                 cores="0"):
        self.kind, self.work, self.cert, self.up = kind, work, cert, upstream_port
        self.backend = backend
        self.workers, self.cores = workers, cores
        self.tlcp = tlcp  # ours only: TLCP on the same listener (the test PKI's SM2 pair)
        self.port = free_port()
        self.proc = None

    @property
    def name(self):
        return f"tls-frontend ({self.backend})" if self.kind == "ours" else self.kind

    def start(self):
        d = tempfile.mkdtemp(dir=self.work)
        crt, key = os.path.join(PKI, f"{self.cert}.pem"), os.path.join(PKI, f"{self.cert}.key")
        bundle = os.path.join(d, "bundle.pem")
        with open(bundle, "w") as f:
            f.write(open(crt).read() + open(key).read())
        os.chmod(bundle, 0o600)
        if self.kind == "nginx":
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"""include /etc/nginx/modules-enabled/*.conf;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 19000; }}
worker_rlimit_nofile 20000;
stream {{
  upstream up {{ server 127.0.0.1:{self.up}; }}
  server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets on;
    proxy_pass up;
  }}
}}
""")
            cmd = [sbin("nginx"), "-c", conf, "-g", "daemon off;"]
        elif self.kind == "haproxy":
            conf = os.path.join(d, "haproxy.cfg")
            with open(conf, "w") as f:
                f.write(f"""global
  nbthread 1
  maxconn 9800
  tune.ssl.default-dh-param 2048
defaults
  mode tcp
  timeout connect 5s
  timeout client 300s
  timeout server 300s
frontend fe
  bind 127.0.0.1:{self.port} ssl crt {bundle} ssl-min-ver TLSv1.2
  default_backend be
backend be
  server s1 127.0.0.1:{self.up}
""")
            cmd = [sbin("haproxy"), "-f", conf, "-db"]
        elif self.kind == "hitch":
            cmd = [sbin("hitch"), f"--frontend=[127.0.0.1]:{self.port}",
                   f"--backend=[127.0.0.1]:{self.up}", "--workers=1", "--user=nobody",
                   "--tls-protos=TLSv1.2 TLSv1.3", bundle]
        else:
            conf = os.path.join(d, "proxy.toml")
            keys = os.path.join(d, "tickets.keys")
            tlcp = ""
            if self.tlcp:
                # Key files must be private: copies of the test PKI's SM2 pair.
                for f in ["sm2-server.key", "sm2-server-enc.key"]:
                    shutil.copy(os.path.join(PKI, f), os.path.join(d, f))
                    os.chmod(os.path.join(d, f), 0o600)
                tlcp = (f'[[tlcp_certificate]]\nnames = ["localhost"]\n'
                        f'sign_cert = "{PKI}/sm2-server.pem"\nsign_key = "{d}/sm2-server.key"\n'
                        f'enc_cert = "{PKI}/sm2-server-enc.pem"\nenc_key = "{d}/sm2-server-enc.key"\n'
                        f'default = true\n')
            subprocess.run([self.work_bin("tls-frontend"), "tickets", "rotate", keys], check=True)
            with open(conf, "w") as f:
                f.write(f"""workers = {self.workers}
[[listener]]
address = "127.0.0.1:{self.port}"
upstream = "app"
max_connections = 30000
tlcp = {"true" if self.tlcp else "false"}
{tlcp}[[certificate]]
names = ["localhost"]
cert = "{crt}"
key = "{key}"
default = true
[upstream.app]
addresses = ["127.0.0.1:{self.up}"]
[tickets]
key_file = "{keys}"
[crypto]
backend = "{self.backend}"
[log]
access = false
""")
            cmd = [self.work_bin("tls-frontend"), "serve", "--config", conf]
        self.proc = subprocess.Popen(["taskset", "-c", self.cores, *cmd], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "stderr"), "w"))
        wait_port(self.port, self.proc, self.name)

    @staticmethod
    def work_bin(name):
        # TLS_FRONTEND_BIN: another build of ours (a before/after comparison in one run).
        if name == "tls-frontend" and os.environ.get("TLS_FRONTEND_BIN"):
            return os.environ["TLS_FRONTEND_BIN"]
        return os.path.join(ROOT, "target", "release", name)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                for p in tree(self.proc.pid):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                self.proc.wait()


def load(args, port, ca, extra, stdin=None, cores="1"):
    cmd = ["taskset", "-c", cores, Server.work_bin("tls-load"), "client",
           "--connect", f"127.0.0.1:{port}", "--ca", os.path.join(PKI, ca), *extra]
    if stdin is None:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
        return json.loads(out.stdout.strip().splitlines()[-1])
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def measure(server, fn):
    u0, k0 = cpu_split(server.proc.pid)
    r = fn()
    u1, k1 = cpu_split(server.proc.pid)
    r["server_cpu_s"] = (u1 - u0) + (k1 - k0)
    r["server_kernel_s"] = k1 - k0
    return r


def scenarios(smoke):
    s = 0.6 if smoke else 8.0
    gib = (16 << 20) if smoke else (1 << 30)
    idle = 100 if smoke else 9000  # two fds per relayed connection; the limit here is 20,000
    return s, gib, idle


def run_server(server, args, results, cert_kind):
    s, _, idle = scenarios(args.smoke)
    server.start()
    try:
        name = server.name
        ca = "ecdsa-ca.pem" if cert_kind == "ecdsa" else "rsa-ca.pem"
        # Warm-up.
        load(args, server.port, ca, ["--mode", "handshakes", "--seconds", "0.3", "--concurrency", "4"])
        hs = []
        if cert_kind == "ecdsa":
            hs = [("TLS 1.3 ECDSA-P256 X25519", ["--group", "X25519"]),
                  ("TLS 1.3 resumed", ["--resume", "--group", "X25519"])]
        else:
            hs = [("TLS 1.3 RSA-2048", ["--group", "X25519"]),
                  ("TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384",
                   ["--tls", "1.2", "--suite", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"])]
        if "handshakes" in args.only:
            for label, extra in hs:
                handshakes(server, args, results, label, extra, ca)
        if cert_kind != "ecdsa":
            return
        for label, suite in [] if "bulk" not in args.only else [("AES-128-GCM", "TLS13_AES_128_GCM_SHA256"),
                             ("AES-256-GCM", "TLS13_AES_256_GCM_SHA384"),
                             ("CHACHA20-POLY1305", "TLS13_CHACHA20_POLY1305_SHA256")]:
            bulk(server, args, results, label, ["--suite", suite], ca)
        if "latency" in args.only:
            latency(server, args, results, ca)
        if "syscalls" in args.only:
            syscalls(server, args, results, ca)
        if "idle" not in args.only:
            return
        before = rss_bytes(server.proc.pid)
        p = load(args, server.port, ca, ["--mode", "idle", "--connections", str(idle)], stdin=True)
        line = json.loads(p.stdout.readline())
        time.sleep(0.5)
        after = rss_bytes(server.proc.pid)
        p.stdin.close()
        p.wait(timeout=60)
        per = (after - before) / max(line["open"], 1)
        results.append({"server": name, "scenario": f"RSS per idle connection ({line['open']})",
                        "kib_per_conn": per / 1024, "errors": line["errors"]})
        print(f"  {name:28} {'RSS per idle connection':38} {per / 1024:7.1f} KiB ({line['open']} open)",
              flush=True)
    finally:
        server.stop()


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def spread(xs):
    """The runs' range around their median, in percent (how far one run can be off)."""
    m = median(xs)
    return 100.0 * max(abs(x - m) for x in xs) / m if m else 0.0


def handshakes(server, args, results, label, extra, ca):
    s, _, _ = scenarios(args.smoke)
    name = server.name
    runs = []
    for _ in range(args.repeat):
        r = measure(server, lambda: load(args, server.port, ca,
                    ["--mode", "handshakes", "--seconds", str(s), "--concurrency", "8", *extra]))
        n = max(r["count"], 1)
        r["cpu_ms_per_1000"] = r["server_cpu_s"] / n * 1e6
        r["kernel_ms_per_1000"] = r["server_kernel_s"] / n * 1e6
        runs.append(r)
        if "--resume" in extra and r.get("resumed", 0) < r["count"] * 0.9:
            print(f"  warning: {name} resumed only {r.get('resumed', 0)} of {r['count']}")
    per_sec = median([r["per_sec"] for r in runs])
    cpu = median([r["cpu_ms_per_1000"] for r in runs])
    results.append({"server": name, "scenario": label, "handshakes_per_sec": per_sec,
                    "cpu_ms_per_1000": cpu, "cpu_spread_pct": spread([r["cpu_ms_per_1000"] for r in runs]),
                    "kernel_ms_per_1000": median([r["kernel_ms_per_1000"] for r in runs]),
                    "errors": sum(r["errors"] for r in runs),
                    "count": sum(r["count"] for r in runs),
                    "resumed": sum(r.get("resumed", 0) for r in runs),
                    "runs": [{k: r[k] for k in ("per_sec", "cpu_ms_per_1000", "count")} for r in runs]})
    kernel = median([r["kernel_ms_per_1000"] for r in runs])
    print(f"  {name:28} {label:38} {per_sec:9.0f}/s  {cpu:7.1f} ms CPU per 1000 "
          f"({kernel:.0f} kernel) "
          f"(median of {len(runs)}, +-{spread([r['cpu_ms_per_1000'] for r in runs]):.0f}%; "
          f"{sum(r['errors'] for r in runs)} errors)", flush=True)


def bulk(server, args, results, label, extra, ca):
    _, gib, _ = scenarios(args.smoke)
    runs = []
    for _ in range(args.repeat):
        r = measure(server, lambda: load(args, server.port, ca,
                    ["--mode", "bulk", "--bytes", str(gib), "--concurrency", "2", *extra]))
        r["cpu_s_per_gib"] = r["server_cpu_s"] / (max(r["bytes"], 1) / (1 << 30))
        runs.append(r)
    mb = median([r["mb_per_sec"] for r in runs])
    cpu = median([r["cpu_s_per_gib"] for r in runs])
    results.append({"server": server.name, "scenario": f"bulk {label}", "mb_per_sec": mb,
                    "cpu_s_per_gib": cpu, "cpu_spread_pct": spread([r["cpu_s_per_gib"] for r in runs]),
                    "errors": sum(r["errors"] for r in runs)})
    print(f"  {server.name:28} {'bulk ' + label:38} {mb:9.0f} MB/s {cpu:6.2f} s CPU per GiB "
          f"(median of {len(runs)})", flush=True)


def strace_counts(path):
    """{syscall: calls} from an `strace -c` summary."""
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            try:
                calls[f[-1]] = int(f[3])
            except ValueError:
                pass
    return calls


def syscalls(server, args, results, ca):
    """System calls per full handshake (TLS 1.3, each with one empty request and response, as
    the handshake scenario) and per relayed 1 KiB request on kept connections, counted by
    `strace -c -f` attached to the server's process tree (it slows the server; counts are
    counts)."""
    if shutil.which("strace") is None:
        print("  (strace missing: no syscall counts)")
        return
    s, _, _ = scenarios(args.smoke)
    for label, extra in [("full handshake", ["--mode", "handshakes", "--seconds", str(s),
                                             "--concurrency", "4", "--group", "X25519"]),
                         ("1 KiB request", ["--mode", "latency", "--rate", "2000", "--bytes", "1024",
                                            "--seconds", str(s), "--concurrency", "4"])]:
        out = os.path.join(server.work, f"strace-{os.getpid()}-{len(results)}.txt")
        cmd = ["strace", "-c", "-f", "-o", out]
        for p in tree(server.proc.pid):
            cmd += ["-p", str(p)]
        st = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached
        r = load(args, server.port, ca, extra)
        time.sleep(0.3)
        st.send_signal(signal.SIGINT)
        st.wait(timeout=30)
        calls = strace_counts(out)
        n = max(r["count"], 1)
        per = {k: v / n for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v / n >= 0.05}
        total = sum(calls.values()) / n
        results.append({"server": server.name, "scenario": f"syscalls per {label}",
                        "syscalls": total, "by_call": per, "count": r["count"]})
        top = ", ".join(f"{k} {v:.1f}" for k, v in list(per.items())[:8])
        print(f"  {server.name:28} {'syscalls per ' + label:38} {total:6.1f}  ({top})", flush=True)


def latency(server, args, results, ca):
    """A 1 KiB request/response at a fixed rate: p50 and p99 per run; the median run's
    figures, with how far the runs spread."""
    s, _, _ = scenarios(args.smoke)
    label = f"latency 1 KiB @ {args.rate}/s"
    runs = [load(args, server.port, ca, ["--mode", "latency", "--rate", str(args.rate),
                                        "--bytes", "1024", "--seconds", str(s),
                                        "--concurrency", "4"])
            for _ in range(args.repeat)]
    p50 = [r["p50_ms"] * 1e3 for r in runs]
    p99 = [r["p99_ms"] * 1e3 for r in runs]
    results.append({"server": server.name, "scenario": label, "p50_us": median(p50),
                    "p99_us": median(p99), "p50_spread_pct": spread(p50),
                    "p99_spread_pct": spread(p99), "errors": sum(r["errors"] for r in runs),
                    "runs": [{"p50_us": a, "p99_us": b} for a, b in zip(p50, p99)]})
    print(f"  {server.name:28} {label:38} p50 {median(p50):.0f} us (+-{spread(p50):.0f}%) "
          f"p99 {median(p99):.0f} us (+-{spread(p99):.0f}%)", flush=True)


def scaling(args, work, up_port, results, backend):
    """Ours only: full TLS 1.3 RSA-2048 handshakes/s with `workers = 1` (server on core 0, the
    load client on core 1) and `workers = 2` (server on both cores). This machine has two
    cores and no third for the client, so with two workers the client shares the server's
    cores: the raw ratio understates the scaling by the client's share. Also reported: the
    server's cores in use and its CPU per handshake (flat when workers do not contend), and
    the per-core ratio (handshakes per server CPU-second, 2 workers over 1) that a client
    elsewhere would let reach its throughput."""
    s, _, _ = scenarios(args.smoke)
    ncpu = os.cpu_count() or 1
    rows = []
    for workers, cores, client_cores, conc in [(1, "0", "1", "8"), (2, "0-1", "0-1", "16")]:
        if workers > ncpu:
            continue
        server = Server("ours", work, "rsa-server", up_port, backend, workers=workers, cores=cores)
        server.start()
        try:
            load(args, server.port, "rsa-ca.pem", ["--mode", "handshakes", "--seconds", "0.3",
                                                   "--concurrency", "4"], cores=client_cores)
            runs = []
            for _ in range(args.repeat):
                t0 = time.time()
                r = measure(server, lambda: load(args, server.port, "rsa-ca.pem",
                            ["--mode", "handshakes", "--seconds", str(s), "--concurrency", conc,
                             "--group", "X25519"], cores=client_cores))
                r["wall"] = time.time() - t0
                runs.append(r)
            per_sec = median([r["per_sec"] for r in runs])
            cores_used = median([r["server_cpu_s"] / r["wall"] for r in runs])
            cpu_ms = median([r["server_cpu_s"] / max(r["count"], 1) * 1e6 for r in runs])
            rows.append((workers, per_sec, cores_used, cpu_ms))
            results.append({"server": f"tls-frontend ({backend}), workers = {workers}",
                            "scenario": "scaling: TLS 1.3 RSA-2048", "handshakes_per_sec": per_sec,
                            "cpu_ms_per_1000": cpu_ms, "server_cores": cores_used,
                            "errors": sum(r["errors"] for r in runs)})
            print(f"  workers = {workers}  {per_sec:9.0f}/s  server on {cores_used:.2f} cores  "
                  f"{cpu_ms:.0f} ms CPU per 1000", flush=True)
        finally:
            server.stop()
    if len(rows) == 2:
        (_, a, ca_, _), (_, b, cb, _) = rows
        results.append({"server": f"tls-frontend ({backend})", "scenario": "scaling 1 -> 2 workers",
                        "raw_ratio": b / a, "per_core_ratio": (b / cb) / (a / ca_) if ca_ and cb else 0})
        print(f"  1 -> 2 workers: {b / a:.2f}x handshakes/s (client sharing the cores); "
              f"per server core {(b / cb) / (a / ca_):.2f}x, so {2 * (b / cb) / (a / ca_):.2f}x "
              f"with two full cores for the server", flush=True)


def gm(args, work, up_port, results, backend):
    """Ours only (no peer here speaks them): RFC 8998 (TLS 1.3, SM2 certificate, SM4-GCM) and
    TLCP (GB/T 38636, the test PKI's signing and encryption pair) on one listener: full and
    resumed handshakes, and bulk SM4-GCM (RFC 8998), TLCP SM4-GCM and TLCP SM4-CBC."""
    server = Server("ours", work, "sm2-server", up_port, backend, tlcp=True)
    server.start()
    try:
        ca = "sm2-ca.pem"
        load(args, server.port, ca, ["--mode", "handshakes", "--seconds", "0.3", "--concurrency", "4",
                                     "--tlcp", "ECC_SM4_GCM_SM3"])
        handshakes(server, args, results, "TLS 1.3 RFC 8998 SM2 curveSM2", ["--gm"], ca)
        handshakes(server, args, results, "TLCP ECC_SM4_GCM_SM3", ["--tlcp", "ECC_SM4_GCM_SM3"], ca)
        handshakes(server, args, results, "TLCP ECC_SM4_CBC_SM3", ["--tlcp", "ECC_SM4_CBC_SM3"], ca)
        handshakes(server, args, results, "TLCP resumed (session ID)",
                   ["--tlcp", "ECC_SM4_GCM_SM3", "--resume"], ca)
        bulk(server, args, results, "SM4-GCM (RFC 8998)", ["--gm"], ca)
        bulk(server, args, results, "TLCP SM4-GCM", ["--tlcp", "ECC_SM4_GCM_SM3"], ca)
        bulk(server, args, results, "TLCP SM4-CBC", ["--tlcp", "ECC_SM4_CBC_SM3"], ca)
    finally:
        server.stop()


def table(results):
    servers = []
    for r in results:
        if r["server"] not in servers:
            servers.append(r["server"])
    metrics = [("handshakes_per_sec", "handshakes/s", True), ("cpu_ms_per_1000", "ms CPU / 1000 hs", False),
               ("kernel_ms_per_1000", "of which kernel", False),
               ("mb_per_sec", "MB/s", True), ("cpu_s_per_gib", "s CPU / GiB", False),
               ("p50_us", "p50 µs", False), ("p99_us", "p99 µs", False), ("syscalls", "syscalls", False), ("kib_per_conn", "KiB / conn", False)]
    rows = []
    for sc in dict.fromkeys(r["scenario"] for r in results):
        for key, unit, higher in metrics:
            vals = {r["server"]: r[key] for r in results if r["scenario"] == sc and key in r}
            if vals:
                rows.append((sc, unit, higher, vals))
    peers = [s for s in servers if not s.startswith("tls-frontend")]
    out = ["| scenario | figure | " + " | ".join(servers) + " |",
           "|---|---|" + "---:|" * len(servers)]
    for sc, unit, higher, vals in rows:
        base = vals.get("nginx")
        peer_vals = [vals[p] for p in peers if p in vals]
        best = (max if higher else min)(peer_vals) if peer_vals else None
        cells = []
        for s in servers:
            v = vals.get(s)
            if v is None:
                cells.append("-")
                continue
            c = f"{v:,.1f}" if v < 100 else f"{v:,.0f}"
            parts = []
            if base:
                parts.append(f"{(v / base):.2f}x nginx")
            if best and s.startswith("tls-frontend"):
                parts.append(f"{(v / best):.2f}x best peer")
            cells.append(c + (f" ({', '.join(parts)})" if parts else ""))
        out.append(f"| {sc} | {unit} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true", help="seconds-long run (CI)")
    ap.add_argument("--out", default=None,
                    help="where the table and JSON go (default: benches/proxy/results, or a "
                         "temporary folder with --smoke)")
    ap.add_argument("--backends", default="auto,ring,aws-lc,rustcrypto,openssl",
                    help="our proxy's crypto backends to measure (naming openssl builds with "
                         "crypto-core's openssl feature, which auto may then also choose)")
    ap.add_argument("--with-openssl", action="store_true",
                    help="build ours with crypto-core's openssl feature (auto may choose it) "
                         "without measuring an openssl-only column")
    ap.add_argument("--servers", default="nginx,haproxy,hitch,ours",
                    help="which servers to run (ours = tls-frontend with each of --backends)")
    ap.add_argument("--only", default="handshakes,bulk,latency,syscalls,idle,gm,scaling",
                    help="which scenario groups to run")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs per figure, the median reported (default 3; 1 with --smoke)")
    ap.add_argument("--rate", type=int, default=5000, help="requests/s of the latency scenario")
    args = ap.parse_args()
    args.only = set(x.strip() for x in args.only.split(","))
    if args.repeat is None:
        args.repeat = 1 if args.smoke else 3
    peers_wanted = [k for k in ["nginx", "haproxy", "hitch"] if k in args.servers.split(",")]
    ours = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.out is None:
        args.out = (tempfile.mkdtemp(prefix="proxy-smoke-") if args.smoke
                    else os.path.join(ROOT, "benches", "proxy", "results"))
    with_openssl = "openssl" in ours or args.with_openssl
    ensure_packages(with_openssl)
    print("== building" + (" (with the openssl backend)" if with_openssl else ""), flush=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "tls-frontend", "-p", "benches",
                    "--bin", "tls-frontend", "--bin", "tls-load"]
                   + (["--features", "crypto-core/openssl"] if with_openssl else []),
                   cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="proxy-harness-")
    up_port = free_port()
    up = subprocess.Popen(["taskset", "-c", "1", Server.work_bin("tls-load"), "upstream", "--listen",
                           f"127.0.0.1:{up_port}"], stdout=subprocess.DEVNULL)
    results = []
    started = time.time()
    try:
        wait_port(up_port, up, "upstream")
        for cert_kind, cert in [("ecdsa", "ecdsa-p256-server"), ("rsa", "rsa-server")]:
            print(f"== {cert_kind} certificate", flush=True)
            servers = [Server(k, work, cert, up_port) for k in peers_wanted]
            if "ours" in args.servers.split(","):
                servers += [Server("ours", work, cert, up_port, b) for b in ours]
            for s in servers:
                run_server(s, args, results, cert_kind)
        print("== GM: RFC 8998 and TLCP (ours only)", flush=True)
        # ring and aws-lc have no SM2/SM4: only selections that can serve the SM2 certificate.
        if "scaling" in args.only and "ours" in args.servers.split(","):
            print("== scaling: workers 1 -> 2 (ours)", flush=True)
            scaling(args, work, up_port, results, ours[0])
        if "gm" in args.only and "ours" in args.servers.split(","):
            for b in [b for b in ours if b in ("auto", "rustcrypto")]:
                gm(args, work, up_port, results, b)
    finally:
        up.terminate()
        up.wait()
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(args.out, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               "unknown")
    meta = {"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "smoke": args.smoke,
            "openssl_feature": with_openssl,
            "seconds": round(time.time() - started), "command": " ".join(sys.argv)}
    name = "smoke" if args.smoke else "latest"
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    md = (f"Measured {meta['date']} on {cpu}, `{meta['command']}`, {meta['seconds']} s "
          f"(servers pinned to core 0, load on core 1"
          + ("; our proxy built with crypto-core's openssl feature, so auto may choose OpenSSL"
             if with_openssl else "") + ").\n\n" + table(results))
    with open(os.path.join(args.out, f"{name}.md"), "w") as f:
        f.write(md)
    print(md)
    errors = sum(r.get("errors", 0) for r in results)
    if errors:
        print(f"note: {errors} client-side errors in total (see the JSON)")


if __name__ == "__main__":
    main()
