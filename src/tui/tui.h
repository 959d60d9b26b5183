/* tui.h: what the pieces of `outbox ui` share: the screen and its keys, the widgets, the form
 * built from a record's field table, and the entry points of each view. */
#ifndef OUTBOX_TUI_H
#define OUTBOX_TUI_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include "outbox/outbox.h"

/* Keys as one int: Unicode code points as they are, ncurses function keys moved above the
 * Unicode range (so KEY_UP never looks like a letter), Alt+key as a flag on top. */
#define TK(k) (0x200000 | (k))
#define TK_ALT(c) (0x400000 | (c))
#define TK_NONE (-1)
#define TK_ESC 27
#define TK_TAB '\t'
#define TK_ENTER '\n'

enum tui_tab { TUI_TAB_ACCOUNTS, TUI_TAB_SERVERS, TUI_TAB_OUTBOX, TUI_TAB_COUNT };

/* Colour pairs, or plain attributes under NO_COLOR. */
enum tui_style {
	TS_NORMAL,
	TS_TITLE,    /* tab bar and pane titles */
	TS_SELECTED, /* the list row under the cursor */
	TS_FIELD,    /* an editable value */
	TS_FOCUS,    /* the field or button that has the focus */
	TS_ERROR,
	TS_OK,
	TS_DIM,
	TS_STATUS,
	TS_COUNT
};

/* A clickable place on the screen, recorded while drawing. */
struct tui_hit {
	int y, x0, x1;
	int tag, arg;
};

struct servers_view;
struct accounts_view;
struct outbox_view;

struct tui {
	outbox *h;
	int tab;
	int quit;
	int rows, cols;
	int view_rows; /* the rows above the status line, which the views lay themselves out in */
	int hint_rows; /* how many rows the last hint took, the first guess for the next frame */
	char status[512];
	int status_error;
	const char *hint; /* shown when there is no status message: the focused field's help */
	char hint_buf[600]; /* room for a hint that is made up, such as a field's whole error */
	struct tui_hit hits[128];
	int nhits;
	int mouse_y, mouse_x, mouse_click; /* the last mouse event */
	struct servers_view *servers;
	struct accounts_view *accounts;
	struct outbox_view *outbox;
};

/* screen.c */
int screen_init(void);
void screen_end(void);
int screen_attr(enum tui_style s);
int screen_color(void);
/* One key, waiting at most timeout_ms (-1 for ever); TK_NONE on timeout. */
int screen_getkey(struct tui *t, int timeout_ms);

