/* fuzz_msmtprc.c: libFuzzer target for msmtp's configuration and aliases files. Whatever the
 * bytes, the reader either refuses with a line number or keeps only what it promises. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "msmtprc.h"
#include "fuzz.h"

static int alias_seen(void *ctx, int line, const char *name, const char *addresses)
{
	int *last = ctx;

	/* Lines come in order; a name and its list are never empty and carry no comment or colon. */
	CHECK(line > *last);
	*last = line;
	CHECK(*name != '\0' && *addresses != '\0');
	CHECK(strchr(name, ':') == NULL && strchr(name, '#') == NULL);
	CHECK(strchr(addresses, '#') == NULL);
	CHECK(addresses[0] != ' ' && addresses[strlen(addresses) - 1] != ' ');
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msmtprc rc;
	char err[300];
	size_t i, k;
	int got, last = 0;

	got = msmtprc_parse((const char *)data, size, &rc, err, sizeof err);
	CHECK(got == 0 || got == -1 || got == -2);
	if (got == -1)
		CHECK(strncmp(err, "line ", 5) == 0);
	if (got != 0) {
		CHECK(rc.naccounts == 0 && rc.nnotes == 0);
	} else {
		for (i = 0; i < rc.naccounts; i++) {
			const struct msmtprc_account *a = &rc.accounts[i];

			CHECK(*a->name != '\0' && a->line >= 1);
			CHECK(msmtprc_find(&rc, a->name) == a); /* names are unique */
			for (k = 0; k < MSMTPRC_KEY_COUNT; k++) {
				const char *v = a->set[k].value;
				size_t j;

				if (v == NULL)
					continue;
				/* A value is one line of text: no control byte but tab. */
				for (j = 0; v[j]; j++)
					CHECK((unsigned char)v[j] >= 0x20 || v[j] == '\t');
				CHECK(a->set[k].line >= 1);
			}
		}
		for (i = 0; i < rc.nnotes; i++)
			CHECK(rc.notes[i].line >= 1 && rc.notes[i].key[0] != '\0');
	}
	msmtprc_free(&rc);

	got = msmtprc_aliases_parse((const char *)data, size, alias_seen, &last, err, sizeof err);
	CHECK(got == 0 || got == -1);
	if (got == -1)
		CHECK(strncmp(err, "line ", 5) == 0 || strcmp(err, "out of memory") == 0);
	return 0;
}
