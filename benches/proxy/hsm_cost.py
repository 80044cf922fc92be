#!/usr/bin/env python3
"""What a key in a hardware security module costs: TLS 1.3 full handshakes through the proxy
with the certificate's key in SoftHSM2 (PKCS#11) against the same kind of key in memory.

    python3 benches/proxy/hsm_cost.py [--seconds 8] [--repeat 3]

Builds the release proxy and the load client, makes a fresh SoftHSM2 token in a temporary folder
(RSA-2048 and ECDSA P-256 keys generated inside it by pkcs11-tool), certificates for those keys
and for in-memory keys of the same kinds, then, per key kind, runs the proxy (`workers = 1`,
pinned to core 0, its PKCS#11 pool too) with the key in memory and with it in the module,
alternating, `--repeat` times each; the load client (`tls-load`, 8 connections, X25519) and the
upstream run on core 1. Server CPU comes from /proc over the proxy's process tree. Prints
medians and the module/memory ratios, and writes benches/proxy/results/hsm.json.
Needs: softhsm2, opensc (pkcs11-tool), openssl, taskset.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "483920"


def sh(cmd, env=None, cwd=None):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}:\n{r.stdout}{r.stderr}")


# The harness's own helpers: free ports, process trees, CPU seconds from /proc, waiting for a
# listener.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import cpu_seconds as cpu, free_port, wait_port  # noqa: E402


def make_pki(d, env):
    os.makedirs(f"{d}/tokens")
    with open(f"{d}/softhsm2.conf", "w") as f:
        f.write(f"directories.tokendir = {d}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
    sh(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", "12345678",
        "--pin", PIN], env=env)
    for label, kind in [("rsa", "rsa:2048"), ("ec", "EC:prime256v1")]:
        p11 = ["pkcs11-tool", "--module", MODULE, "--token-label", "bench"]
        sh(p11 + ["--login", "--pin", PIN, "--keypairgen", "--key-type", kind, "--label", label,
                  "--usage-sign", "--sensitive"], env=env)
        sh(p11 + ["--read-object", "--type", "pubkey", "--label", label, "-o",
                  f"{d}/hsm-{label}.pub.der"], env=env)
        sh(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", f"{d}/hsm-{label}.pub.der",
            "-out", f"{d}/hsm-{label}.pub.pem"])
    sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", f"{d}/ca.key"])
    sh(["openssl", "req", "-x509", "-new", "-key", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-subj",
        "/CN=bench CA", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE"])
    sh(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
        f"{d}/mem-rsa.key"])
    sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", f"{d}/mem-ec.key"])
    for name in ["mem-rsa", "mem-ec", "hsm-rsa", "hsm-ec"]:
        pub = f"{d}/{name}.pub.pem"
        if name.startswith("mem"):
            sh(["openssl", "pkey", "-in", f"{d}/{name}.key", "-pubout", "-out", pub])
        with open(f"{d}/ext.cnf", "w") as f:
            f.write("subjectAltName=DNS:localhost\n")
        sh(["openssl", "req", "-new", "-key", f"{d}/mem-ec.key", "-subj", "/CN=localhost",
            "-out", f"{d}/t.csr"])
        sh(["openssl", "x509", "-req", "-in", f"{d}/t.csr", "-CA", f"{d}/ca.pem", "-CAkey",
            f"{d}/ca.key", "-force_pubkey", pub, "-days", "2", "-extfile", f"{d}/ext.cnf",
            "-out", f"{d}/{name}.pem"])
    with open(f"{d}/pin", "w") as f:
        f.write(PIN + "\n")
    os.chmod(f"{d}/pin", 0o600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sh(["cargo", "build", "--release", "-q", "-p", "tls-frontend", "-p", "benches",
        "--bin", "tls-frontend", "--bin", "tls-load"], cwd=ROOT)
    bin_dir = os.path.join(ROOT, "target", "release")
    d = tempfile.mkdtemp(prefix="hsm-cost-")
    env = dict(os.environ, SOFTHSM2_CONF=f"{d}/softhsm2.conf")
    make_pki(d, env)
    up_port = free_port()
    up = subprocess.Popen(["taskset", "-c", "1", f"{bin_dir}/tls-load", "upstream", "--listen",
                           f"127.0.0.1:{up_port}"], stdout=subprocess.DEVNULL)
    results = {}
    try:
        wait_port(up_port, up, "upstream")
        for kind in ["ec", "rsa"]:
            for rnd in range(args.repeat):
                for where in ["memory", "softhsm2"] if rnd % 2 == 0 else ["softhsm2", "memory"]:
                    if where == "memory":
                        key = f"{d}/mem-{kind}.key"
                        cert = f"{d}/mem-{kind}.pem"
                    else:
                        key = (f"pkcs11:token=bench;object={kind}?pin-source=file:{d}/pin"
                               f"&module-path={MODULE}")
                        cert = f"{d}/hsm-{kind}.pem"
                    port = free_port()
                    with open(f"{d}/proxy.toml", "w") as f:
                        f.write(
                            f'workers = 1\n[[listener]]\naddress = "127.0.0.1:{port}"\n'
                            f'upstream = "app"\n[[certificate]]\nnames = ["localhost"]\n'
                            f'cert = "{cert}"\nkey = "{key}"\ndefault = true\n'
                            f'[upstream.app]\naddresses = ["127.0.0.1:{up_port}"]\n'
                            f'[crypto]\nbackend = "aws-lc"\n[log]\naccess = false\n')
                    proxy = subprocess.Popen(["taskset", "-c", "0", f"{bin_dir}/tls-frontend",
                                              "serve", "--config", f"{d}/proxy.toml"], env=env,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    try:
                        wait_port(port, proxy, "proxy")
                        client = ["taskset", "-c", "1", f"{bin_dir}/tls-load", "client",
                                  "--connect", f"127.0.0.1:{port}", "--ca", f"{d}/ca.pem",
                                  "--mode", "handshakes", "--concurrency", "8", "--group",
                                  "X25519"]
                        subprocess.run(client + ["--seconds", "0.5"], check=True,
                                       capture_output=True)
                        c0 = cpu(proxy.pid)
                        out = subprocess.run(client + ["--seconds", str(args.seconds)],
                                             check=True, capture_output=True, text=True)
                        c1 = cpu(proxy.pid)
                        r = json.loads(out.stdout.strip().splitlines()[-1])
                        n = r.get("handshakes") or r.get("count") or 0
                        secs = r.get("seconds") or args.seconds
                        row = results.setdefault(f"{kind} {where}", [])
                        row.append({"handshakes_per_s": n / secs,
                                    "ms_cpu_per_1000": (c1 - c0) * 1e6 / max(n, 1)})
                        print(f"{kind:3} {where:8} round {rnd + 1}: {n / secs:8.0f} hs/s, "
                              f"{(c1 - c0) * 1e6 / max(n, 1):6.0f} ms CPU / 1000", flush=True)
                    finally:
                        proxy.terminate()
                        proxy.wait(timeout=20)
    finally:
        up.terminate()
        up.wait()
    print()
    print("| key | where | handshakes/s | server ms CPU / 1000 | module / memory (hs/s, CPU) |")
    print("|---|---|---:|---:|---:|")
    summary = {}
    for kind, label in [("ec", "ECDSA P-256"), ("rsa", "RSA-2048")]:
        med = {w: {k: statistics.median(x[k] for x in results[f"{kind} {w}"])
                   for k in ["handshakes_per_s", "ms_cpu_per_1000"]}
               for w in ["memory", "softhsm2"]}
        summary[kind] = med
        for w in ["memory", "softhsm2"]:
            ratio = ""
            if w == "softhsm2":
                ratio = (f"{med[w]['handshakes_per_s'] / med['memory']['handshakes_per_s']:.2f}x, "
                         f"{med[w]['ms_cpu_per_1000'] / med['memory']['ms_cpu_per_1000']:.2f}x")
            print(f"| {label} | {w} | {med[w]['handshakes_per_s']:,.0f} | "
                  f"{med[w]['ms_cpu_per_1000']:,.0f} | {ratio} |")
    os.makedirs(os.path.join(ROOT, "benches", "proxy", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "benches", "proxy", "results", "hsm.json"), "w") as f:
        json.dump({"runs": results, "medians": summary}, f, indent=1)
    subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    main()
