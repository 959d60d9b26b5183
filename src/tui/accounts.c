/* accounts.c: the Accounts view: each account with its address, name and "Outgoing Mail Server"
 * as a drop-down of the server list, and every other field of the account table below it; new
 * accounts are added in the same form, and removed ones come back with undo. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

enum { BTN_ADD, BTN_SETUP, BTN_REMOVE, BTN_OK, BTN_CANCEL, BTN_SERVERS, BTN_COUNT };
enum { HIT_ROW = 20, HIT_FIELD, HIT_BUTTON };

#define ACCOUNTS_EDIT_SERVERS "Edit Server List..."

struct accounts_view {
	struct record_view rv; /* first, so the record callbacks can get back to the view */
	char **server_choices; /* server names, "" for None and "Edit Server List...", NULL-terminated */
	char **server_words;   /* the same as the drop-down shows them: "Description (host)", "None", ... */
};

/* The server field's "None": an account always sends through a server, so None is the default one. */
#define ACCOUNTS_NONE_WORDS "None (the default server)"

static void accounts_free_choices(struct accounts_view *v)
{
	for (size_t i = 0; v->server_choices && v->server_choices[i]; i++)
		free(v->server_choices[i]);
	free(v->server_choices);
	v->server_choices = NULL;
	for (size_t i = 0; v->server_words && v->server_words[i]; i++)
		free(v->server_words[i]);
	free(v->server_words);
	v->server_words = NULL;
}

/* The drop-down of the server field: the server list as it is now, each server as "Description
 * (host)" with its short name as the value saved, None, then the way to edit the list. */
static void accounts_rec_listed(struct tui *t, struct record_view *rv)
{
	struct accounts_view *v = (struct accounts_view *)rv;
	const char *const *names = servers_names(t->servers), *const *words = servers_words(t->servers);
	struct form_item *it = form_find(&rv->form, OUTBOX_ACCOUNT_SERVER);
	size_t n = 0, nwords = 0, i;

	accounts_free_choices(v);
	while (names[n])
		n++;
	while (words[nwords])
		nwords++; /* fewer than names only when memory ran out: those show their names */
	v->server_choices = calloc(n + 3, sizeof *v->server_choices);
	v->server_words = calloc(n + 3, sizeof *v->server_words);
	if (v->server_choices == NULL || v->server_words == NULL) {
		accounts_free_choices(v);
		if (it) /* not left pointing at the lists just freed */
			it->choices = it->choice_words = NULL;
		return;
	}
	for (i = 0; i < n; i++) {
		v->server_choices[i] = strdup(names[i]);
		v->server_words[i] = strdup(i < nwords ? words[i] : names[i]);
	}
	v->server_choices[n] = strdup("");
	v->server_words[n] = strdup(ACCOUNTS_NONE_WORDS);
	v->server_choices[n + 1] = strdup(ACCOUNTS_EDIT_SERVERS);
	v->server_words[n + 1] = strdup(ACCOUNTS_EDIT_SERVERS);
	if (it) {
		it->choices = (const char *const *)v->server_choices;
		it->choice_words = (const char *const *)v->server_words;
	}
}

/* The library's account calls as the record view sees them. */
static void *accounts_rec_make(void)
{
	return outbox_account_new();
}

static int accounts_rec_load(outbox *h, const char *key, void **out)
{
	outbox_account *a = NULL;
	int rc = outbox_account_load(h, key, &a);

	*out = a;
	return rc;
}

static void accounts_rec_drop(void *rec)
{
	outbox_account_free(rec);
}

static const char *accounts_rec_get(const void *rec, int id)
{
	return outbox_account_get(rec, (outbox_account_field_id)id);
}

static int accounts_rec_set(outbox *h, void *rec, int id, const char *value)
{
	return outbox_account_set(h, rec, (outbox_account_field_id)id, value);
}

static int accounts_rec_save(outbox *h, void *rec)
{
	return outbox_account_save(h, rec);
}

static int accounts_rec_list(outbox *h, void **out, size_t *count)
{
	outbox_account **list = NULL;
	int rc = outbox_account_list(h, &list, count);

	*out = list;
	return rc;
}

static const void *accounts_rec_at(const void *list, size_t i)
{
	return ((outbox_account *const *)list)[i];
}

static void accounts_rec_list_drop(void *list, size_t count)
{
	outbox_account_list_free(list, count);
}

static int accounts_rec_field_by_key(const char *key, int *id)
{
	*id = outbox_account_field_by_key(key);
	return *id >= 0;
}

