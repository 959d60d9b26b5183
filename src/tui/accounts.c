/* accounts.c: the Accounts view: each account with its address, name and "Outgoing Mail Server"
 * as a drop-down of the server list, and every other field of the account table below it; new
 * accounts are added in the same form, and removed ones come back with undo. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

enum { ZONE_LIST, ZONE_FORM, ZONE_BUTTONS };
enum { BTN_ADD, BTN_REMOVE, BTN_OK, BTN_CANCEL, BTN_SERVERS, BTN_COUNT };
enum { HIT_ROW = 20, HIT_FIELD, HIT_BUTTON };

#define ACCOUNTS_EDIT_SERVERS "Edit Server List..."

struct accounts_view {
	outbox_account **list;
	size_t n, sel, scroll;
	outbox_account *draft;
	char orig[320]; /* the address the draft was loaded as, "" for a new one */
	int adding;     /* the draft is a new account, not yet in the list */
	int dirty, zone, button;
	char **server_choices; /* server names and "Edit Server List...", NULL-terminated */
	struct form form;
};

static void accounts_free_choices(struct accounts_view *v)
{
	for (size_t i = 0; v->server_choices && v->server_choices[i]; i++)
		free(v->server_choices[i]);
	free(v->server_choices);
	v->server_choices = NULL;
}

/* The drop-down of the server field: the server list as it is now, then the way to edit it. */
static void accounts_build_choices(struct tui *t, struct accounts_view *v)
{
	const char *const *names = servers_names(t->servers);
	size_t n = 0, i;
	int k;

	accounts_free_choices(v);
	while (names[n])
		n++;
	if ((v->server_choices = calloc(n + 2, sizeof *v->server_choices)) == NULL)
		return;
	for (i = 0; i < n; i++)
		v->server_choices[i] = strdup(names[i]);
	v->server_choices[n] = strdup(ACCOUNTS_EDIT_SERVERS);
	for (k = 0; k < v->form.count; k++)
		if (v->form.items[k].id == OUTBOX_ACCOUNT_SERVER)
			v->form.items[k].choices = (const char *const *)v->server_choices;
}

static void accounts_fill_form(struct accounts_view *v, int keep_errors)
{
	for (int i = 0; i < v->form.count; i++) {
		struct form_item *it = &v->form.items[i];
		if (keep_errors && it->error[0])
			continue;
		form_set_value(it, v->draft ? outbox_account_get(v->draft, (outbox_account_field_id)it->id) : "");
		if (!keep_errors) {
			it->changed = it->pending = 0;
			it->error[0] = '\0';
		}
	}
}

static void accounts_load_draft(struct tui *t, struct accounts_view *v)
{
	outbox_account_free(v->draft);
	v->draft = NULL;
	v->orig[0] = '\0';
	v->dirty = 0;
	v->adding = 0;
	if (v->sel < v->n) {
		snprintf(v->orig, sizeof v->orig, "%s", outbox_account_get(v->list[v->sel], OUTBOX_ACCOUNT_ADDRESS));
		if (outbox_account_load(t->h, v->orig, &v->draft) < 0)
			tui_status(t, 1, "%s", outbox_errmsg(t->h));
	}
	accounts_fill_form(v, 0);
}

static void accounts_list_again(struct tui *t, struct accounts_view *v, const char *keep)
{
	char address[320];

	snprintf(address, sizeof address, "%s", keep ? keep : "");
	outbox_account_list_free(v->list, v->n);
	v->list = NULL;
	v->n = 0;
	if (outbox_account_list(t->h, &v->list, &v->n) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		v->list = NULL;
		v->n = 0;
	}
	for (size_t i = 0; address[0] && i < v->n; i++)
		if (strcmp(outbox_account_get(v->list[i], OUTBOX_ACCOUNT_ADDRESS), address) == 0)
			v->sel = i;
	if (v->sel >= v->n)
		v->sel = v->n ? v->n - 1 : 0;
	accounts_build_choices(t, v);
}

