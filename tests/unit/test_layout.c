/* test_layout.c: the UI's layout rules as tables: how a page's rows are split between list and
 * form, scrolling that never shows rows past the end, list columns with gaps, marks, buttons. */
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "unit.h"

static void test_page_gives_the_list_what_the_form_does_not_need(void **state)
{
	/* view_rows: the screen less the status rows; avail = view_rows - 3 - button rows. */
	static const struct {
		const char *what;
		int view_rows, list_need, form_need, button_rows;
		int list_h, form_h, buttons_y;
	} cases[] = {
		{"120x35, 9 servers: all shown, spare rows below the form", 34, 9, 9, 1, 9, 21, 33},
		{"80x24, 9 servers: all shown", 23, 9, 9, 1, 9, 10, 22},
		{"80x24, 14 servers: the form first, the rest to the list", 23, 14, 9, 1, 10, 9, 22},
		{"50x12, two hint rows and two button rows: the list keeps two", 10, 9, 9, 2, 2, 3, 8},
		{"50x12 under a four-row status: list two, form one", 8, 9, 9, 2, 2, 1, 6},
		{"an empty list keeps one row for its words", 23, 0, 9, 1, 1, 18, 22},
		{"a long form leaves the list a third", 34, 40, 40, 1, 10, 20, 33},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tui t;
		struct layout_page p;
		char what[160];
		memset(&t, 0, sizeof t);
		t.view_rows = cases[i].view_rows;
		layout_page(&t, cases[i].list_need, cases[i].form_need, cases[i].button_rows, &p);
		snprintf(what, sizeof what, "%s: list rows", cases[i].what);
		EXPECT_INT(p.list_h, cases[i].list_h, what);
		snprintf(what, sizeof what, "%s: form rows", cases[i].what);
		EXPECT_INT(p.form_h, cases[i].form_h, what);
		snprintf(what, sizeof what, "%s: button row", cases[i].what);
		EXPECT_INT(p.buttons_y, cases[i].buttons_y, what);
		snprintf(what, sizeof what, "%s: the title right below the list", cases[i].what);
		EXPECT_INT(p.title_y, p.list_y + p.list_h, what);
		snprintf(what, sizeof what, "%s: the form ends above the buttons", cases[i].what);
		EXPECT_INT(p.form_y + p.form_h <= p.buttons_y, 1, what);
	}
}

static void test_scroll_keeps_the_selection_and_never_passes_the_end(void **state)
{
	static const struct {
		const char *what;
		size_t scroll, sel, n;
		int visible;
		size_t want;
	} cases[] = {
		{"at the top", 0, 0, 9, 5, 0},
		{"down to the last", 0, 8, 9, 5, 4},
		{"up above the view", 4, 2, 9, 5, 2},
		{"after two removals at the end", 6, 6, 7, 5, 2},
		{"a taller screen shows the whole list", 4, 8, 9, 12, 0},
		{"a list shorter than the view", 3, 0, 2, 5, 0},
		{"an empty list", 2, 0, 0, 5, 0},
		{"one row", 0, 3, 9, 1, 3},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t scroll = cases[i].scroll;
		layout_scroll(&scroll, cases[i].sel, cases[i].n, cases[i].visible);
		EXPECT_INT(scroll, cases[i].want, cases[i].what);
	}
}

static void test_marks_count_the_hidden_rows(void **state)
{
	static const struct {
		size_t scroll, n;
		int visible, row;
		const char *want;
	} cases[] = {
		{0, 9, 5, 0, ""},          {0, 9, 5, 4, "v 4 more"}, {3, 9, 5, 0, "^ 3 more"},
		{3, 9, 5, 4, "v 1 more"},  {3, 9, 5, 2, ""},         {4, 9, 5, 4, ""},
		{6, 9, 1, 0, "^6 v2"},     {0, 9, 1, 0, "v 8 more"}, {0, 3, 5, 0, ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[40], what[80];
		snprintf(what, sizeof what, "scroll %zu of %zu, %d rows, row %d", cases[i].scroll, cases[i].n,
			 cases[i].visible, cases[i].row);
		EXPECT_STR(layout_mark(cases[i].scroll, cases[i].n, cases[i].visible, cases[i].row, buf, sizeof buf),
			   cases[i].want, what);
	}
}

static void test_columns_keep_a_gap_and_shorten_or_drop_when_narrow(void **state)
{
	static const struct layout_col cols[] = {
		{"Description", NULL, 8, 36, 0},
		{"Server Name", "Name", 6, 24, 0},
		{"In Use By Account", "In Use By", 9, 40, 1},
	};
	static const struct {
		int width;
		const char *heads[3]; /* NULL: the column is left out */
	} cases[] = {
		{118, {"Description", "Server Name", "In Use By Account"}},
		{78, {"Description", "Server Name", "In Use By Account"}},
		{48, {"Description", "Name", "In Use By Account"}},
		{30, {"Description", "Name", "In Use By"}},
		{20, {"Description", "Name", NULL}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct layout_cols c;
		int prev_end = -1;
		char what[120];
		layout_columns(&c, cases[i].width, cols, 3);
		for (int k = 0; k < 3; k++) {
			if (cases[i].heads[k] == NULL) {
				snprintf(what, sizeof what, "width %d: column %d left out", cases[i].width, k);
				EXPECT_INT(c.w[k], 0, what);
				continue;
			}
			snprintf(what, sizeof what, "width %d: heading of column %d", cases[i].width, k);
			EXPECT_STR(c.head[k], cases[i].heads[k], what);
			snprintf(what, sizeof what, "width %d: a one-column gap before column %d", cases[i].width, k);
			EXPECT_INT(c.x[k], prev_end + 1, what);
			snprintf(what, sizeof what, "width %d: column %d no narrower than its least", cases[i].width, k);
			EXPECT_INT(c.w[k] >= cols[k].min, 1, what);
			prev_end = c.x[k] + c.w[k];
		}
		snprintf(what, sizeof what, "width %d: the last column ends at the edge", cases[i].width);
		EXPECT_INT(c.x[c.last] + c.w[c.last], cases[i].width, what);
	}
}

static void test_buttons_wrap_instead_of_being_cut(void **state)
{
	static const char *const servers[] = {"+ Add", "- Remove", "Check Connection", "Advanced", "OK", "Cancel"};
	static const struct {
		int cols, rows;
	} cases[] = {{120, 1}, {80, 1}, {75, 1}, {74, 2}, {50, 2}, {30, 4}};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[60];
		snprintf(what, sizeof what, "the server buttons' rows at %d columns", cases[i].cols);
		EXPECT_INT(layout_button_rows(1, cases[i].cols, servers, 6), cases[i].rows, what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_gives_the_list_what_the_form_does_not_need),
		cmocka_unit_test(test_scroll_keeps_the_selection_and_never_passes_the_end),
		cmocka_unit_test(test_marks_count_the_hidden_rows),
		cmocka_unit_test(test_columns_keep_a_gap_and_shorten_or_drop_when_narrow),
		cmocka_unit_test(test_buttons_wrap_instead_of_being_cut),
	};
	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
