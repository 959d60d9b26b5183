/* servers.c: the server list, the heart of `outbox ui`: servers on top, the selected one's
 * details below (General and Advanced), edited as a draft and saved in one transaction on OK. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

enum { ZONE_LIST, ZONE_FORM, ZONE_BUTTONS };
enum { BTN_ADD, BTN_REMOVE, BTN_CHECK, BTN_ADVANCED, BTN_OK, BTN_CANCEL, BTN_COUNT };
enum { HIT_ROW = 10, HIT_FIELD, HIT_BUTTON, HIT_PAGE };

/* The fields of the General page, in the order a mail client shows them; -1 is the password.
 * Every other field of the table goes to Advanced, so new fields appear there by themselves. */
static const int servers_general[] = {OUTBOX_SERVER_DESCRIPTION, OUTBOX_SERVER_NAME, OUTBOX_SERVER_HOST,
				      OUTBOX_SERVER_PORT, OUTBOX_SERVER_SECURITY, OUTBOX_SERVER_AUTH,
				      OUTBOX_SERVER_USER, -1};
#define SERVERS_NGENERAL ((int)(sizeof servers_general / sizeof servers_general[0]))

struct servers_view {
	outbox_server **list;
	size_t n;
	char **names; /* NULL-terminated copies, for drop-downs */
	size_t sel;
	size_t scroll;
	outbox_server *draft;
	char orig_name[256]; /* the name the draft was loaded as, "" for a new one */
	int dirty;
	int page; /* 0 General, 1 Advanced */
	int zone, button;
	struct form form;
};

static const char *servers_name_at(const struct servers_view *v, size_t i)
{
	return outbox_server_get(v->list[i], OUTBOX_SERVER_NAME);
}

static void servers_show_page(struct servers_view *v)
{
	for (int i = 0; i < v->form.count; i++)
		v->form.items[i].visible = v->page == 0 ? i < SERVERS_NGENERAL : i >= SERVERS_NGENERAL;
	if (v->form.focus >= 0 && !v->form.items[v->form.focus].visible)
		v->form.focus = form_first_visible(&v->form, 0, 1);
}

static void servers_build_form(struct servers_view *v)
{
	struct form_item *it;
	int id, k;

	form_init(&v->form);
	for (k = 0; k < SERVERS_NGENERAL; k++) {
		id = servers_general[k];
		if (id >= 0) {
			form_add(&v->form, id, outbox_server_field_info((outbox_server_field_id)id));
		} else if ((it = form_add(&v->form, -1, NULL)) != NULL) {
			it->label = "Password";
			it->help = "typed here, never shown; stored in the keyring or a private file (Ctrl-U clears it)";
			it->kind = FORM_PASSWORD;
		}
	}
	for (id = 0; id < OUTBOX_SERVER_FIELD_COUNT; id++) {
		int general = 0;
		for (k = 0; k < SERVERS_NGENERAL; k++)
			general |= servers_general[k] == id;
		if (!general)
			form_add(&v->form, id, outbox_server_field_info((outbox_server_field_id)id));
	}
	servers_show_page(v);
}

/* Show the draft's values; fields the user typed wrongly keep their text and message. */
static void servers_fill_form(struct servers_view *v, int keep_errors)
{
	for (int i = 0; i < v->form.count; i++) {
		struct form_item *it = &v->form.items[i];
		if (keep_errors && it->error[0])
			continue;
		if (it->id < 0) {
			if (!keep_errors) {
				explicit_bzero(it->value, sizeof it->value);
				it->cursor = 0;
				it->changed = it->pending = 0;
			}
			it->placeholder[0] = '\0';
			if (v->draft) {
				outbox_password_source src = outbox_server_password_source(v->draft);
				snprintf(it->placeholder, sizeof it->placeholder, "%s",
					 src == OUTBOX_PASSWORD_KEYRING ? "(stored in the keyring)" :
					 src == OUTBOX_PASSWORD_FILE ? "(stored in a private file)" :
					 src == OUTBOX_PASSWORD_COMMAND ? "(from the password command)" : "");
			}
			continue;
		}
		form_set_value(it, v->draft ? outbox_server_get(v->draft, (outbox_server_field_id)it->id) : "");
		if (!keep_errors) {
			it->changed = it->pending = 0;
			it->error[0] = '\0';
		}
	}
}