struct accounts_view *accounts_new(struct tui *t)
{
	struct accounts_view *v = calloc(1, sizeof *v);

	if (v == NULL)
		return NULL;
	form_init(&v->form);
	/* Every field the table has, in its order: retry settings or anything else added later
	 * appear here without a change to the UI. */
	for (int id = 0; id < OUTBOX_ACCOUNT_FIELD_COUNT; id++)
		form_add(&v->form, id, outbox_account_field_info((outbox_account_field_id)id));
	accounts_list_again(t, v, NULL);
	accounts_load_draft(t, v);
	return v;
}

void accounts_free(struct accounts_view *v)
{
	if (v == NULL)
		return;
	outbox_account_list_free(v->list, v->n);
	outbox_account_free(v->draft);
	accounts_free_choices(v);
	form_free(&v->form);
	free(v);
}

void accounts_reload(struct tui *t, struct accounts_view *v)
{
	accounts_list_again(t, v, v->orig[0] ? v->orig : NULL);
	if (!v->dirty)
		accounts_load_draft(t, v);
}

static int accounts_apply_item(struct tui *t, struct accounts_view *v, struct form_item *it)
{
	if (v->draft == NULL || !it->pending)
		return 0;
	it->pending = 0;
	if (outbox_account_set(t->h, v->draft, (outbox_account_field_id)it->id, it->value) < 0) {
		snprintf(it->error, sizeof it->error, "%s", outbox_errdetail(t->h));
		tui_status(t, 1, "%s: %s", it->label, outbox_errdetail(t->h));
		return -1;
	}
	it->error[0] = '\0';
	accounts_fill_form(v, 1);
	return 0;
}

static void accounts_apply_focused(struct tui *t, struct accounts_view *v)
{
	if (v->zone == ZONE_FORM && v->form.focus >= 0)
		accounts_apply_item(t, v, &v->form.items[v->form.focus]);
}

static void accounts_cancel(struct tui *t, struct accounts_view *v)
{
	if (v->dirty)
		tui_status(t, 0, "Changes cancelled; nothing was saved.");
	v->zone = ZONE_LIST;
	accounts_list_again(t, v, v->orig[0] ? v->orig : NULL);
	accounts_load_draft(t, v);
}

static int accounts_overwrite(struct tui *t, struct accounts_view *v)
{
	outbox_account *fresh = NULL;
	int rc;

	if ((rc = outbox_account_load(t->h, v->orig, &fresh)) < 0)
		return rc;
	for (int i = 0; i < v->form.count; i++)
		if (v->form.items[i].changed &&
		    (rc = outbox_account_set(t->h, fresh, (outbox_account_field_id)v->form.items[i].id,
					     v->form.items[i].value)) < 0) {
			outbox_account_free(fresh);
			return rc;
		}
	outbox_account_free(v->draft);
	v->draft = fresh;
	return outbox_account_save(t->h, v->draft);
}