/* The new account's address, or what to say while it has none. */
static const char *accounts_address_or(const struct record_view *rv, const char *none)
{
	const char *address = outbox_account_get(rv->draft, OUTBOX_ACCOUNT_ADDRESS);

	return *address ? address : none;
}

static void accounts_rec_ask_save(const struct record_view *rv, char *buf, size_t size)
{
	if (rv->adding)
		snprintf(buf, size, "Add the new account %s?", accounts_address_or(rv, "(no address yet)"));
	else
		snprintf(buf, size, "Save the changes to account %s?", rv->orig);
}

static void accounts_rec_edited_name(const struct record_view *rv, char *buf, size_t size)
{
	snprintf(buf, size, "%s", rv->adding ? "the new account" : rv->orig);
}

static const struct record_ops accounts_ops = {
	.noun = "account",
	.quote = 0,
	.key_field = OUTBOX_ACCOUNT_ADDRESS,
	.none_to_remove = "No account to remove: the list is empty; a (or +) adds one.",
	.make = accounts_rec_make,
	.load = accounts_rec_load,
	.drop = accounts_rec_drop,
	.get = accounts_rec_get,
	.set = accounts_rec_set,
	.save = accounts_rec_save,
	.list = accounts_rec_list,
	.list_at = accounts_rec_at,
	.list_drop = accounts_rec_list_drop,
	.field_by_key = accounts_rec_field_by_key,
	.listed = accounts_rec_listed,
	.ask_save = accounts_rec_ask_save,
	.edited_name = accounts_rec_edited_name,
};

struct accounts_view *accounts_new(struct tui *t)
{
	struct accounts_view *v = calloc(1, sizeof *v);

	if (v == NULL)
		return NULL;
	form_init(&v->rv.form);
	/* Every field the table has, in its order: retry settings or anything else added later
	 * appear here without a change to the UI. */
	for (int id = 0; id < OUTBOX_ACCOUNT_FIELD_COUNT; id++) {
		struct form_item *it = form_add(&v->rv.form, id, outbox_account_field_info((outbox_account_field_id)id));
		if (it && id == OUTBOX_ACCOUNT_SERVER)
			it->help = "the server this account sends through; None: the default server";
	}
	record_view_init(t, &v->rv, &accounts_ops);
	return v;
}

void accounts_free(struct accounts_view *v)
{
	if (v == NULL)
		return;
	record_view_free(&v->rv);
	accounts_free_choices(v);
	free(v);
}

void accounts_reload(struct tui *t, struct accounts_view *v)
{
	record_view_reload(t, &v->rv);
}

int accounts_leave(struct tui *t, struct accounts_view *v)
{
	return record_view_leave(t, &v->rv);
}

/* Coming back from the server list, the focus is on what led there, the Outgoing Mail Server
 * drop-down, never in a text field where the next letter would be typed instead of acting. */
static void accounts_focus_after_servers(struct accounts_view *v)
{
	struct record_view *rv = &v->rv;
	struct form_item *server = form_find(&rv->form, OUTBOX_ACCOUNT_SERVER);

	if (rv->zone != RV_ZONE_FORM)
		return;
	if (rv->draft && server && server->visible)
		rv->form.focus = (int)(server - rv->form.items);
	else
		rv->zone = RV_ZONE_LIST;
}

static void accounts_edit_servers(struct tui *t, struct accounts_view *v)
{
	if (record_view_leave(t, &v->rv) < 0)
		return;
	accounts_focus_after_servers(v);
	t->tab = TUI_TAB_SERVERS;
}

static void accounts_add(struct tui *t, struct accounts_view *v)
{
	const char *server;

	if (record_view_leave(t, &v->rv) < 0)
		return;
	if ((server = servers_default_name(t->servers)) == NULL) {
		tui_status(t, 1, "An account sends through a server: add one first (2: Servers, then +).");
		return;
	}
	if (record_view_new_draft(t, &v->rv) == NULL)
		return;
	/* The library would fill in the default server on save; show it now so it can be changed. */
	if (outbox_account_set(t->h, v->rv.draft, OUTBOX_ACCOUNT_SERVER, server) < 0)
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	record_view_edit_new(&v->rv);
	tui_status(t, 0, "New account: type its Email Address, then OK (Enter) to add it; Esc cancels.");
}

/* "Add Account...": found from the address, not typed in; unsaved edits are settled first. */
static void accounts_setup(struct tui *t, struct accounts_view *v)
{
	if (record_view_leave(t, &v->rv) < 0)
		return;
	setup_add_account(t);
}

