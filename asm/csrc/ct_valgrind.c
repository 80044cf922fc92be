/*
 * Memcheck client requests for the constant-time check (built only with the `ct-valgrind`
 * feature). Marking a secret "undefined" makes Memcheck report any branch or memory address
 * computed from it; marking a result "defined" declassifies a value that is public by design
 * (a ciphertext, a tag verdict). Outside Valgrind these are no-ops.
 */
#include <stddef.h>
#include <valgrind/memcheck.h>

void tlsfe_ct_secret(const void *p, size_t n) { VALGRIND_MAKE_MEM_UNDEFINED(p, n); }
void tlsfe_ct_public(const void *p, size_t n) { VALGRIND_MAKE_MEM_DEFINED(p, n); }