static int accounts_ok(struct tui *t, struct accounts_view *v)
{
	static const char *const buttons[] = {"&Overwrite with mine", "&Reload theirs", "&Keep editing", NULL};
	char address[320];
	int rc;

	if (v->draft == NULL)
		return 0;
	for (int i = 0; i < v->form.count; i++)
		accounts_apply_item(t, v, &v->form.items[i]);
	for (int i = 0; i < v->form.count; i++)
		if (v->form.items[i].error[0]) {
			v->zone = ZONE_FORM;
			v->form.focus = i;
			tui_status(t, 1, "Fix %s first: %s", v->form.items[i].label, v->form.items[i].error);
			return -1;
		}
	if (!v->dirty)
		return 0;
	rc = outbox_account_save(t->h, v->draft);
	if (rc == OUTBOX_ECONFLICT) {
		char line[400];
		const char *lines[] = {line, "Your edits are kept until you choose.", NULL};
		snprintf(line, sizeof line, "Account %s was changed by another program since you opened it.", v->orig);
		switch (widget_dialog(t, "Changed elsewhere", lines, buttons, 2)) {
		case 0:
			rc = accounts_overwrite(t, v);
			break;
		case 1:
			v->dirty = 0;
			accounts_reload(t, v);
			tui_status(t, 0, "Reloaded account %s; your edits were dropped.", v->orig);
			return 0;
		default:
			tui_status(t, 0, "Still editing; OK saves over the other change only if you choose Overwrite.");
			return -1;
		}
	}
	if (rc < 0) {
		const char *key = outbox_errfield(t->h);
		int id = key ? outbox_account_field_by_key(key) : -1;
		struct form_item *it = id >= 0 ? form_find(&v->form, id) : NULL;
		if (it) {
			snprintf(it->error, sizeof it->error, "%s", outbox_errdetail(t->h));
			v->zone = ZONE_FORM;
			v->form.focus = (int)(it - v->form.items);
		}
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		return -1;
	}
	snprintf(address, sizeof address, "%s", outbox_account_get(v->draft, OUTBOX_ACCOUNT_ADDRESS));
	tui_status(t, 0, "Saved account %s.", address);
	v->dirty = 0;
	v->zone = ZONE_LIST;
	accounts_list_again(t, v, address);
	accounts_load_draft(t, v);
	tui_reload(t);
	return 0;
}

int accounts_leave(struct tui *t, struct accounts_view *v)
{
	static const char *const buttons[] = {"&Save", "&Discard", "&Keep editing", NULL};
	char line[400];
	const char *lines[] = {line, NULL};

	accounts_apply_focused(t, v);
	if (!v->dirty)
		return 0;
	if (v->adding)
		snprintf(line, sizeof line, "Add the new account %s?",
			 *outbox_account_get(v->draft, OUTBOX_ACCOUNT_ADDRESS) ? outbox_account_get(v->draft, OUTBOX_ACCOUNT_ADDRESS)
									    : "(no address yet)");
	else
		snprintf(line, sizeof line, "Save the changes to account %s?", v->orig);
	switch (widget_dialog(t, "Unsaved changes", lines, buttons, 0)) {
	case 0:
		return accounts_ok(t, v);
	case 1:
		accounts_cancel(t, v);
		return 0;
	default:
		return -1;
	}
}

static void accounts_select(struct tui *t, struct accounts_view *v, size_t sel)
{
	if (v->n == 0 || sel == v->sel)
		return;
	if (v->dirty) {
		tui_status(t, 1, "Unsaved changes to %s: OK (Enter) saves them, Esc cancels.",
			   v->adding ? "the new account" : v->orig);
		return;
	}
	v->sel = sel < v->n ? sel : v->n - 1;
	accounts_load_draft(t, v);
}

static void accounts_edit_servers(struct tui *t, struct accounts_view *v)
{
	if (accounts_leave(t, v) == 0)
		t->tab = TUI_TAB_SERVERS;
}

static void accounts_add(struct tui *t, struct accounts_view *v)
{
	const char *server;

	if (accounts_leave(t, v) < 0)
		return;
	if ((server = servers_default_name(t->servers)) == NULL) {
		tui_status(t, 1, "An account sends through a server: add one first (2: Servers, then +).");
		return;
	}
	outbox_account_free(v->draft);
	if ((v->draft = outbox_account_new()) == NULL) {
		accounts_load_draft(t, v);
		tui_status(t, 1, "out of memory");
		return;
	}
	/* The library would fill in the default server on save; show it now so it can be changed. */
	if (outbox_account_set(t->h, v->draft, OUTBOX_ACCOUNT_SERVER, server) < 0)
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	v->orig[0] = '\0';
	v->adding = 1;
	v->dirty = 1;
	accounts_fill_form(v, 0);
	v->zone = ZONE_FORM;
	v->form.focus = form_first_visible(&v->form, 0, 1);
	tui_status(t, 0, "New account: type its Email Address, then OK (Enter) to add it; Esc cancels.");
}