static void servers_load_draft(struct tui *t, struct servers_view *v)
{
	outbox_server_free(v->draft);
	v->draft = NULL;
	v->orig_name[0] = '\0';
	v->dirty = 0;
	if (v->sel < v->n) {
		snprintf(v->orig_name, sizeof v->orig_name, "%s", servers_name_at(v, v->sel));
		if (outbox_server_load(t->h, v->orig_name, &v->draft) < 0)
			tui_status(t, 1, "%s", outbox_errmsg(t->h));
	}
	servers_fill_form(v, 0);
}

static void servers_free_list(struct servers_view *v)
{
	outbox_server_list_free(v->list, v->n);
	v->list = NULL;
	v->n = 0;
	if (v->names) {
		for (size_t i = 0; v->names[i]; i++)
			free(v->names[i]);
		free(v->names);
		v->names = NULL;
	}
}

/* Read the list again, keeping the selection on the server named `keep` when given. */
static void servers_list_again(struct tui *t, struct servers_view *v, const char *keep)
{
	char name[256];
	size_t i;

	snprintf(name, sizeof name, "%s", keep ? keep : "");
	servers_free_list(v);
	if (outbox_server_list(t->h, &v->list, &v->n) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		v->list = NULL;
		v->n = 0;
	}
	v->names = calloc(v->n + 1, sizeof *v->names);
	for (i = 0; v->names && i < v->n; i++)
		v->names[i] = strdup(servers_name_at(v, i));
	for (i = 0; name[0] && i < v->n; i++)
		if (strcmp(servers_name_at(v, i), name) == 0)
			v->sel = i;
	if (v->sel >= v->n)
		v->sel = v->n ? v->n - 1 : 0;
}

struct servers_view *servers_new(struct tui *t)
{
	struct servers_view *v = calloc(1, sizeof *v);

	if (v == NULL)
		return NULL;
	servers_build_form(v);
	servers_list_again(t, v, NULL);
	servers_load_draft(t, v);
	return v;
}

void servers_free(struct servers_view *v)
{
	if (v == NULL)
		return;
	servers_free_list(v);
	outbox_server_free(v->draft);
	form_free(&v->form);
	free(v);
}

const char *const *servers_names(struct servers_view *v)
{
	static const char *const none[] = {NULL};

	return v->names ? (const char *const *)v->names : none;
}

const char *servers_default_name(struct servers_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(outbox_server_get(v->list[i], OUTBOX_SERVER_DEFAULT), "true") == 0)
			return servers_name_at(v, i);
	return v->n ? servers_name_at(v, 0) : NULL;
}

int servers_dirty(const struct servers_view *v)
{
	return v->dirty;
}

void servers_reload(struct tui *t, struct servers_view *v)
{
	servers_list_again(t, v, v->orig_name[0] ? v->orig_name : NULL);
	/* Unsaved edits stay: saving them will notice the conflict and ask. */
	if (!v->dirty)
		servers_load_draft(t, v);
}

/* Put one edited field into the draft; the library checks it and names what is wrong. */
static int servers_apply_item(struct tui *t, struct servers_view *v, struct form_item *it)
{
	int rc;

	if (v->draft == NULL || !it->pending)
		return 0;
	if (it->id < 0)
		rc = outbox_server_set_password(t->h, v->draft, it->value[0] ? it->value : NULL);
	else
		rc = outbox_server_set(t->h, v->draft, (outbox_server_field_id)it->id, it->value);
	it->pending = 0;
	if (rc < 0) {
		snprintf(it->error, sizeof it->error, "%s", outbox_errdetail(t->h));
		tui_status(t, 1, "%s: %s", it->label, outbox_errdetail(t->h));
		return rc;
	}
	it->error[0] = '\0';
	/* The library may have changed other fields too (the port follows the security mode). */
	servers_fill_form(v, 1);
	return 0;
}

static void servers_apply_focused(struct tui *t, struct servers_view *v)
{
	if (v->zone == ZONE_FORM && v->form.focus >= 0)
		servers_apply_item(t, v, &v->form.items[v->form.focus]);
}