void accounts_add_prefilled(struct tui *t, struct accounts_view *v, const char *address, const char *full_name,
			    const char *server)
{
	t->tab = TUI_TAB_ACCOUNTS;
	if (record_view_leave(t, &v->rv) < 0 || record_view_new_draft(t, &v->rv) == NULL)
		return;
	if (outbox_account_set(t->h, v->rv.draft, OUTBOX_ACCOUNT_ADDRESS, address) < 0 ||
	    (*full_name && outbox_account_set(t->h, v->rv.draft, OUTBOX_ACCOUNT_NAME, full_name) < 0) ||
	    outbox_account_set(t->h, v->rv.draft, OUTBOX_ACCOUNT_SERVER, server) < 0) {
		/* Said, not covered by the next line: the form shows what could not be filled in. */
		record_view_edit_new(&v->rv);
		tui_status(t, 1, "Saved server \"%s\", but the new account's form: %s", server, outbox_errmsg(t->h));
		return;
	}
	record_view_edit_new(&v->rv);
	tui_status(t, 0, "Saved server \"%s\". New account %s on it: OK (Enter) adds it; Esc cancels.", server, address);
}

static void accounts_remove(struct tui *t, struct accounts_view *v)
{
	static const char *const buttons[] = {"&Remove", "&Cancel", NULL};
	const void *a = record_view_remove_start(t, &v->rv);
	char address[320], l1[400];
	const char *lines[] = {l1, "Press u afterwards to undo (or run: outbox undo).", NULL};

	if (a == NULL)
		return;
	snprintf(address, sizeof address, "%s", accounts_rec_get(a, OUTBOX_ACCOUNT_ADDRESS));
	snprintf(l1, sizeof l1, "Remove account %s?", address);
	/* Cancel has the focus: Enter alone never removes anything. */
	if (widget_dialog(t, "Remove account", lines, buttons, 1) != 0) {
		tui_status(t, 0, "Nothing was removed.");
		return;
	}
	if (outbox_account_remove(t->h, address, 0) < 0)
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	else
		tui_status(t, 0, "Removed account %s. Press u to undo.", address);
	record_view_removed(t, &v->rv);
}

/* Fallback servers are chosen from the list, never typed: the checklist sets the field. */
static void accounts_pick_fallbacks(struct tui *t, struct accounts_view *v, struct form_item *it)
{
	const struct record_view *rv = &v->rv;
	char title[400], chosen[sizeof it->value];

	if (rv->draft == NULL)
		return;
	snprintf(title, sizeof title, "Fallback Servers for %s", accounts_address_or(rv, "the new account"));
	if (fallback_pick(t, title, servers_names(t->servers), outbox_account_get(rv->draft, OUTBOX_ACCOUNT_SERVER),
			  outbox_account_fallbacks(rv->draft), chosen, sizeof chosen) != 1 ||
	    strcmp(chosen, it->value) == 0)
		return;
	form_set_value(it, chosen);
	it->changed = it->pending = 1;
	v->rv.dirty = 1;
	record_view_apply_item(t, &v->rv, it);
}

/* None in the server drop-down: the default server, since an account always has one. */
static void accounts_none_is_default(struct tui *t, struct accounts_view *v, struct form_item *it)
{
	const char *server = servers_default_name(t->servers);

	if (server == NULL) {
		form_set_value(it, outbox_account_get(v->rv.draft, OUTBOX_ACCOUNT_SERVER));
		it->pending = 0;
		tui_status(t, 1, "Outgoing Mail Server: there is no server to send through; add one first.");
		return;
	}
	form_set_value(it, server);
	record_view_changed(t, &v->rv, it);
	if (!it->error[0])
		tui_status(t, 0, "None: the account sends through the default server, \"%s\".", server);
}

/* What "Use Only This Server" means for fallbacks, as the library sends (account_server_chain):
 * they are kept but not tried while it is ticked. "" when there is nothing to say. */
static const char *accounts_only_words(const struct record_view *rv)
{
	if (rv->draft == NULL || strcmp(outbox_account_get(rv->draft, OUTBOX_ACCOUNT_ONLY_THIS_SERVER), "true") != 0 ||
	    *outbox_account_fallbacks(rv->draft) == NULL)
		return "";
	return "fallbacks kept but not used while ticked";
}

/* Ticked with fallbacks listed: the status says it in full, naming them. */
static void accounts_only_status(struct tui *t, const struct record_view *rv)
{
	char *fallbacks;

	if (!*accounts_only_words(rv))
		return;
	fallbacks = tui_join(outbox_account_fallbacks(rv->draft));
	tui_status(t, 0, "Use Only This Server: sends only through \"%s\"; the fallback servers (%s) stay listed "
		   "but are not tried while it is ticked.", outbox_account_get(rv->draft, OUTBOX_ACCOUNT_SERVER),
		   fallbacks ? fallbacks : "");
	free(fallbacks);
}

