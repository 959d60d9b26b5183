/* test_tui_text.c: the UI's text in screen columns (wide CJK, combining marks, control
 * characters, a field scrolled to its cursor) and the dialogs' button letters, as got/want tables. */
#include <locale.h>

#include "mnemonic.h"
#include "textcol.h"
#include "unit.h"

static int setup_utf8(void **state)
{
	(void)state;
	/* The UI runs in the user's UTF-8 locale; C.UTF-8 is always there on glibc. */
	return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1;
}

static void test_width_counts_columns(void **state)
{
	static const struct {
		const char *text;
		size_t cols;
	} cases[] = {
		{"", 0},
		{"abc", 3},
		{"日本語", 6},                   /* CJK: two columns each */
		{"e\xcc\x81t\xc3\xa9", 3},       /* e + combining acute, t, precomposed é */
		{"a\tb\x01", 4},                 /* controls are shown as '?', one column each */
		{"\xff" "x", 2},                 /* an invalid byte is one '?' */
		{"\xf0\x9f\x98\x80!", 3},        /* emoji: two columns */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[80];
		snprintf(what, sizeof what, "columns of case %zu", i);
		EXPECT_INT(textcol_width(cases[i].text), cases[i].cols, what);
	}
}

static void test_skip_stops_at_columns(void **state)
{
	static const struct {
		const char *text;
		size_t cols;
		const char *rest;
	} cases[] = {
		{"hello world", 5, " world"},
		{"日本語テキスト", 5, "語テキスト"},  /* 日本 is 4 columns; 語 would make 6 */
		{"日本語", 1, "本語"},              /* a wide first character still moves on */
		{"e\xcc\x81x", 1, "x"},              /* the mark stays with its letter */
		{"ab", 0, "ab"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[80];
		snprintf(what, sizeof what, "rest of case %zu", i);
		EXPECT_STR(textcol_skip(cases[i].text, cases[i].cols), cases[i].rest, what);
	}
}

static void test_prev_next_step_over_marks(void **state)
{
	const char *s = "ae\xcc\x81日"; /* a(0) e(1) mark(2..3) 日(4..6) */

	(void)state;
	EXPECT_INT(textcol_next(s, 0), 1, "next from a");
	EXPECT_INT(textcol_next(s, 1), 4, "next from e skips its mark");
	EXPECT_INT(textcol_next(s, 4), 7, "next from 日 is the end");
	EXPECT_INT(textcol_next(s, 7), 7, "next at the end stays");
	EXPECT_INT(textcol_prev(s, 7), 4, "prev from the end lands on 日");
	EXPECT_INT(textcol_prev(s, 4), 1, "prev from 日 lands on e, not its mark");
	EXPECT_INT(textcol_prev(s, 0), 0, "prev at the start stays");
}

static void test_fit_pads_and_cuts_in_columns(void **state)
{
	static const struct {
		const char *text;
		int width;
		const char *want;
	} cases[] = {
		{"abc", 5, "abc  "},
		{"abcdef", 3, "abc"},
		{"日本語", 5, "日本 "},         /* 語 would cross the edge: a space instead */
		{"日本語", 6, "日本語"},
		{"a\x1b[2Jb", 6, "a?[2Jb"},     /* an escape is never sent to the terminal */
		{"e\xcc\x81", 2, "e\xcc\x81 "},
		{"\xcc\x81x", 2, "x "},          /* a mark with no letter before it is dropped */
		{"", 0, ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64], what[80];
		snprintf(what, sizeof what, "case %zu cut to %d columns", i, cases[i].width);
		textcol_fit(cases[i].text, cases[i].width, out, sizeof out);
		EXPECT_STR(out, cases[i].want, what);
		EXPECT_INT(textcol_width(out), cases[i].width, what);
	}
}

static void test_field_scrolls_to_the_cursor(void **state)
{
	static const struct {
		const char *value;
		size_t cursor; /* bytes */
		int width, masked;
		const char *want;
		int want_x;
	} cases[] = {
		{"abc", 3, 6, 0, "abc   ", 3},
		{"abc", 1, 6, 0, "abc   ", 1},
		{"abcdefgh", 8, 5, 0, "efgh ", 4},       /* at the end: the end's cell in view */
		{"abcdefgh", 0, 5, 0, "abcde", 0},
		{"日本語テキスト", 0, 6, 0, "日本語", 0},
		{"日本語テキスト", 9, 6, 0, "本語テ", 4},  /* on テ: scrolled just enough to show it */
		{"日本語テキスト", 21, 6, 0, " スト ", 5}, /* キ half out of view: a space */
		{"ab日本", 8, 5, 0, "日本 ", 4},
		{"secret", 6, 4, 1, "*** ", 3},
		{"日本", 6, 3, 1, "** ", 2},               /* one star per character, whatever its width */
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64], what[80];
		int x = textcol_field(cases[i].value, cases[i].cursor, cases[i].width, cases[i].masked, out,
				      sizeof out);
		snprintf(what, sizeof what, "field case %zu", i);
		EXPECT_STR(out, cases[i].want, what);
		EXPECT_INT(textcol_width(out), cases[i].width, what);
		snprintf(what, sizeof what, "cursor column of field case %zu", i);
		EXPECT_INT(x, cases[i].want_x, what);
	}
}

static void test_mnemonics(void **state)
{
	static const char *const fine[] = {"&Remove and move", "Choose &server...", "&Cancel", NULL};
	static const char *const clash[] = {"&Remove and move", "&Choose server...", "&Cancel", NULL};
	static const char *const none[] = {"OK", "&Close", NULL};

	(void)state;
	EXPECT_INT(mnemonic_of("&Remove"), 'r', "letter of &Remove");
	EXPECT_INT(mnemonic_of("Sign &out"), 'o', "letter of Sign &out");
	EXPECT_INT(mnemonic_of("Close"), 0, "no '&', no letter");
	EXPECT_INT(mnemonic_clash(fine), -1, "distinct letters");
	EXPECT_INT(mnemonic_clash(clash), 2, "Cancel clashes with Choose");
	EXPECT_INT(mnemonic_clash(none), -1, "a button without a letter clashes with nothing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width_counts_columns),
		cmocka_unit_test(test_skip_stops_at_columns),
		cmocka_unit_test(test_prev_next_step_over_marks),
		cmocka_unit_test(test_fit_pads_and_cuts_in_columns),
		cmocka_unit_test(test_field_scrolls_to_the_cursor),
		cmocka_unit_test(test_mnemonics),
	};

	return cmocka_run_group_tests(tests, setup_utf8, NULL);
}
