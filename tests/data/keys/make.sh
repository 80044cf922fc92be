#!/usr/bin/env bash
# Regenerates the test keys in this folder with the OpenSSL 3 CLI (run: bash make.sh).
# Each key is written in every encoding crypto-core loads, plus OpenSSL's own SubjectPublicKeyInfo
# (*.spki.der) as outside truth for the public key the loader derives.
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.pem ./*.der
for bits in 2048 3072 4096; do
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$bits -out rsa$bits.pkcs8.pem
  openssl pkcs8 -topk8 -nocrypt -in rsa$bits.pkcs8.pem -outform DER -out rsa$bits.pkcs8.der
  openssl rsa -in rsa$bits.pkcs8.pem -traditional -out rsa$bits.pkcs1.pem
  openssl rsa -in rsa$bits.pkcs8.pem -traditional -outform DER -out rsa$bits.pkcs1.der
  openssl pkey -in rsa$bits.pkcs8.pem -pubout -outform DER -out rsa$bits.spki.der
done
for curve in P-256 P-384; do
  name=$(echo "$curve" | tr -d '-' | tr 'P' 'p')
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$curve -out $name.pkcs8.pem
  openssl pkcs8 -topk8 -nocrypt -in $name.pkcs8.pem -outform DER -out $name.pkcs8.der
  openssl ec -in $name.pkcs8.pem -out $name.sec1.pem
  openssl ec -in $name.pkcs8.pem -outform DER -out $name.sec1.der
  openssl pkey -in $name.pkcs8.pem -pubout -outform DER -out $name.spki.der
done
openssl genpkey -algorithm ED25519 -out ed25519.pkcs8.pem
openssl pkcs8 -topk8 -nocrypt -in ed25519.pkcs8.pem -outform DER -out ed25519.pkcs8.der
openssl pkey -in ed25519.pkcs8.pem -pubout -outform DER -out ed25519.spki.der
# Encrypted keys (passphrase "test"), which the loader must refuse by name, in OpenSSL's
# traditional PEM encryption (Proc-Type/DEK-Info headers) and as PKCS#8 EncryptedPrivateKeyInfo.
openssl ec -in p256.pkcs8.pem -aes128 -passout pass:test -out p256.sec1-encrypted.pem
openssl rsa -in rsa2048.pkcs8.pem -traditional -aes128 -passout pass:test -out rsa2048.pkcs1-encrypted.pem
openssl pkcs8 -topk8 -v2 aes128 -in p256.pkcs8.pem -passout pass:test -out p256.pkcs8-encrypted.pem