/* A value changed in the form; "Edit Server List..." is a way out, never a value. */
static void accounts_changed(struct tui *t, struct accounts_view *v, struct form_item *it)
{
	if (it->kind == FORM_CHOICE && strcmp(it->value, ACCOUNTS_EDIT_SERVERS) == 0) {
		form_set_value(it, outbox_account_get(v->rv.draft, (outbox_account_field_id)it->id));
		it->pending = 0;
		accounts_edit_servers(t, v);
		return;
	}
	if (it->id == OUTBOX_ACCOUNT_SERVER && it->value[0] == '\0') {
		accounts_none_is_default(t, v, it);
		return;
	}
	record_view_changed(t, &v->rv, it);
	if (it->id == OUTBOX_ACCOUNT_ONLY_THIS_SERVER)
		accounts_only_status(t, &v->rv);
}

static void accounts_button(struct tui *t, struct accounts_view *v, int b)
{
	switch (b) {
	case BTN_ADD: accounts_add(t, v); break;
	case BTN_SETUP: accounts_setup(t, v); break;
	case BTN_REMOVE: accounts_remove(t, v); break;
	case BTN_OK: record_view_ok(t, &v->rv); break;
	case BTN_CANCEL: record_view_cancel(t, &v->rv); break;
	default: accounts_edit_servers(t, v); break;
	}
}

/* The letters that work wherever no text is being typed. */
static int accounts_shortcut(struct tui *t, struct accounts_view *v, int key)
{
	switch (key) {
	case '+': case TK(KEY_IC): accounts_add(t, v); return 1;
	case '-': case TK(KEY_DC): accounts_remove(t, v); return 1;
	case 'a': case 'A': accounts_setup(t, v); return 1;
	case 'u': case 'U': record_view_undo(t, &v->rv); return 1;
	case 'e': case 'E': accounts_edit_servers(t, v); return 1;
	}
	return 0;
}

static void accounts_mouse(struct tui *t, struct accounts_view *v)
{
	struct record_view *rv = &v->rv;
	struct form_item *it;
	int arg, tag = tui_hit_find(t, t->mouse_y, t->mouse_x, &arg);

	record_view_apply_focused(t, rv);
	if (tag == HIT_ROW) {
		rv->zone = RV_ZONE_LIST;
		record_view_select(t, rv, (size_t)arg);
	} else if (tag == HIT_FIELD && rv->draft) {
		rv->zone = RV_ZONE_FORM;
		rv->form.focus = arg;
		it = &rv->form.items[arg];
		if (it->kind == FORM_LIST)
			accounts_pick_fallbacks(t, v, it);
		else if ((it->kind == FORM_BOOL || it->kind == FORM_CHOICE) && form_key(t, &rv->form, ' ') == 1)
			accounts_changed(t, v, it);
	} else if (tag == HIT_BUTTON) {
		accounts_button(t, v, arg);
	}
}

int accounts_key(struct tui *t, struct accounts_view *v, int key)
{
	struct record_view *rv = &v->rv;
	struct form_item *it = rv->zone == RV_ZONE_FORM && rv->form.focus >= 0 ? &rv->form.items[rv->form.focus] : NULL;
	int r;

	if (key == TK(KEY_MOUSE)) {
		accounts_mouse(t, v);
		return 1;
	}
	if (key & 0x400000) {
		int c = (key & 0xffff) | 0x20;
		record_view_apply_focused(t, rv);
		if (c == 'o' || c == 'n' || c == 'e') {
			accounts_button(t, v, c == 'o' ? BTN_OK : c == 'n' ? BTN_CANCEL : BTN_SERVERS);
			return 1;
		}
		return accounts_shortcut(t, v, key & 0xffff);
	}
	if (record_view_key(t, rv, key, BTN_OK, BTN_COUNT))
		return 1;
	if (rv->zone == RV_ZONE_LIST) {
		if (key == TK_ENTER || key == TK_TAB) {
			if (rv->draft) {
				rv->zone = RV_ZONE_FORM;
				rv->form.focus = form_first_visible(&rv->form, 0, 1);
			} else {
				tui_status(t, 1, "No account to edit yet: press a (or +) to add one.");
			}
			return 1;
		}
		return accounts_shortcut(t, v, key);
	}
	if (rv->zone == RV_ZONE_FORM) {
		if (it && it->kind == FORM_LIST && (key == TK_ENTER || key == ' ')) {
			accounts_pick_fallbacks(t, v, it);
			return 1;
		}
		if (key == TK_ENTER && (it == NULL || it->kind != FORM_CHOICE)) {
			record_view_ok(t, rv);
			return 1;
		}
		r = form_key(t, &rv->form, key);
		if (r == 1 && it)
			accounts_changed(t, v, it);
		if (r)
			return 1;
		/* Where nothing is typed (a box, a drop-down, the fallback list) the letters still work. */
		if (it && it->kind != FORM_TEXT && it->kind != FORM_NUMBER && it->kind != FORM_PASSWORD)
			return accounts_shortcut(t, v, key);
		return 0;
	}
	if (key == TK_ENTER || key == ' ') {
		accounts_button(t, v, rv->button);
		return 1;
	}
	return accounts_shortcut(t, v, key);
}

