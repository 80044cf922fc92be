#!/usr/bin/env bash
# Makes the OCSP fixtures of tls-frontend's unit tests (config/ocsp.rs) with the OpenSSL CLI:
# an ECDSA P-256 CA, two leaves (serial 1001 good, 1002 revoked), a delegated responder
# (id-kp-OCSPSigning, serial 2001) and responses signed by the CA and by the delegate, with
# SHA-1 and SHA-256 CertIDs, and a second CA-signed response a second newer. The tests inject
# the time, so these files never go stale.
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.pem ./*.key ./*.der ./*.csr index.txt* ./*.cnf ./*.srl
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ec ca.key
openssl req -x509 -new -key ca.key -out ca.pem -subj "/CN=OCSP Fixture CA" -days 36500 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
cat > leaf.cnf <<'CNF'
[leaf]
subjectAltName = DNS:good.test
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/ocsp
tlsfeature = status_request
[responder]
extendedKeyUsage = OCSPSigning
keyUsage = critical,digitalSignature
CNF
issue() { # name serial section
  ec "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$2" -days 36500 \
    -extfile leaf.cnf -extensions "$3" -out "$1.pem"
}
issue good 1001 leaf
issue revoked 1002 leaf
issue responder 2001 responder
subject() { openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//'; }
printf 'V\t21000101000000Z\t\t1001\tunknown\t%s\n' "$(subject good.pem)" > index.txt
printf 'R\t21000101000000Z\t240101000000Z\t1002\tunknown\t%s\n' "$(subject revoked.pem)" >> index.txt
respond() { # cert signer hash out
  openssl ocsp -issuer ca.pem "-$3" -cert "$1.pem" -no_nonce -reqout req.der
  openssl ocsp -index index.txt -rsigner "$2.pem" -rkey "$2.key" -CA ca.pem -reqin req.der \
    -ndays 1 -respout "$4"
}
respond good ca sha1 good-by-ca.der
cp req.der good-request-sha1.der
sleep 1  # a newer response for the same certificate
respond good ca sha1 good-by-ca-newer.der
respond good responder sha256 good-by-responder-sha256.der
respond revoked responder sha1 revoked-by-responder.der
rm -f ./*.csr ./*.srl ./*.key req.der index.txt* leaf.cnf
