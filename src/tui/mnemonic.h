/* mnemonic.h: the underlined letters of a dialog's buttons ("&Remove" is r), kept apart from
 * curses so the rule that no two buttons of a dialog share one is unit-tested. */
#ifndef OUTBOX_TUI_MNEMONIC_H
#define OUTBOX_TUI_MNEMONIC_H

/* The lower-case letter after '&' in a button's label, or 0 when it has none. */
int mnemonic_of(const char *label);
/* Index of the first button (NULL-terminated list) whose letter an earlier one has already,
 * or -1 when every button's letter is its own. */
int mnemonic_clash(const char *const *buttons);

#endif
