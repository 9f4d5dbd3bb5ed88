/* HK_WEAK marks the definition of each public function of the ref kernels (those of hk_nn.h and
 * hk_support.h) as weak, so that a kernel variant (`--kernels DIR`, docs/adding-a-kernel.md) can
 * replace any of them, function by function, with an ordinary (strong) definition of its own;
 * every function the variant does not define stays the ref one. The linked image keeps the
 * binding: a ref function's symbol is WEAK, a variant's GLOBAL, which is how the harness reports
 * which layers ran on which variant.
 *
 * Only definitions carry it, never the declarations in the public headers, a static helper or a
 * check (hk_check.c: the checks are the contract, not a kernel). A variant's sources are compiled
 * with HK_WEAK defined empty: a ref file copied into a variant defines strong functions as it is. */
#ifndef HK_WEAK_H
#define HK_WEAK_H

#ifndef HK_WEAK
#define HK_WEAK __attribute__((weak))
#endif

#endif