static void servers_focus_item(struct servers_view *v, struct form_item *it)
{
	int index = (int)(it - v->form.items);

	if ((index < SERVERS_NGENERAL) != (v->page == 0)) {
		v->page = !v->page;
		servers_show_page(v);
	}
	v->zone = ZONE_FORM;
	v->form.focus = index;
}

/* Show a save failure beside its field when it names one. */
static void servers_show_failure(struct tui *t, struct servers_view *v)
{
	const char *key = outbox_errfield(t->h);
	int id = key ? outbox_server_field_by_key(key) : -1;
	struct form_item *it = id >= 0 ? form_find(&v->form, id) : NULL;

	if (key && strcmp(key, "password") == 0)
		it = form_find(&v->form, -1);
	if (it) {
		snprintf(it->error, sizeof it->error, "%s", outbox_errdetail(t->h));
		servers_focus_item(v, it);
	}
	tui_status(t, 1, "%s", outbox_errmsg(t->h));
}

/* Another process changed the server: load theirs and put the user's edits on top. */
static int servers_overwrite(struct tui *t, struct servers_view *v)
{
	outbox_server *fresh = NULL;
	int rc;

	if ((rc = outbox_server_load(t->h, v->orig_name, &fresh)) < 0)
		return rc;
	for (int i = 0; i < v->form.count; i++) {
		struct form_item *it = &v->form.items[i];
		if (!it->changed)
			continue;
		if (it->id < 0)
			rc = outbox_server_set_password(t->h, fresh, it->value[0] ? it->value : NULL);
		else
			rc = outbox_server_set(t->h, fresh, (outbox_server_field_id)it->id, it->value);
		if (rc < 0) {
			outbox_server_free(fresh);
			return rc;
		}
	}
	outbox_server_free(v->draft);
	v->draft = fresh;
	return outbox_server_save(t->h, v->draft);
}

static void servers_saved(struct tui *t, struct servers_view *v)
{
	char name[256];

	snprintf(name, sizeof name, "%s", outbox_server_get(v->draft, OUTBOX_SERVER_NAME));
	v->dirty = 0;
	tui_status(t, 0, "Saved server \"%s\".", name);
	v->zone = ZONE_LIST;
	servers_list_again(t, v, name);
	servers_load_draft(t, v);
	tui_reload(t);
}

/* OK: apply the draft in one transaction. Returns 0 when saved (or nothing to save). */
static int servers_ok(struct tui *t, struct servers_view *v)
{
	static const char *const buttons[] = {"&Overwrite with mine", "&Reload theirs", "&Keep editing", NULL};
	int rc;

	if (v->draft == NULL)
		return 0;
	servers_apply_focused(t, v);
	for (int i = 0; i < v->form.count; i++)
		servers_apply_item(t, v, &v->form.items[i]);
	if (form_has_errors(&v->form)) {
		for (int i = 0; i < v->form.count; i++)
			if (v->form.items[i].error[0]) {
				servers_focus_item(v, &v->form.items[i]);
				tui_status(t, 1, "Fix %s first: %s", v->form.items[i].label, v->form.items[i].error);
				break;
			}
		return -1;
	}
	if (!v->dirty)
		return 0;
	rc = outbox_server_save(t->h, v->draft);
	if (rc == OUTBOX_ECONFLICT) {
		char line[400];
		const char *lines[] = {line, "Your edits are kept until you choose.", NULL};
		snprintf(line, sizeof line, "Server \"%s\" was changed by another program since you opened it.",
			 v->orig_name);
		switch (widget_dialog(t, "Changed elsewhere", lines, buttons, 2)) {
		case 0:
			rc = servers_overwrite(t, v);
			break;
		case 1:
			v->dirty = 0;
			servers_reload(t, v);
			tui_status(t, 0, "Reloaded server \"%s\"; your edits were dropped.", v->orig_name);
			return 0;
		default:
			tui_status(t, 0, "Still editing; OK saves over the other change only if you choose Overwrite.");
			return -1;
		}
	}
	if (rc < 0) {
		servers_show_failure(t, v);
		return -1;
	}
	servers_saved(t, v);
	return 0;
}

static void servers_cancel(struct tui *t, struct servers_view *v)
{
	if (!v->dirty && v->zone == ZONE_LIST)
		return;
	v->zone = ZONE_LIST;
	if (v->dirty)
		tui_status(t, 0, "Changes cancelled; nothing was saved.");
	servers_list_again(t, v, v->orig_name[0] ? v->orig_name : NULL);
	servers_load_draft(t, v);
}

