/* fuzz.h: what every fuzz target shares: libFuzzer's entry point, and CHECK, which turns a broken
 * property into a crash the fuzzer records (an assert would vanish under NDEBUG). */
#ifndef OUTBOX_FUZZ_H
#define OUTBOX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond))                                                                 \
			abort();                                                             \
	} while (0)

#endif
