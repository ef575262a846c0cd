// Always-on assertions for programmer errors (broken invariants). A failed assertion logs the
// condition and aborts: the ledger must never continue from a state it cannot explain.
// Never assert on user input or on the environment; those are refusals or Errors.
#pragma once

#include <cstdio>
#include <cstdlib>

#define REGISTRY_ASSERT(cond)                                                          \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)
