#!/usr/bin/env bash
# Regenerates the test PKI in this directory with the OpenSSL 3.0 CLI.
# See README.md. Overwrites all previous output files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

DAYS=36500
# GB/T 32918 default SM2 user ID; RFC 8998 uses it for certificates.
# OpenSSL 3.0 defaults to the EMPTY ID, so it must be passed explicitly.
SM2_ID=1234567812345678

umask 022
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Remove old output first (openssl would keep the old files' modes).
NAMES=(rsa-ca rsa-server rsa-client
       ecdsa-ca ecdsa-p256-server ecdsa-p384-server ed25519-server ecdsa-client
       sm2-ca sm2-server sm2-client)
for n in "${NAMES[@]}"; do rm -f "$n.pem" "$n.key"; done
rm -f ./*.srl

cat > "$tmp/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ rsa_server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:test.example, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:test.example, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ sm2_server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:test.example, IP:127.0.0.1, DNS:sm2.test.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
CNF="$tmp/openssl.cnf"

# Random positive 16-byte serial (top nibble 1..7: positive, no leading zero).
serial() {
    local s
    s=$(openssl rand -hex 16)
    printf '0x%x%s' $(( (0x${s:0:1} % 7) + 1 )) "${s:1}"
}

# genkey NAME ALGO [genpkey -pkeyopt ...]: unencrypted PKCS#8 PEM, mode 0600.
genkey() {
    local name=$1 algo=$2; shift 2
    local opts=()
    for o in "$@"; do opts+=(-pkeyopt "$o"); done
    rm -f "$name.key"
    (umask 077; openssl genpkey -quiet -algorithm "$algo" "${opts[@]}" -out "$name.key")
    chmod 600 "$name.key"
}

# mkca NAME DIGEST [extra sign options...]: self-signed CA.
mkca() {
    local name=$1 md=$2; shift 2
    openssl req -config "$CNF" -new -x509 -key "$name.key" "-$md" "$@" \
        -subj "/O=Test PKI/CN=$name" -days "$DAYS" -set_serial "$(serial)" \
        -extensions ca_ext -out "$name.pem"
}

# mkleaf NAME CA DIGEST EXT_SECTION [extra sign options...]
mkleaf() {
    local name=$1 ca=$2 md=$3 ext=$4; shift 4
    local csr_md=()
    # Ed25519 CSRs must not name a digest.
    [ "$md" != none ] && csr_md=("-$md")
    openssl req -config "$CNF" -new -key "$name.key" "${csr_md[@]}" "$@" \
        -subj "/O=Test PKI/CN=$name" -out "$tmp/$name.csr"
    local vfy=()
    for o in "$@"; do [ "$o" = -sigopt ] && vfy+=(-vfyopt) || vfy+=("$o"); done
    openssl x509 -req -in "$tmp/$name.csr" "${vfy[@]}" \
        -CA "$ca.pem" -CAkey "$ca.key" "-$(ca_md "$ca")" "$@" \
        -days "$DAYS" -set_serial "$(serial)" \
        -extfile "$CNF" -extensions "$ext" -out "$name.pem"
}

ca_md() {
    case $1 in
        rsa-ca) echo sha256 ;;
        ecdsa-ca) echo sha384 ;;
        sm2-ca) echo sm3 ;;
    esac
}

# ---- RSA ----
genkey rsa-ca RSA rsa_keygen_bits:3072
mkca rsa-ca sha256
genkey rsa-server RSA rsa_keygen_bits:2048
mkleaf rsa-server rsa-ca sha256 rsa_server_ext
genkey rsa-client RSA rsa_keygen_bits:2048
mkleaf rsa-client rsa-ca sha256 client_ext

# ---- ECDSA / EdDSA (all signed by the P-384 CA with ecdsa-with-SHA384) ----
EC=(ec_param_enc:named_curve)
genkey ecdsa-ca EC ec_paramgen_curve:P-384 "${EC[@]}"
mkca ecdsa-ca sha384
genkey ecdsa-p256-server EC ec_paramgen_curve:P-256 "${EC[@]}"
mkleaf ecdsa-p256-server ecdsa-ca sha256 server_ext
genkey ecdsa-p384-server EC ec_paramgen_curve:P-384 "${EC[@]}"
mkleaf ecdsa-p384-server ecdsa-ca sha384 server_ext
genkey ed25519-server ED25519
mkleaf ed25519-server ecdsa-ca none server_ext
genkey ecdsa-client EC ec_paramgen_curve:P-256 "${EC[@]}"
mkleaf ecdsa-client ecdsa-ca sha256 client_ext

# ---- SM2 / SM3 (GB/T 32918, RFC 8998), user ID 1234567812345678 ----
SM2=(ec_paramgen_curve:SM2 "${EC[@]}")
SIG=(-sigopt "distid:$SM2_ID")
genkey sm2-ca EC "${SM2[@]}"
mkca sm2-ca sm3 "${SIG[@]}"
genkey sm2-server EC "${SM2[@]}"
mkleaf sm2-server sm2-ca sm3 sm2_server_ext "${SIG[@]}"
genkey sm2-client EC "${SM2[@]}"
mkleaf sm2-client sm2-ca sm3 client_ext "${SIG[@]}"

rm -f ./*.srl

# ---- self-check ----
for f in *.key; do
    head -n1 "$f" | grep -qx -- '-----BEGIN PRIVATE KEY-----' || { echo "$f: not PKCS#8" >&2; exit 1; }
done

check() { # check CA LEAF PURPOSE [verify options...]
    local ca=$1 leaf=$2 purpose=$3; shift 3
    openssl verify -x509_strict -purpose "$purpose" "$@" -CAfile "$ca.pem" "$leaf.pem"
}
check rsa-ca rsa-server sslserver -check_ss_sig
check rsa-ca rsa-client sslclient -check_ss_sig
check ecdsa-ca ecdsa-p256-server sslserver -check_ss_sig
check ecdsa-ca ecdsa-p384-server sslserver -check_ss_sig
check ecdsa-ca ed25519-server sslserver -check_ss_sig
check ecdsa-ca ecdsa-client sslclient -check_ss_sig
# openssl verify applies -vfyopt only to the target certificate, not to the
# trust anchor's self-signature, so -check_ss_sig is not usable for SM2.
check sm2-ca sm2-server sslserver -vfyopt "distid:$SM2_ID"
check sm2-ca sm2-client sslclient -vfyopt "distid:$SM2_ID"
# Control: a different ID must fail.
for leaf in sm2-server sm2-client; do
    if check sm2-ca "$leaf" any -vfyopt distid:0000 >/dev/null 2>&1; then
        echo "$leaf: verified with wrong SM2 ID" >&2; exit 1
    fi
done

# SM2 CA self-signature, checked directly: TBSCertificate + signature value.
openssl x509 -in sm2-ca.pem -outform DER -out "$tmp/ca.der"
openssl x509 -in sm2-ca.pem -pubkey -noout > "$tmp/ca.pub"
tbs_off=$(openssl asn1parse -inform DER -in "$tmp/ca.der" | awk -F: 'NR==2 {print $1+0}')
sig_off=$(openssl asn1parse -inform DER -in "$tmp/ca.der" | awk -F: '/d=1 .*BIT STRING/ {o=$1+0} END {print o}')
openssl asn1parse -inform DER -in "$tmp/ca.der" -strparse "$tbs_off" -noout -out "$tmp/tbs.der"
openssl asn1parse -inform DER -in "$tmp/ca.der" -strparse "$sig_off" -noout -out "$tmp/sig.der"
ss_verify() {
    openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey "$tmp/ca.pub" \
        -pkeyopt "distid:$1" -in "$tmp/tbs.der" -sigfile "$tmp/sig.der"
}
ss_verify "$SM2_ID"
if ss_verify 0000 >/dev/null 2>&1; then
    echo "sm2-ca: self-signature verified with wrong SM2 ID" >&2; exit 1
fi

echo ok
