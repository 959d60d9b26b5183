/* fuzz_doctor_form.c: libFuzzer target for the advice reworded for a form (doctor_form.c), which
 * reads commands and options out of text that names the user's host, user and server.
 *
 * Input: byte 0 picks the output buffer's size (1 to 256, or a large one); the rest is the advice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doctor_advice.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *advice, *out;
	size_t out_size;

	if (size < 1)
		return 0;
	out_size = data[0] == 0xff ? 4 * size + 64 : (size_t)data[0] + 1;
	advice = malloc(size);
	out = malloc(out_size);
	if (advice == NULL || out == NULL) {
		free(advice);
		free(out);
		return 0;
	}
	/* The advice is a C string: the bytes up to the first NUL. */
	memcpy(advice, data + 1, size - 1);
	advice[size - 1] = '\0';
	memset(out, 'x', out_size);
	doctor_form_words(advice, out, out_size);
	/* Terminated inside the buffer, whatever was cut. */
	CHECK(memchr(out, '\0', out_size) != NULL);
	/* Text with no option and no command comes out as it went in. */
	if (out_size > strlen(advice) && strstr(advice, "--") == NULL && strstr(advice, "outbox server ") == NULL)
		CHECK(strcmp(out, advice) == 0);
	free(advice);
	free(out);
	return 0;
}