static void accounts_remove(struct tui *t, struct accounts_view *v)
{
	static const char *const buttons[] = {"&Remove", "&Cancel", NULL};
	char address[320], l1[400];
	const char *lines[] = {l1, "Press u afterwards to undo (or run: outbox undo).", NULL};

	if (v->adding) {
		accounts_cancel(t, v);
		return;
	}
	if (v->sel >= v->n) {
		tui_status(t, 1, "No account to remove.");
		return;
	}
	if (accounts_leave(t, v) < 0)
		return;
	snprintf(address, sizeof address, "%s", outbox_account_get(v->list[v->sel], OUTBOX_ACCOUNT_ADDRESS));
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
	v->zone = ZONE_LIST;
	tui_reload(t);
}

static void accounts_undo(struct tui *t, struct accounts_view *v)
{
	if (accounts_leave(t, v) < 0)
		return;
	tui_undo(t);
}

/* Fallback servers are chosen from the list, never typed: the checklist sets the field. */
static void accounts_pick_fallbacks(struct tui *t, struct accounts_view *v, struct form_item *it)
{
	char title[400], chosen[sizeof it->value];

	if (v->draft == NULL)
		return;
	snprintf(title, sizeof title, "Fallback Servers for %s",
		 *outbox_account_get(v->draft, OUTBOX_ACCOUNT_ADDRESS) ? outbox_account_get(v->draft, OUTBOX_ACCOUNT_ADDRESS)
								    : "the new account");
	if (fallback_pick(t, title, servers_names(t->servers), outbox_account_get(v->draft, OUTBOX_ACCOUNT_SERVER),
			  outbox_account_fallbacks(v->draft), chosen, sizeof chosen) != 1 ||
	    strcmp(chosen, it->value) == 0)
		return;
	form_set_value(it, chosen);
	it->changed = it->pending = 1;
	v->dirty = 1;
	accounts_apply_item(t, v, it);
}

/* A value changed in the form; "Edit Server List..." is a way out, never a value. */
static void accounts_changed(struct tui *t, struct accounts_view *v, struct form_item *it)
{
	if (it->kind == FORM_CHOICE && strcmp(it->value, ACCOUNTS_EDIT_SERVERS) == 0) {
		form_set_value(it, outbox_account_get(v->draft, (outbox_account_field_id)it->id));
		it->pending = 0;
		accounts_edit_servers(t, v);
		return;
	}
	v->dirty = 1;
	if (it->kind == FORM_CHOICE || it->kind == FORM_BOOL)
		accounts_apply_item(t, v, it);
}

static void accounts_button(struct tui *t, struct accounts_view *v, int b)
{
	switch (b) {
	case BTN_ADD: accounts_add(t, v); break;
	case BTN_REMOVE: accounts_remove(t, v); break;
	case BTN_OK: accounts_ok(t, v); break;
	case BTN_CANCEL: accounts_cancel(t, v); break;
	default: accounts_edit_servers(t, v); break;
	}
}

/* The letters that work wherever no text is being typed. */
static int accounts_shortcut(struct tui *t, struct accounts_view *v, int key)
{
	switch (key) {
	case '+': case TK(KEY_IC): accounts_add(t, v); return 1;
	case '-': case TK(KEY_DC): accounts_remove(t, v); return 1;
	case 'u': case 'U': accounts_undo(t, v); return 1;
	case 'e': case 'E': accounts_edit_servers(t, v); return 1;
	}
	return 0;
}

