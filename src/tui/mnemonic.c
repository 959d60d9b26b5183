/* mnemonic.c: the underlined letters of dialog buttons: what a label's '&' marks, and whether
 * two buttons of one dialog would answer to the same Alt+letter. */
#include <string.h>

#include "mnemonic.h"

int mnemonic_of(const char *label)
{
	const char *amp = strchr(label, '&');

	if (amp == NULL || amp[1] == '\0' || (unsigned char)amp[1] >= 128)
		return 0;
	return amp[1] >= 'A' && amp[1] <= 'Z' ? amp[1] | 0x20 : amp[1];
}

int mnemonic_clash(const char *const *buttons)
{
	for (int i = 0; buttons[i]; i++) {
		int m = mnemonic_of(buttons[i]);
		for (int j = 0; m && j < i; j++)
			if (mnemonic_of(buttons[j]) == m)
				return i;
	}
	return -1;
}