int servers_leave(struct tui *t, struct servers_view *v)
{
	static const char *const buttons[] = {"&Save", "&Discard", "&Keep editing", NULL};
	char line[400];
	const char *lines[] = {line, NULL};

	servers_apply_focused(t, v);
	if (!v->dirty)
		return 0;
	snprintf(line, sizeof line, "Save the changes to server \"%s\"?",
		 outbox_server_get(v->draft, OUTBOX_SERVER_NAME));
	switch (widget_dialog(t, "Unsaved changes", lines, buttons, 0)) {
	case 0:
		return servers_ok(t, v);
	case 1:
		servers_cancel(t, v);
		return 0;
	default:
		return -1;
	}
}

static void servers_add(struct tui *t, struct servers_view *v)
{
	char name[64];
	int k;

	if (servers_leave(t, v) < 0)
		return;
	outbox_server_free(v->draft);
	v->draft = outbox_server_new();
	if (v->draft == NULL) {
		tui_status(t, 1, "out of memory");
		return;
	}
	/* A free name to start from; the user can change it. */
	for (k = 1; k < 1000; k++) {
		size_t i;
		snprintf(name, sizeof name, "server%d", k);
		for (i = 0; i < v->n && strcmp(servers_name_at(v, i), name) != 0; i++)
			;
		if (i == v->n)
			break;
	}
	outbox_server_set(t->h, v->draft, OUTBOX_SERVER_NAME, name);
	v->orig_name[0] = '\0';
	v->sel = v->n;
	v->dirty = 1;
	v->page = 0;
	servers_show_page(v);
	servers_fill_form(v, 0);
	v->zone = ZONE_FORM;
	v->form.focus = 0;
	tui_status(t, 0, "New server: fill in the Host Name, then OK (Enter) to add it; Esc cancels.");
}

static void servers_remove(struct tui *t, struct servers_view *v)
{
	const outbox_server *s;
	const char *const *used;
	const char *name, *target = NULL;
	char l1[400], l2[600], l3[400], *joined;
	int choice;

	if (v->sel >= v->n) {
		servers_cancel(t, v);
		return;
	}
	if (servers_leave(t, v) < 0)
		return;
	s = v->list[v->sel];
	name = servers_name_at(v, v->sel);
	used = outbox_server_used_by(s);
	joined = tui_join(used);
	for (size_t i = 0; i < v->n && *used; i++)
		if (i != v->sel) {
			target = servers_name_at(v, i);
			break;
		}
	snprintf(l1, sizeof l1, "Remove server \"%s\"?", name);
	for (;;) {
		const char *lines[5] = {l1, NULL, NULL, NULL, NULL};
		static const char *const plain[] = {"&Remove", "&Cancel", NULL};
		static const char *const moving[] = {"&Remove and move", "&Choose server...", "&Cancel", NULL};
		static const char *const stuck[] = {"&Cancel", NULL};
		const char *const *buttons = plain;
		if (*used) {
			snprintf(l2, sizeof l2, "It is the outgoing server of: %s.", joined ? joined : "");
			lines[1] = l2;
			lines[2] = l3;
			if (target) {
				snprintf(l3, sizeof l3, "They will move to \"%s\".", target);
				buttons = moving;
				lines[3] = "Press u afterwards to undo.";
			} else {
				/* Nothing to offer but Cancel, and no talk of undo: nothing will happen. */
				snprintf(l1, sizeof l1, "Server \"%s\" cannot be removed.", name);
				snprintf(l3, sizeof l3, "There is no other server to move them to: add one first.");
				buttons = stuck;
			}
		} else {
			lines[1] = "Press u afterwards to undo.";
		}
		choice = widget_dialog(t, buttons == stuck ? "Cannot remove server" : "Remove server", lines, buttons,
				       0);
		if (buttons == moving && choice == 1) {
			const char **others = calloc(v->n + 1, sizeof *others);
			size_t k = 0;
			int pick;
			for (size_t i = 0; others && i < v->n; i++)
				if (i != v->sel)
					others[k++] = servers_name_at(v, i);
			pick = others ? widget_dropdown(t, t->rows / 2, t->cols / 2 - 10, others, 0) : -1;
			if (pick >= 0)
				target = others[pick];
			free(others);
			continue;
		}
		break;
	}
	if (choice != 0 || (*used && !target)) {
		free(joined);
		if (*used && !target)
			tui_status(t, 1, "Nothing was removed: \"%s\" is the only server its accounts can use.", name);
		else
			tui_status(t, 0, "Nothing was removed.");
		return;
	}
	if (outbox_server_remove(t->h, name, *used ? target : NULL, 0) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	} else if (*used) {
		tui_status(t, 0, "Removed server \"%s\"; moved %s to \"%s\". Press u to undo.", name, joined, target);
	} else {
		tui_status(t, 0, "Removed server \"%s\". Press u to undo.", name);
	}
	free(joined);
	v->zone = ZONE_LIST;
	tui_reload(t);
}