/* main.c */
void tui_status(struct tui *t, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Draw the whole screen (tab bar, current view, status bar) without refreshing it. */
void tui_draw(struct tui *t);
/* Reload every view's data from the store (after an undo or another process's change). */
void tui_reload(struct tui *t);
/* Take back the last removal (the same as `outbox undo`), say what came back, and reload. */
void tui_undo(struct tui *t);
/* A NULL-terminated list joined with ", " into a new string (NULL when out of memory). */
char *tui_join(const char *const *items);
void tui_hit_add(struct tui *t, int y, int x0, int x1, int tag, int arg);
/* The keys the top bar names at its right; a dialog puts its own there (help and quit do not
 * reach through it). */
void tui_top_keys(struct tui *t, const char *keys);
int tui_hit_find(const struct tui *t, int y, int x, int *arg);

/* widgets.c */
/* Print at most `width` columns of `text` (UTF-8) at y,x, padding with spaces to `width`. */
void widget_text(int y, int x, int width, const char *text);
void widget_box(int y, int x, int h, int w, const char *title);
/* A button "[ OK ]" with its mnemonic letter underlined; returns its width. */
int widget_button(struct tui *t, int y, int x, const char *label, char mnemonic, int focused, int tag, int arg);
/* Buttons as one row, for dialogs: labels with '&' before the mnemonic. Returns the chosen index
 * (Enter on the focused one, its mnemonic, or a click) or -1 for Esc. */
int widget_dialog(struct tui *t, const char *title, const char *const *lines, const char *const *buttons,
		  int focus);
/* A drop-down: pick one of `items` (NULL-terminated) near y,x; returns the index or -1. */
int widget_dropdown(struct tui *t, int y, int x, const char *const *items, int current);
/* One-line text editing: insert, delete and move in a UTF-8 buffer. Returns 1 when the text
 * changed, 2 when the key only moved the cursor, 0 when the field does not handle it. */
int widget_edit(char *buf, size_t size, size_t *cursor, int key);
/* Draw an editable value of `width` columns keeping the cursor in view; masked shows '*'. */
void widget_field(int y, int x, int width, const char *value, size_t cursor, int focused, int masked);
/* The terminal cursor: forgotten before drawing, put in the focused field after. */
void widget_cursor_reset(void);
void widget_cursor_place(void);
/* 1 when a text field drawn since the reset has the focus: letters are typed, not keys. */
int widget_cursor_active(void);
/* Display columns of a UTF-8 string (code points, good enough for field scrolling). */
size_t widget_width(const char *s);
/* The rest of `s` after its first n code points (for wrapping a long line). */
const char *widget_skip(const char *s, size_t n);

/* layout.c: the geometry every view shares, so a terminal of any size is used in one way. */
/* A list-over-form page: tab bar, headings, list, the form's title, form, buttons, status. */
struct layout_page {
	int head_y, list_y, list_h, title_y, form_y, form_h, buttons_y, button_rows;
};
/* list_need: rows the list could show (its entries); form_need: the form's visible items. */
void layout_page(const struct tui *t, int list_need, int form_need, int button_rows, struct layout_page *p);
/* Keep sel in view with `visible` rows, and never scroll past the end of n entries. */
void layout_scroll(size_t *scroll, size_t sel, size_t n, int visible);
#define LAYOUT_MAX_COLS 8
#define LAYOUT_GAP 1
/* A list column: its heading (and a shorter one for narrow screens), the narrowest width worth
 * showing, its share of the room left, and when it goes on a narrow screen (0: never; the
 * highest goes first). */
struct layout_col {
	const char *head, *short_head;
	int min, weight, drop;
};
struct layout_cols {
	int n, last;                 /* last: the rightmost column shown */
	/* Where each column starts and its width, the gap not counted (w 0: left out). */
	int x[LAYOUT_MAX_COLS], w[LAYOUT_MAX_COLS];
	const char *head[LAYOUT_MAX_COLS];
};
void layout_columns(struct layout_cols *out, int width, const struct layout_col *cols, int n);
/* Text cut to `width` columns with an ellipsis when it does not fit, padded with spaces. */
void layout_cell(int y, int x, int width, const char *text);
/* One list row from x0: each cell cut to its column, then its gap; `mark` at the right edge. */
void layout_row(int y, int x0, const struct layout_cols *c, const char *const *texts, const char *mark);
void layout_heads(int y, int x0, const struct layout_cols *c);
/* The scroll mark of list row `row`: "^ 3 more" on the first, "v 4 more" on the last, or "". */
const char *layout_mark(size_t scroll, size_t n, int visible, int row, char *buf, size_t size);
/* Buttons from column x0, wrapped onto further rows rather than cut at x_end: how many rows,
 * and drawing them (the focused one highlighted, each a click target `tag` with its index). */
int layout_button_rows(int x0, int x_end, const char *const *labels, int n);
void layout_buttons(struct tui *t, int y, int x0, int x_end, const char *const *labels, const char *mnemonics,
		    int n, int focus, int tag);

/* form.c: a column of labelled fields generated from a field table. */
/* FORM_LIST is a list of names the view picks with a dialog of its own (fallback servers).
 * FORM_ACTION is a button (its label in `action`) with words beside it (in `value`). */
enum form_kind { FORM_TEXT, FORM_NUMBER, FORM_BOOL, FORM_CHOICE, FORM_PASSWORD, FORM_LIST, FORM_ACTION };

struct form_item {
	int id; /* the record's field id, or -1 for the password */
	const char *label;
	const char *help;
	enum form_kind kind;
	const char *const *choices;
	/* Optional, beside `choices`: what the drop-down and the field show for each choice (the
	 * words of a mail client, "Password (automatic)" for auto); the value saved stays the choice. */
	const char *const *choice_words;
	const char *action; /* FORM_ACTION: the button's label */
	char value[1024];
	size_t cursor;
	char error[256];
	char placeholder[64]; /* shown dimmed while a password field is empty: unchanged and not
			       * focused, or emptied by the user (then it says what OK will do) */
	char note[160];       /* words the view shows beside a box, dimmed ("" for none) */
	int changed; /* the user edited it since the record was loaded */
	int pending; /* edited since it was last put in the draft */
	int visible;
	int y, x;    /* where its value was last drawn, for the drop-down */
};

struct form {
	struct form_item *items;
	int count;
	int focus; /* index into items, or -1 when the focus is elsewhere */
	int scroll;
	int label_width;
	int top, height; /* where it was last drawn */
};

void form_init(struct form *f);
void form_free(struct form *f);
struct form_item *form_add(struct form *f, int id, const outbox_field *info);
struct form_item *form_find(struct form *f, int id);
/* Draw the visible items in rows top..top+height-1; records click targets with `tag`. */
void form_draw(struct tui *t, struct form *f, int top, int height, int tag);
/* Move the focus to the next (dir 1) or previous (-1) visible item; 0 when it would leave the form. */
int form_move(struct form *f, int dir);
/* Handle a key for the focused item; returns 1 when the value changed, 2 when handled without
 * change, 0 when not handled, FORM_PRESSED when Enter or Space pressed an action's button. A
 * choice opens its drop-down on Enter or Space. */
#define FORM_PRESSED 3
int form_key(struct tui *t, struct form *f, int key);
int form_has_errors(const struct form *f);
int form_first_visible(const struct form *f, int from, int dir);
void form_set_value(struct form_item *it, const char *value);
/* A field's error in the form's words: "Server Name is required", "Port: \"0\" is not ...". */
void form_field_message(char *buf, size_t size, const char *label, const char *detail);
/* What the status bar says about the focused item: its error in full ("Port: ...") when it has
 * one, written to buf, else its help; NULL without a focused item. */
const char *form_hint(const struct form *f, char *buf, size_t size);

/* record_view.c: the editing machinery the Servers and Accounts views share: a list of saved
 * records, the selected one (or a new one) as a draft in a form, OK, Cancel, conflicts and undo. */
enum record_zone { RV_ZONE_LIST, RV_ZONE_FORM, RV_ZONE_BUTTONS };

struct record_view;

/* What a record type gives the shared machinery: its library calls behind void pointers, and
 * the few places where the views differ in what they show. */
struct record_ops {
	const char *noun; /* "server": for "Saved server ..." */
	int quote;        /* name a record as server "x" (1) or as account x (0) */
	int key_field;    /* the field that names a record: the server name, the account address */
	/* Shown when Remove finds nothing selected; NULL to just cancel instead. */
	const char *none_to_remove;
	void *(*make)(void);
	int (*load)(outbox *h, const char *key, void **out);
	void (*drop)(void *rec);
	const char *(*get)(const void *rec, int id);
	/* Also gets the form items of ids below 0 that the view added itself (the password). */
	int (*set)(outbox *h, void *rec, int id, const char *value);
	int (*save)(outbox *h, void *rec);
	int (*list)(outbox *h, void **out, size_t *count);
	const void *(*list_at)(const void *list, size_t i);
	void (*list_drop)(void *list, size_t count);
	/* 1 with the form item's id in *id when a save failure's field key names one, else 0. */
	int (*field_by_key)(const char *key, int *id);
	/* Optional: show a form item of the view's own (id below 0) for the current draft. */
	void (*fill_own)(struct record_view *rv, struct form_item *it, int keep_errors);
	/* Optional: after the list was read again (drop-downs built from it). */
	void (*listed)(struct tui *t, struct record_view *rv);
	/* Optional: make form item `index` visible (switch page) before it gets the focus. */
	void (*reveal)(struct record_view *rv, int index);
	/* Optional: asked when OK (or Save on leaving) is about to save: 0 to save, 1 when nothing is
	 * left to save (the view reset the draft), -1 to keep editing without saving. */
	int (*confirm_save)(struct tui *t, struct record_view *rv);
	/* The question before leaving unsaved edits, and the record as "Unsaved changes to ..." names it. */
	void (*ask_save)(const struct record_view *rv, char *buf, size_t size);
	void (*edited_name)(const struct record_view *rv, char *buf, size_t size);
};

/* Embedded first in each view's struct, so a callback can get back to its view. */
struct record_view {
	const struct record_ops *ops;
	void *list; /* the type's own list, read with ops->list_at */
	size_t n, sel, scroll;
	void *draft;
	char orig[320]; /* the key the draft was loaded as, "" for a new one */
	int adding;     /* the draft is a new record, not yet in the list */
	int dirty;
	int zone, button;
	struct form form;
};

/* Read the list and load the selected record into rv->form, which the view has built already. */
void record_view_init(struct tui *t, struct record_view *rv, const struct record_ops *ops);
void record_view_free(struct record_view *rv);
const void *record_view_at(const struct record_view *rv, size_t i);
const char *record_view_key_at(const struct record_view *rv, size_t i);
void record_view_reload(struct tui *t, struct record_view *rv);
int record_view_apply_item(struct tui *t, struct record_view *rv, struct form_item *it);
void record_view_apply_focused(struct tui *t, struct record_view *rv);
int record_view_ok(struct tui *t, struct record_view *rv);
void record_view_cancel(struct tui *t, struct record_view *rv);
int record_view_leave(struct tui *t, struct record_view *rv);
void record_view_select(struct tui *t, struct record_view *rv, size_t sel);
/* Add: replace the draft with a new record (NULL when out of memory); the view fills in what it
 * starts with, then record_view_edit_new() shows it in the form. */
void *record_view_new_draft(struct tui *t, struct record_view *rv);
void record_view_edit_new(struct record_view *rv);
/* Remove: settle a new record or unsaved edits first; the selected record, or NULL for nothing
 * more to do. record_view_removed() shows the list again after the view removed it. */
const void *record_view_remove_start(struct tui *t, struct record_view *rv);
void record_view_removed(struct tui *t, struct record_view *rv);
void record_view_undo(struct tui *t, struct record_view *rv);
/* A value typed or picked in the form changed: boxes and drop-downs go to the draft at once. */
void record_view_changed(struct tui *t, struct record_view *rv, struct form_item *it);
/* The keys both views treat alike: Esc, Up/Down/Home/End in the list, Tab and arrows in the
 * form and between the buttons; 0 when the key is none of those. */
int record_view_key(struct tui *t, struct record_view *rv, int key, int ok_button, int nbuttons);
/* Lay out the page (list of `total` rows over the form, `button_rows` of buttons), draw the
 * column headings and scroll the list to keep the selection in view. */
void record_view_draw_list_top(struct tui *t, struct record_view *rv, size_t total, int button_rows,
			       const struct layout_cols *c, struct layout_page *p);
/* Draw the form in the page's form rows, and its hint. */
void record_view_draw_form(struct tui *t, struct record_view *rv, const struct layout_page *p, int tag);
/* The form's title row: `title` cut with an ellipsis to end before column `end`. */
void record_view_draw_title(struct tui *t, const struct layout_page *p, const char *title, int end);

/* servers.c */
/* "Edit manually" of Add Account: a new server from `draft` (taken over) in the server form;
 * once its OK saves it, the Accounts form for `address` on it follows. */
void servers_add_draft(struct tui *t, struct servers_view *v, outbox_server *draft, const char *address,
		       const char *full_name);
struct servers_view *servers_new(struct tui *t);
void servers_free(struct servers_view *v);
void servers_draw(struct tui *t, struct servers_view *v);
/* Each view's key handler returns 0 for a key it leaves to the global ones (q, ?, 1-3). */
int servers_key(struct tui *t, struct servers_view *v, int key);
void servers_reload(struct tui *t, struct servers_view *v);
int servers_dirty(const struct servers_view *v);
/* Accept or throw away unsaved edits before leaving the view; 0 when it may be left. */
int servers_leave(struct tui *t, struct servers_view *v);
/* Server names for drop-downs (NULL-terminated, owned by the view). */
const char *const *servers_names(struct servers_view *v);
/* The same servers in a mail client's words, "Description (host)" (NULL-terminated, owned by the view). */
const char *const *servers_words(struct servers_view *v);
/* The default server's name, else the first server's, else NULL: what a new account starts with. */
const char *servers_default_name(struct servers_view *v);

/* server_removal.c: Remove the selected server of the Servers view after a dialog naming every
 * change it makes (the library's removal plan), then show the list again. */
void server_removal_run(struct tui *t, struct record_view *rv);

/* accounts.c */
struct accounts_view *accounts_new(struct tui *t);
void accounts_free(struct accounts_view *v);
void accounts_draw(struct tui *t, struct accounts_view *v);
int accounts_key(struct tui *t, struct accounts_view *v, int key);
void accounts_reload(struct tui *t, struct accounts_view *v);
int accounts_leave(struct tui *t, struct accounts_view *v);
/* A new account in the form, filled in, on the Accounts page, for OK to add. */
void accounts_add_prefilled(struct tui *t, struct accounts_view *v, const char *address, const char *full_name,
			    const char *server);

/* outbox_view.c */
struct outbox_view *outbox_view_new(struct tui *t);
void outbox_view_free(struct outbox_view *v);
void outbox_view_draw(struct tui *t, struct outbox_view *v);
int outbox_view_key(struct tui *t, struct outbox_view *v, int key);
void outbox_view_reload(struct tui *t, struct outbox_view *v);

/* check_view.c: run the connection check on a draft and show each step as it completes, until
 * Close. When the failed step's fix is a change of fields, Apply calls `apply` (when not NULL)
 * with each field and value in order, for the view to put in its form and draft; it returns 0,
 * or -1 when the value was refused (the view has said why). */
typedef int (*check_apply_fn)(struct tui *t, void *ctx, int field, const char *value);
void check_run(struct tui *t, const outbox_server *s, check_apply_fn apply, void *ctx);

/* wrap.c: the bytes of `s` that fit in `width` screen columns, ending at a space when the rest
 * does not fit (a longer word is cut); *next is where the next line starts, spaces skipped. */
size_t wrap_next(const char *s, int width, const char **next);
/* wrap.c: `text` at y,x in rows of `width` columns, cut at spaces, the rows after the first
 * indented by `indent`; at most `rows` rows. Returns how many it used. */
int wrap_text(int y, int x, int width, int rows, int indent, const char *text);

/* outbox_replies.c: each server's latest words about message m, in the order tried, pointing
 * into m (at most max; the oldest are left out). A reply names the servers it tried ("main:
 * 421 ...; backup: connection refused", as the library joins them), each a saved server or the
 * attempt's own; one naming none is the attempt's server's. Returns how many. */
#define OUTBOX_REPLY_PARTS 8
struct outbox_reply_part {
	const char *server, *words;
	int server_len, words_len;
};
size_t outbox_replies_split(struct tui *t, const outbox_queue_message *m, struct outbox_reply_part *parts,
			    size_t max);

/* outbox_send.c: Retry and Retry All: make message `id` (0: every one) due and send it now in a
 * worker, with "Sending 1 of 3..." and then each message's outcome in a dialog until Close.
 * Esc closes the dialog and leaves the send running: then the job is returned for the view to
 * follow with outbox_send_poll, else NULL (finished, or it could not start: the status says). */
struct outbox_send_job;
struct outbox_send_job *outbox_send_now(struct tui *t, long long id, const long long *ids, size_t nids);
/* A send left running: 0 while it runs (with its progress in the status bar), 1 when it ended
 * (its outcome in the status bar, the job released). */
int outbox_send_poll(struct tui *t, struct outbox_send_job *j);
void outbox_send_release(struct outbox_send_job *j);

/* worker.c: a network job in a detached thread of its own (0, or -1 when none could start). */
int worker_spawn(void (*fn)(void *arg), void *arg);
/* Before exit: wait at most timeout_ms for jobs the user closed to end by themselves. */
void worker_shutdown(int timeout_ms);

/* A job a dialog shares with its worker: the view's own job struct starts with one. Both hold a
 * reference and whoever lets go last frees it, so Esc closes the dialog at once while the
 * worker still waits for the network. `lock` guards everything both sides read or write: the
 * fields here, and whatever the view's callbacks copy in (the library's strings are valid
 * only during its callback). */
struct worker_job {
	pthread_mutex_t lock;
	int refs;
	unsigned changes; /* bumped with each report, so a dialog redraws only when one came */
	int done, rc;
	char errmsg[600];
	/* On the worker with a handle of its own on the dialog's store (one handle per thread). */
	int (*run)(outbox *h, struct worker_job *j);
	/* Frees the view's part and the struct, once both sides let go. */
	void (*destroy)(struct worker_job *j);
	char *home;
};
/* Start j->run on a worker for the store `t` has open; j is the view's calloc'ed struct with run
 * and destroy set. 0, or -1 with j destroyed. The caller then holds one reference. */
int worker_job_start(struct tui *t, struct worker_job *j);
void worker_job_release(struct worker_job *j);

/* signin_view.c: OAuth sign-in of the saved server `name` (user: who signs in, for the words) in
 * a worker, with the code and address or the browser shown until Close; 1 when it signed in.
 * signin_sign_out does the same for signing out. */
int signin_run(struct tui *t, const char *name, const char *user);
int signin_sign_out(struct tui *t, const char *name);
/* The sign-in state of a saved server in words: "Signed in (token valid until 14:05)", ... */
void signin_state_words(struct tui *t, const outbox_server *s, char *buf, size_t size);

/* fallback_picker.c: the Fallback Servers checklist. `servers` are all server names, `own` the
 * account's server (left out), `current` the fallbacks now, in order. Returns 1 with the choice
 * as "a,b" ("" for none) in out, 0 when cancelled or there is nothing to pick. */
int fallback_pick(struct tui *t, const char *title, const char *const *servers, const char *own,
		  const char *const *current, char *out, size_t size);

/* setup_view.c: "Add Account...": address, name and password, the discovery with its progress,
 * and the server found shown before Save, Edit manually (the server form) or Cancel. */
void setup_add_account(struct tui *t);

/* help.c */
void help_show(struct tui *t);

int tui_main(int argc, char **argv);

#endif
