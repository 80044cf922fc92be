#!/usr/bin/env bash
# Adds the TLCP encryption certificates (GB/T 38636-2020: a server and a client each hold a
# signing and an encryption SM2 certificate) to the test PKI, signed by sm2-ca with the OpenSSL
# 3.0 CLI. The signing certificates are make_pki.sh's sm2-server and sm2-client
# (keyUsage digitalSignature); the encryption ones carry keyEncipherment, dataEncipherment and
# keyAgreement, as Tongsuo's test certificates do. Overwrites only its own two outputs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
DAYS=36500
SM2_ID=1234567812345678
umask 022
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/openssl.cnf" <<'CNF'
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ sm2_enc_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment, dataEncipherment, keyAgreement
subjectAltName = DNS:localhost, DNS:test.example, IP:127.0.0.1, DNS:sm2.test.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
serial() {
    local s
    s=$(openssl rand -hex 16)
    printf '0x%x%s' $(( (0x${s:0:1} % 7) + 1 )) "${s:1}"
}
for name in sm2-server-enc sm2-client-enc; do
    rm -f "$name.key" "$name.pem"
    (umask 077; openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:SM2 \
        -pkeyopt ec_param_enc:named_curve -out "$name.key")
    chmod 600 "$name.key"
    openssl req -config "$tmp/openssl.cnf" -new -key "$name.key" -sm3 \
        -sigopt "distid:$SM2_ID" -subj "/O=Test PKI/CN=$name" -out "$tmp/$name.csr"
    openssl x509 -req -in "$tmp/$name.csr" -vfyopt "distid:$SM2_ID" -CA sm2-ca.pem \
        -CAkey sm2-ca.key -sm3 -sigopt "distid:$SM2_ID" -days "$DAYS" \
        -set_serial "$(serial)" -extfile "$tmp/openssl.cnf" -extensions sm2_enc_ext \
        -out "$name.pem"
    openssl verify -x509_strict -vfyopt "distid:$SM2_ID" -CAfile sm2-ca.pem "$name.pem"
done
echo ok