static void servers_undo(struct tui *t, struct servers_view *v)
{
	if (servers_leave(t, v) < 0)
		return;
	tui_undo(t);
}

static void servers_check(struct tui *t, struct servers_view *v)
{
	servers_apply_focused(t, v);
	if (v->draft == NULL) {
		tui_status(t, 1, "No server to check: press + to add one.");
		return;
	}
	check_run(t, v->draft);
}

static void servers_toggle_page(struct servers_view *v)
{
	v->page = !v->page;
	servers_show_page(v);
	if (v->zone == ZONE_FORM)
		v->form.focus = form_first_visible(&v->form, 0, 1);
}

static void servers_select(struct tui *t, struct servers_view *v, size_t sel)
{
	if (sel == v->sel || v->n == 0)
		return;
	if (v->dirty) {
		tui_status(t, 1, "Unsaved changes to \"%s\": OK (Enter) saves them, Esc cancels.",
			   outbox_server_get(v->draft, OUTBOX_SERVER_NAME));
		return;
	}
	v->sel = sel < v->n ? sel : v->n - 1;
	servers_load_draft(t, v);
}

static void servers_button(struct tui *t, struct servers_view *v, int b)
{
	switch (b) {
	case BTN_ADD: servers_add(t, v); break;
	case BTN_REMOVE: servers_remove(t, v); break;
	case BTN_CHECK: servers_check(t, v); break;
	case BTN_ADVANCED: servers_toggle_page(v); break;
	case BTN_OK: servers_ok(t, v); break;
	case BTN_CANCEL: servers_cancel(t, v); break;
	}
}

/* The letters that work wherever no text is being typed. */
static int servers_shortcut(struct tui *t, struct servers_view *v, int key)
{
	switch (key) {
	case '+': case TK(KEY_IC): servers_button(t, v, BTN_ADD); return 1;
	case '-': case TK(KEY_DC): servers_button(t, v, BTN_REMOVE); return 1;
	case 'c': case 'C': servers_button(t, v, BTN_CHECK); return 1;
	case 'a': case 'A': servers_button(t, v, BTN_ADVANCED); return 1;
	case 'o': case 'O': servers_button(t, v, BTN_OK); return 1;
	case 'u': case 'U': servers_undo(t, v); return 1;
	}
	return 0;
}

static void servers_mouse(struct tui *t, struct servers_view *v)
{
	int arg, tag = tui_hit_find(t, t->mouse_y, t->mouse_x, &arg);

	switch (tag) {
	case HIT_ROW:
		servers_apply_focused(t, v);
		v->zone = ZONE_LIST;
		servers_select(t, v, (size_t)arg);
		break;
	case HIT_FIELD:
		servers_apply_focused(t, v);
		if (v->draft == NULL)
			break;
		v->zone = ZONE_FORM;
		v->form.focus = arg;
		if (v->form.items[arg].kind == FORM_BOOL || v->form.items[arg].kind == FORM_CHOICE) {
			if (form_key(t, &v->form, ' ') == 1) {
				v->dirty = 1;
				servers_apply_item(t, v, &v->form.items[arg]);
			}
		}
		break;
	case HIT_BUTTON:
		servers_apply_focused(t, v);
		v->zone = ZONE_BUTTONS;
		v->button = arg;
		servers_button(t, v, arg);
		break;
	case HIT_PAGE:
		if (v->page != arg)
			servers_toggle_page(v);
		break;
	}
}