int accounts_key(struct tui *t, struct accounts_view *v, int key)
{
	struct form_item *it = v->zone == ZONE_FORM && v->form.focus >= 0 ? &v->form.items[v->form.focus] : NULL;
	int arg, tag, r;

	if (key == TK(KEY_MOUSE)) {
		tag = tui_hit_find(t, t->mouse_y, t->mouse_x, &arg);
		accounts_apply_focused(t, v);
		if (tag == HIT_ROW) {
			v->zone = ZONE_LIST;
			accounts_select(t, v, (size_t)arg);
		} else if (tag == HIT_FIELD && v->draft) {
			v->zone = ZONE_FORM;
			v->form.focus = arg;
			it = &v->form.items[arg];
			if (it->kind == FORM_LIST)
				accounts_pick_fallbacks(t, v, it);
			else if ((it->kind == FORM_BOOL || it->kind == FORM_CHOICE) && form_key(t, &v->form, ' ') == 1)
				accounts_changed(t, v, it);
		} else if (tag == HIT_BUTTON) {
			accounts_button(t, v, arg);
		}
		return 1;
	}
	if (key & 0x400000) {
		int c = (key & 0xffff) | 0x20;
		accounts_apply_focused(t, v);
		if (c == 'o' || c == 'n' || c == 'e') {
			accounts_button(t, v, c == 'o' ? BTN_OK : c == 'n' ? BTN_CANCEL : BTN_SERVERS);
			return 1;
		}
		return accounts_shortcut(t, v, key & 0xffff);
	}
	if (key == TK_ESC) {
		if (!v->dirty && v->zone == ZONE_LIST)
			return 0;
		accounts_cancel(t, v);
		return 1;
	}
	if (v->zone == ZONE_LIST) {
		switch (key) {
		case TK(KEY_UP): accounts_select(t, v, v->sel > 0 ? v->sel - 1 : 0); return 1;
		case TK(KEY_DOWN): accounts_select(t, v, v->sel + 1); return 1;
		case TK(KEY_HOME): accounts_select(t, v, 0); return 1;
		case TK(KEY_END): accounts_select(t, v, v->n ? v->n - 1 : 0); return 1;
		case TK_ENTER:
		case TK_TAB:
			if (v->draft) {
				v->zone = ZONE_FORM;
				v->form.focus = form_first_visible(&v->form, 0, 1);
			}
			return 1;
		}
		return accounts_shortcut(t, v, key);
	}
	if (v->zone == ZONE_FORM) {
		if (key == TK_TAB || key == TK(KEY_DOWN)) {
			accounts_apply_focused(t, v);
			if (!form_move(&v->form, 1)) {
				v->zone = ZONE_BUTTONS;
				v->button = BTN_OK;
			}
			return 1;
		}
		if (key == TK(KEY_BTAB) || key == TK(KEY_UP)) {
			accounts_apply_focused(t, v);
			if (!form_move(&v->form, -1))
				v->zone = ZONE_LIST;
			return 1;
		}
		if (it && it->kind == FORM_LIST && (key == TK_ENTER || key == ' ')) {
			accounts_pick_fallbacks(t, v, it);
			return 1;
		}
		if (key == TK_ENTER && (it == NULL || it->kind != FORM_CHOICE)) {
			accounts_ok(t, v);
			return 1;
		}
		r = form_key(t, &v->form, key);
		if (r == 1 && it)
			accounts_changed(t, v, it);
		if (r)
			return 1;
		/* Where nothing is typed (a box, a drop-down, the fallback list) the letters still work. */
		if (it && it->kind != FORM_TEXT && it->kind != FORM_NUMBER && it->kind != FORM_PASSWORD)
			return accounts_shortcut(t, v, key);
		return 0;
	}
	switch (key) {
	case TK(KEY_LEFT): v->button = v->button > 0 ? v->button - 1 : 0; return 1;
	case TK(KEY_RIGHT): v->button = v->button + 1 < BTN_COUNT ? v->button + 1 : BTN_COUNT - 1; return 1;
	case TK_TAB:
		if (++v->button >= BTN_COUNT)
			v->zone = ZONE_LIST;
		return 1;
	case TK(KEY_BTAB):
		if (--v->button < 0) {
			v->zone = ZONE_FORM;
			v->form.focus = form_first_visible(&v->form, v->form.count - 1, -1);
		}
		return 1;
	case TK_ENTER:
	case ' ':
		accounts_button(t, v, v->button);
		return 1;
	}
	return accounts_shortcut(t, v, key);
}