/* The list's columns: on a narrow screen the server's heading shortens, then the name goes. */
static const struct layout_col accounts_cols[] = {
	{"Email Address", "Email", 10, 38, 0},
	{"Full Name", "Name", 6, 28, 2},
	{"Outgoing Mail Server", "Server", 8, 34, 1},
};

static void accounts_draw_row(struct tui *t, struct accounts_view *v, int y, size_t i, const struct layout_cols *c,
			      const char *mark)
{
	struct record_view *rv = &v->rv;
	const outbox_account *a = i < rv->n ? record_view_at(rv, i) : rv->draft;
	int sel = i == rv->sel;
	const char *texts[3];

	texts[0] = i < rv->n ? outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS) : "(new account)";
	texts[1] = outbox_account_get(a, OUTBOX_ACCOUNT_NAME);
	texts[2] = outbox_account_get(a, OUTBOX_ACCOUNT_SERVER);
	if (sel)
		attron(rv->zone == RV_ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
	widget_text(y, 0, 2, strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "true") == 0 ? " *" : "");
	layout_row(y, 2, c, texts, mark);
	if (sel)
		attroff(rv->zone == RV_ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
	tui_hit_add(t, y, 0, t->cols, HIT_ROW, (int)i);
}

void accounts_draw(struct tui *t, struct accounts_view *v)
{
	static const char *const labels[BTN_COUNT] = {"+ Add", "Add Account...", "- Remove", "OK", "Cancel",
								   "Edit Servers..."};
	static const char mnemonics[BTN_COUNT] = {'+', 'A', '-', 'O', 'n', 'E'};
	struct record_view *rv = &v->rv;
	struct form_item *only;
	struct layout_cols c;
	struct layout_page p;
	size_t i, total;
	char title[400], mark[40];

	if (rv->adding)
		rv->sel = rv->n; /* the new row, below the saved ones */
	total = rv->n + (size_t)rv->adding;
	layout_columns(&c, t->cols - 2, accounts_cols, (int)(sizeof accounts_cols / sizeof accounts_cols[0]));
	record_view_draw_list_top(t, rv, total, layout_button_rows(1, t->cols, labels, BTN_COUNT), &c, &p);
	if (rv->n == 0 && !rv->adding)
		layout_cell(p.list_y, 4, t->cols - 4, "No accounts yet: press a (or +) to add one.");
	for (i = rv->scroll; i < total && i < rv->scroll + (size_t)p.list_h; i++) {
		int row = (int)(i - rv->scroll);
		accounts_draw_row(t, v, p.list_y + row, i, &c,
				  layout_mark(rv->scroll, total, p.list_h, row, mark, sizeof mark));
	}
	if (rv->adding)
		snprintf(title, sizeof title, " New account");
	else
		snprintf(title, sizeof title, " Account %s%s", rv->orig, rv->dirty ? " (changed)" : "");
	record_view_draw_title(t, &p, rv->draft ? title : "", t->cols);
	if ((only = form_find(&rv->form, OUTBOX_ACCOUNT_ONLY_THIS_SERVER)) != NULL)
		snprintf(only->note, sizeof only->note, "%s", accounts_only_words(rv));
	record_view_draw_form(t, rv, &p, HIT_FIELD);
	layout_buttons(t, p.buttons_y, 1, t->cols, labels, mnemonics, BTN_COUNT,
		       rv->zone == RV_ZONE_BUTTONS ? rv->button : -1, HIT_BUTTON);
	if (rv->zone == RV_ZONE_LIST)
		t->hint = "Enter: edit  a: add account  +/-: new/remove  u: undo  e: servers  ?: help";
}