int servers_key(struct tui *t, struct servers_view *v, int key)
{
	struct form_item *it;
	int r;

	if (key == TK(KEY_MOUSE)) {
		servers_mouse(t, v);
		return 1;
	}
	if (key & 0x400000) {
		int c = key & 0xffff;
		if (c == 'n' || c == 'N') {
			servers_cancel(t, v);
			return 1;
		}
		servers_apply_focused(t, v);
		return servers_shortcut(t, v, c) ? 1 : 0;
	}
	if (key == TK_ESC) {
		if (!v->dirty && v->zone == ZONE_LIST)
			return 0;
		servers_cancel(t, v);
		return 1;
	}
	switch (v->zone) {
	case ZONE_LIST:
		switch (key) {
		case TK(KEY_UP): servers_select(t, v, v->sel > 0 ? v->sel - 1 : 0); return 1;
		case TK(KEY_DOWN): servers_select(t, v, v->sel + 1); return 1;
		case TK(KEY_PPAGE): servers_select(t, v, v->sel > 5 ? v->sel - 5 : 0); return 1;
		case TK(KEY_NPAGE): servers_select(t, v, v->sel + 5); return 1;
		case TK(KEY_HOME): servers_select(t, v, 0); return 1;
		case TK(KEY_END): servers_select(t, v, v->n ? v->n - 1 : 0); return 1;
		case TK_ENTER:
		case TK_TAB:
			if (v->draft) {
				v->zone = ZONE_FORM;
				v->form.focus = form_first_visible(&v->form, 0, 1);
			} else {
				v->zone = ZONE_BUTTONS;
				v->button = BTN_ADD;
			}
			return 1;
		case TK(KEY_BTAB):
			v->zone = ZONE_BUTTONS;
			v->button = BTN_CANCEL;
			return 1;
		}
		return servers_shortcut(t, v, key);
	case ZONE_FORM:
		it = v->form.focus >= 0 ? &v->form.items[v->form.focus] : NULL;
		if (key == TK_TAB || key == TK(KEY_DOWN)) {
			servers_apply_focused(t, v);
			if (!form_move(&v->form, 1)) {
				v->zone = ZONE_BUTTONS;
				v->button = BTN_OK;
			}
			return 1;
		}
		if (key == TK(KEY_BTAB) || key == TK(KEY_UP)) {
			servers_apply_focused(t, v);
			if (!form_move(&v->form, -1))
				v->zone = ZONE_LIST;
			return 1;
		}
		if (key == TK_ENTER && (it == NULL || it->kind != FORM_CHOICE)) {
			servers_ok(t, v);
			return 1;
		}
		r = form_key(t, &v->form, key);
		if (r == 1) {
			v->dirty = 1;
			if (it && (it->kind == FORM_BOOL || it->kind == FORM_CHOICE))
				servers_apply_item(t, v, it);
		}
		if (r)
			return 1;
		if (it && (it->kind == FORM_BOOL || it->kind == FORM_CHOICE))
			return servers_shortcut(t, v, key);
		return 0;
	default:
		switch (key) {
		case TK(KEY_LEFT): v->button = v->button > 0 ? v->button - 1 : 0; return 1;
		case TK(KEY_RIGHT): v->button = v->button + 1 < BTN_COUNT ? v->button + 1 : BTN_COUNT - 1; return 1;
		case TK_TAB:
			if (++v->button >= BTN_COUNT)
				v->zone = ZONE_LIST;
			return 1;
		case TK(KEY_BTAB):
			if (--v->button < 0) {
				v->zone = v->draft ? ZONE_FORM : ZONE_LIST;
				v->form.focus = form_first_visible(&v->form, v->form.count - 1, -1);
			}
			return 1;
		case TK_ENTER:
		case ' ':
			servers_button(t, v, v->button);
			return 1;
		}
		return servers_shortcut(t, v, key);
	}
}