void accounts_draw(struct tui *t, struct accounts_view *v)
{
	static const char *const labels[BTN_COUNT] = {"+ Add", "- Remove", "OK", "Cancel", "Edit Server List..."};
	static const char mnemonics[BTN_COUNT] = {'+', '-', 'O', 'n', 'E'};
	int list_h = t->rows >= 40 ? t->rows / 4 : t->rows >= 20 ? 5 : 3, w0, w1, title_y, x;
	size_t i;
	char title[400];

	w0 = (t->cols - 2) * 38 / 100;
	w1 = (t->cols - 2) * 28 / 100;
	attron(A_BOLD | A_UNDERLINE);
	widget_text(1, 0, 2, "");
	widget_text(1, 2, w0, "Email Address");
	widget_text(1, 2 + w0, w1, "Full Name");
	widget_text(1, 2 + w0 + w1, t->cols - 2 - w0 - w1, "Outgoing Mail Server");
	attroff(A_BOLD | A_UNDERLINE);
	if (v->n == 0 && !v->adding)
		mvaddstr(3, 4, "No accounts yet. Press + to add one.");
	if (v->adding)
		v->sel = v->n; /* the new row, below the saved ones */
	if (v->sel < v->scroll)
		v->scroll = v->sel;
	if (v->sel >= v->scroll + (size_t)list_h)
		v->scroll = v->sel - (size_t)list_h + 1;
	for (i = v->scroll; i < v->n + (size_t)v->adding && i < v->scroll + (size_t)list_h; i++) {
		int y = 2 + (int)(i - v->scroll), sel = i == v->sel;
		const outbox_account *a = i < v->n ? v->list[i] : v->draft;
		if (sel)
			attron(v->zone == ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
		widget_text(y, 0, 2, strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "true") == 0 ? " *" : "");
		widget_text(y, 2, w0, i < v->n ? outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS) : "(new account)");
		widget_text(y, 2 + w0, w1, outbox_account_get(a, OUTBOX_ACCOUNT_NAME));
		widget_text(y, 2 + w0 + w1, t->cols - 2 - w0 - w1, outbox_account_get(a, OUTBOX_ACCOUNT_SERVER));
		if (sel)
			attroff(v->zone == ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
		tui_hit_add(t, y, 0, t->cols, HIT_ROW, (int)i);
	}
	title_y = 2 + list_h;
	attron(screen_attr(TS_TITLE));
	move(title_y, 0);
	for (x = 0; x < t->cols; x++)
		addch(' ');
	if (v->draft) {
		if (v->adding)
			snprintf(title, sizeof title, " New account ");
		else
			snprintf(title, sizeof title, " Account %s%s ", v->orig, v->dirty ? " (changed)" : "");
		widget_text(title_y, 0, t->cols, title);
	}
	attroff(screen_attr(TS_TITLE));
	if (v->draft) {
		if (v->zone != ZONE_FORM)
			v->form.focus = -1;
		form_draw(t, &v->form, title_y + 1, t->rows - 3 - title_y, HIT_FIELD);
	}
	x = 1;
	for (int b = 0; b < BTN_COUNT; b++)
		x += widget_button(t, t->rows - 2, x, labels[b], mnemonics[b], v->zone == ZONE_BUTTONS && v->button == b,
				   HIT_BUTTON, b) + 1;
	if (v->zone == ZONE_FORM && v->form.focus >= 0)
		t->hint = form_hint(&v->form, t->hint_buf, sizeof t->hint_buf);
	else if (v->zone == ZONE_LIST)
		t->hint = "Up/Down: choose  Enter: edit  +/-: add/remove  u: undo  e: servers  ?: help";
}