static void servers_draw_row(struct tui *t, struct servers_view *v, int y, size_t i, const int *w)
{
	int selected = i == v->sel, x = 0;
	const outbox_server *s = i < v->n ? v->list[i] : v->draft;
	const char *desc = outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION);
	char *used = i < v->n ? tui_join(outbox_server_used_by(s)) : NULL;

	if (selected)
		attron(v->zone == ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
	widget_text(y, x, 2, strcmp(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true") == 0 ? " *" : "");
	x += 2;
	widget_text(y, x, w[0], i < v->n ? (*desc ? desc : outbox_server_get(s, OUTBOX_SERVER_HOST))
					  : "(new server)");
	x += w[0];
	widget_text(y, x, w[1], outbox_server_get(s, OUTBOX_SERVER_NAME));
	x += w[1];
	widget_text(y, x, t->cols - x, used && *used ? used : "-");
	if (selected)
		attroff(v->zone == ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
	tui_hit_add(t, y, 0, t->cols, HIT_ROW, (int)i);
	free(used);
}

void servers_draw(struct tui *t, struct servers_view *v)
{
	static const char *const labels[BTN_COUNT] = {"+ Add", "- Remove", "Check Connection", "Advanced", "OK",
						      "Cancel"};
	static const char mnemonics[BTN_COUNT] = {'+', '-', 'C', 'A', 'O', 'n'};
	int list_h = t->rows >= 40 ? t->rows / 4 : t->rows >= 20 ? 5 : 3, w[2], y, x, title_y;
	size_t total = v->n + (v->draft && v->sel >= v->n ? 1 : 0), i;
	char title[400];

	w[0] = (t->cols - 2) * 36 / 100;
	w[1] = (t->cols - 2) * 24 / 100;
	attron(A_BOLD | A_UNDERLINE);
	widget_text(1, 0, 2, "");
	widget_text(1, 2, w[0], "Description");
	widget_text(1, 2 + w[0], w[1], "Server Name");
	widget_text(1, 2 + w[0] + w[1], t->cols - 2 - w[0] - w[1], "In Use By Account");
	attroff(A_BOLD | A_UNDERLINE);
	if (v->sel < v->scroll)
		v->scroll = v->sel;
	if (v->sel >= v->scroll + (size_t)list_h)
		v->scroll = v->sel - (size_t)list_h + 1;
	if (total == 0)
		mvaddstr(3, 4, "No outgoing servers yet. Press + to add one.");
	for (i = v->scroll; i < total && i < v->scroll + (size_t)list_h; i++)
		servers_draw_row(t, v, 2 + (int)(i - v->scroll), i, w);
	title_y = 2 + list_h;
	attron(screen_attr(TS_TITLE));
	move(title_y, 0);
	for (x = 0; x < t->cols; x++)
		addch(' ');
	if (v->draft) {
		snprintf(title, sizeof title, " %s \"%s\"%s ", v->orig_name[0] ? "Server" : "New server",
			 outbox_server_get(v->draft, OUTBOX_SERVER_NAME), v->dirty ? " (changed)" : "");
		widget_text(title_y, 0, t->cols / 2, title);
		x = (int)widget_width(title) + 1;
		if (x > t->cols / 2)
			x = t->cols / 2;
		mvaddstr(title_y, x, v->page == 0 ? "[General]  Advanced " : " General  [Advanced]");
		tui_hit_add(t, title_y, x, x + 9, HIT_PAGE, 0);
		tui_hit_add(t, title_y, x + 10, x + 20, HIT_PAGE, 1);
	}
	attroff(screen_attr(TS_TITLE));
	if (v->draft) {
		if (v->zone != ZONE_FORM)
			v->form.focus = -1;
		form_draw(t, &v->form, title_y + 1, t->rows - 3 - title_y, HIT_FIELD);
	}
	y = t->rows - 2;
	x = 1;
	for (int b = 0; b < BTN_COUNT; b++) {
		const char *label = b == BTN_ADVANCED && v->page ? "General" : labels[b];
		x += widget_button(t, y, x, label, mnemonics[b], v->zone == ZONE_BUTTONS && v->button == b,
				   HIT_BUTTON, b) + 1;
	}
	if (v->zone == ZONE_FORM && v->form.focus >= 0)
		t->hint = form_hint(&v->form, t->hint_buf, sizeof t->hint_buf);
	else if (v->zone == ZONE_LIST)
		t->hint = "Up/Down: choose  Enter: edit  +/-: add/remove  c: check  u: undo  ?: help";
}
