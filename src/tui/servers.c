/* servers.c: the server list, the heart of `outbox ui`: servers on top, the selected one's
 * details below (General and Advanced), edited as a draft and saved in one transaction on OK. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

enum { BTN_ADD, BTN_REMOVE, BTN_CHECK, BTN_ADVANCED, BTN_OK, BTN_CANCEL, BTN_COUNT };
enum { HIT_ROW = 10, HIT_FIELD, HIT_BUTTON, HIT_PAGE };

/* The form's own items, beside the record's fields. */
enum { SERVERS_PASSWORD = -1, SERVERS_SIGN_IN = -2 };

/* The fields of the General page, in the order a mail client shows them (the host first, as Apple
 * Mail's "Server Name"), outbox's short name after them, then the OAuth provider and its Sign In
 * button. Every other field of the table goes to Advanced, so new fields appear there by themselves. */
static const int servers_general[] = {OUTBOX_SERVER_HOST, OUTBOX_SERVER_DESCRIPTION, OUTBOX_SERVER_NAME,
				      OUTBOX_SERVER_PORT, OUTBOX_SERVER_SECURITY, OUTBOX_SERVER_AUTH,
				      OUTBOX_SERVER_USER, SERVERS_PASSWORD, OUTBOX_SERVER_OAUTH,
				      SERVERS_SIGN_IN};
#define SERVERS_NGENERAL ((int)(sizeof servers_general / sizeof servers_general[0]))

struct servers_view {
	struct record_view rv; /* first, so the record callbacks can get back to the view */
	char **names; /* NULL-terminated copies, for drop-downs */
	char **words; /* each server as a drop-down shows it: "Description (host)" */
	const char **auth_words; /* the Authentication choices in a mail client's words */
	char start_name[64]; /* a new server's short name before its host is typed */
	int name_typed; /* the user typed the short name: it no longer follows the host */
	int page; /* 0 General, 1 Advanced */
	/* Add Account's "Edit manually": the account to add once this new server is saved. */
	char then_address[320], then_name[256];
};

/* The Password field's hint, by whether a password is stored: it says what Ctrl-U does there. */
static const char servers_password_help_new[] = "never shown; stored in the keyring or a private file; Ctrl-U clears it";
static const char servers_password_help_stored[] =
	"Ctrl-U: remove the stored password (OK asks first); typing replaces it";

static const char *servers_name_at(const struct servers_view *v, size_t i)
{
	return record_view_key_at(&v->rv, i);
}

static int servers_uses_oauth(const struct servers_view *v)
{
	return v->rv.draft && strcmp(outbox_server_get(v->rv.draft, OUTBOX_SERVER_OAUTH), "none") != 0;
}

/* A server that signs in with OAuth has no password (the library refuses one) but a Sign In
 * button; a password typed before the provider was chosen stays in view with its error. */
static int servers_item_shown(const struct servers_view *v, const struct form_item *it, int general)
{
	if (general != (v->page == 0))
		return 0;
	if (it->id == SERVERS_PASSWORD)
		return !servers_uses_oauth(v) || it->value[0] || it->error[0];
	if (it->id == SERVERS_SIGN_IN)
		return servers_uses_oauth(v);
	return 1;
}

static void servers_show_page(struct servers_view *v)
{
	struct form *f = &v->rv.form;

	for (int i = 0; i < f->count; i++)
		f->items[i].visible = servers_item_shown(v, &f->items[i], i < SERVERS_NGENERAL);
	if (f->focus >= 0 && !f->items[f->focus].visible)
		f->focus = form_first_visible(f, 0, 1);
}

/* An Authentication choice as Apple Mail words it: a password method is "Password (...)". */
static const char *servers_auth_word(const char *method)
{
	static const char *const words[][2] = {
		{"auto", "Password (automatic)"}, {"none", "None"}, {"plain", "Password (PLAIN)"},
		{"login", "Password (LOGIN)"}, {"cram-md5", "MD5 Challenge-Response"},
		{"scram-sha-1", "Password (SCRAM-SHA-1)"}, {"scram-sha-256", "Password (SCRAM-SHA-256)"},
		{"xoauth2", "OAuth 2.0 (XOAUTH2)"}, {"oauthbearer", "OAuth 2.0 (OAUTHBEARER)"},
		{"external", "Client Certificate (EXTERNAL)"}};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(words[i][0], method) == 0)
			return words[i][1];
	return method; /* a method added later shows as itself */
}

/* The UI's words where they differ from the command line's (whose labels the library's table
 * holds): the host is "Server Name" as in Apple Mail, outbox's own name is the "Short Name". */
static void servers_apple_words(struct servers_view *v, struct form_item *it)
{
	size_t n = 0;

	switch (it->id) {
	case OUTBOX_SERVER_HOST:
		it->label = "Server Name";
		it->help = "the server's host name, as mail.example.com (or its IP address)";
		break;
	case OUTBOX_SERVER_NAME:
		it->label = "Short Name";
		it->help = "what accounts and `outbox server ... NAME` call it; filled in from the host";
		break;
	case OUTBOX_SERVER_AUTH:
		while (it->choices && it->choices[n])
			n++;
		if ((v->auth_words = calloc(n + 1, sizeof *v->auth_words)) == NULL)
			break;
		for (size_t i = 0; i < n; i++)
			v->auth_words[i] = servers_auth_word(it->choices[i]);
		it->choice_words = (const char *const *)v->auth_words;
		it->help = "Password (automatic): the strongest password method both sides offer";
		break;
	}
}

static void servers_build_form(struct servers_view *v)
{
	struct form *f = &v->rv.form;
	struct form_item *it;
	int id, k;

	form_init(f);
	for (k = 0; k < SERVERS_NGENERAL; k++) {
		id = servers_general[k];
		if (id >= 0) {
			if ((it = form_add(f, id, outbox_server_field_info((outbox_server_field_id)id))) != NULL)
				servers_apple_words(v, it);
		} else if ((it = form_add(f, id, NULL)) == NULL) {
			continue;
		} else if (id == SERVERS_PASSWORD) {
			it->label = "Password";
			it->help = servers_password_help_new;
			it->kind = FORM_PASSWORD;
		} else {
			it->label = "Sign-In";
			it->help = "Enter: sign in at the provider, with a code or in your browser";
			it->kind = FORM_ACTION;
			it->action = "Sign In...";
		}
	}
	for (id = 0; id < OUTBOX_SERVER_FIELD_COUNT; id++) {
		int general = 0;
		for (k = 0; k < SERVERS_NGENERAL; k++)
			general |= servers_general[k] == id;
		if (!general)
			form_add(f, id, outbox_server_field_info((outbox_server_field_id)id));
	}
	servers_show_page(v);
}

/* The library's server calls as the record view sees them; the field id -1 is the password. */
static void *servers_rec_make(void)
{
	return outbox_server_new();
}

static int servers_rec_load(outbox *h, const char *key, void **out)
{
	outbox_server *s = NULL;
	int rc = outbox_server_load(h, key, &s);

	*out = s;
	return rc;
}

static void servers_rec_drop(void *rec)
{
	outbox_server_free(rec);
}

static const char *servers_rec_get(const void *rec, int id)
{
	return outbox_server_get(rec, (outbox_server_field_id)id);
}

static int servers_rec_set(outbox *h, void *rec, int id, const char *value)
{
	if (id == SERVERS_SIGN_IN)
		return 0; /* a button, not a value */
	/* An emptied field forgets nothing by itself: a save asks first (servers_password_confirm). */
	if (id < 0)
		return value[0] ? outbox_server_set_password(h, rec, value) : 0;
	return outbox_server_set(h, rec, (outbox_server_field_id)id, value);
}

static int servers_rec_save(outbox *h, void *rec)
{
	return outbox_server_save(h, rec);
}

static int servers_rec_list(outbox *h, void **out, size_t *count)
{
	outbox_server **list = NULL;
	int rc = outbox_server_list(h, &list, count);

	*out = list;
	return rc;
}

static const void *servers_rec_at(const void *list, size_t i)
{
	return ((outbox_server *const *)list)[i];
}

static void servers_rec_list_drop(void *list, size_t count)
{
	outbox_server_list_free(list, count);
}

static int servers_rec_field_by_key(const char *key, int *id)
{
	/* A failure about the password is shown beside the Password field, the form's id -1. */
	if (strcmp(key, "password") == 0) {
		*id = SERVERS_PASSWORD;
		return 1;
	}
	*id = outbox_server_field_by_key(key);
	return *id >= 0;
}

/* A password kept by outbox (keyring or file) that an emptied field would remove on OK. */
static int servers_password_stored(const struct record_view *rv)
{
	outbox_password_source src = rv->draft ? outbox_server_password_source(rv->draft) : OUTBOX_PASSWORD_NONE;

	return src == OUTBOX_PASSWORD_KEYRING || src == OUTBOX_PASSWORD_FILE;
}

/* What the empty Password field shows: where the stored one is kept, or, once the user emptied
 * the field, that OK removes it (after asking); and the hint that says what Ctrl-U does. */
static void servers_password_words(const struct record_view *rv, struct form_item *it)
{
	outbox_password_source src = rv->draft ? outbox_server_password_source(rv->draft) : OUTBOX_PASSWORD_NONE;

	it->help = servers_password_stored(rv) ? servers_password_help_stored : servers_password_help_new;
	snprintf(it->placeholder, sizeof it->placeholder, "%s",
		 it->changed && servers_password_stored(rv) ? "(stored password: removed on OK)" :
		 src == OUTBOX_PASSWORD_KEYRING ? "(stored in the keyring)" :
		 src == OUTBOX_PASSWORD_FILE ? "(stored in a private file)" :
		 src == OUTBOX_PASSWORD_COMMAND ? "(from the password command)" : "");
}

/* The password is never shown: only where the stored one is kept. */
static void servers_rec_fill_own(struct record_view *rv, struct form_item *it, int keep_errors)
{
	if (it->id == SERVERS_SIGN_IN)
		return; /* its words are the sign-in state at the time it is drawn */
	if (!keep_errors) {
		explicit_bzero(it->value, sizeof it->value);
		it->cursor = 0;
		it->changed = it->pending = 0;
	}
	servers_password_words(rv, it);
}

static void servers_free_names(struct servers_view *v)
{
	if (v->names) {
		for (size_t i = 0; v->names[i]; i++)
			free(v->names[i]);
		free(v->names);
		v->names = NULL;
	}
	for (size_t i = 0; v->words && v->words[i]; i++)
		free(v->words[i]);
	free(v->words);
	v->words = NULL;
}

/* A server as a drop-down shows it: "Description (host)", the host alone without a description. */
static char *servers_word(const outbox_server *s)
{
	const char *desc = outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION);
	const char *host = outbox_server_get(s, OUTBOX_SERVER_HOST);
	char *word = NULL;

	if (*desc && *host)
		return asprintf(&word, "%s (%s)", desc, host) < 0 ? NULL : word;
	return strdup(*host ? host : *desc ? desc : outbox_server_get(s, OUTBOX_SERVER_NAME));
}

/* Two servers a drop-down would show alike (same description and host) get their short names
 * added, "Work (smtp.example.com) [work-2]", so the user can tell which one is picked. */
static void servers_tell_apart(struct servers_view *v)
{
	size_t n = v->rv.n, i, j;
	char *word;
	int *same;

	if (v->words == NULL || (same = calloc(n + 1, sizeof *same)) == NULL)
		return;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (v->words[i] && v->words[j] && strcmp(v->words[i], v->words[j]) == 0)
				same[i] = same[j] = 1;
	for (i = 0; i < n; i++)
		if (same[i] && asprintf(&word, "%s [%s]", v->words[i], servers_name_at(v, i)) >= 0) {
			free(v->words[i]);
			v->words[i] = word;
		}
	free(same);
}

static void servers_rec_listed(struct tui *t, struct record_view *rv)
{
	struct servers_view *v = (struct servers_view *)rv;

	servers_free_names(v);
	v->names = calloc(rv->n + 1, sizeof *v->names);
	v->words = calloc(rv->n + 1, sizeof *v->words);
	for (size_t i = 0; v->names && i < rv->n; i++)
		v->names[i] = strdup(servers_name_at(v, i));
	for (size_t i = 0; v->words && i < rv->n; i++)
		if ((v->words[i] = servers_word(record_view_at(rv, i))) == NULL)
			v->words[i] = strdup(servers_name_at(v, i));
	servers_tell_apart(v);
}

static void servers_rec_reveal(struct record_view *rv, int index)
{
	struct servers_view *v = (struct servers_view *)rv;

	if ((index < SERVERS_NGENERAL) != (v->page == 0)) {
		v->page = !v->page;
		servers_show_page(v);
	}
}

static void servers_rec_ask_save(const struct record_view *rv, char *buf, size_t size)
{
	snprintf(buf, size, "Save the changes to server \"%s\"?", outbox_server_get(rv->draft, OUTBOX_SERVER_NAME));
}

static void servers_rec_edited_name(const struct record_view *rv, char *buf, size_t size)
{
	snprintf(buf, size, "\"%s\"", outbox_server_get(rv->draft, OUTBOX_SERVER_NAME));
}

static int servers_password_confirm(struct tui *t, struct record_view *rv);

static const struct record_ops servers_ops = {
	.noun = "server",
	.quote = 1,
	.key_field = OUTBOX_SERVER_NAME,
	.none_to_remove = "No server to remove: the list is empty; + adds one.",
	.make = servers_rec_make,
	.load = servers_rec_load,
	.drop = servers_rec_drop,
	.get = servers_rec_get,
	.set = servers_rec_set,
	.save = servers_rec_save,
	.list = servers_rec_list,
	.list_at = servers_rec_at,
	.list_drop = servers_rec_list_drop,
	.field_by_key = servers_rec_field_by_key,
	.fill_own = servers_rec_fill_own,
	.listed = servers_rec_listed,
	.reveal = servers_rec_reveal,
	.confirm_save = servers_password_confirm,
	.ask_save = servers_rec_ask_save,
	.edited_name = servers_rec_edited_name,
};

struct servers_view *servers_new(struct tui *t)
{
	struct servers_view *v = calloc(1, sizeof *v);

	if (v == NULL)
		return NULL;
	servers_build_form(v);
	record_view_init(t, &v->rv, &servers_ops);
	return v;
}

void servers_free(struct servers_view *v)
{
	if (v == NULL)
		return;
	record_view_free(&v->rv);
	servers_free_names(v);
	free(v->auth_words);
	free(v);
}

const char *const *servers_names(struct servers_view *v)
{
	static const char *const none[] = {NULL};

	return v->names ? (const char *const *)v->names : none;
}

const char *const *servers_words(struct servers_view *v)
{
	static const char *const none[] = {NULL};

	return v->words ? (const char *const *)v->words : none;
}

const char *servers_default_name(struct servers_view *v)
{
	for (size_t i = 0; i < v->rv.n; i++)
		if (strcmp(servers_rec_get(record_view_at(&v->rv, i), OUTBOX_SERVER_DEFAULT), "true") == 0)
			return servers_name_at(v, i);
	return v->rv.n ? servers_name_at(v, 0) : NULL;
}

int servers_dirty(const struct servers_view *v)
{
	return v->rv.dirty;
}

void servers_reload(struct tui *t, struct servers_view *v)
{
	record_view_reload(t, &v->rv);
}

int servers_leave(struct tui *t, struct servers_view *v)
{
	return record_view_leave(t, &v->rv);
}

static void servers_add(struct tui *t, struct servers_view *v)
{
	char name[64];
	int k;

	v->then_address[0] = '\0'; /* a server of its own, not Add Account's */
	if (record_view_leave(t, &v->rv) < 0 || record_view_new_draft(t, &v->rv) == NULL)
		return;
	/* A free name to start from; the user can change it. */
	for (k = 1; k < 1000; k++) {
		size_t i;
		snprintf(name, sizeof name, "server%d", k);
		for (i = 0; i < v->rv.n && strcmp(servers_name_at(v, i), name) != 0; i++)
			;
		if (i == v->rv.n)
			break;
	}
	outbox_server_set(t->h, v->rv.draft, OUTBOX_SERVER_NAME, name);
	snprintf(v->start_name, sizeof v->start_name, "%s", name);
	v->name_typed = 0;
	v->page = 0;
	servers_show_page(v);
	record_view_edit_new(&v->rv);
	tui_status(t, 0, "New server: type its Server Name (the host, as mail.example.com), then OK (Enter) "
			 "to add it; Esc cancels.");
}

void servers_add_draft(struct tui *t, struct servers_view *v, outbox_server *draft, const char *address,
		       const char *full_name)
{
	if (record_view_leave(t, &v->rv) < 0) {
		outbox_server_free(draft);
		return;
	}
	v->rv.ops->drop(v->rv.draft);
	v->rv.draft = draft;
	v->name_typed = 1; /* the name setup gave it stays, whatever host the user corrects */
	v->page = 0;
	servers_show_page(v);
	record_view_edit_new(&v->rv);
	t->tab = TUI_TAB_SERVERS;
	snprintf(v->then_address, sizeof v->then_address, "%s", address);
	snprintf(v->then_name, sizeof v->then_name, "%s", full_name);
	tui_status(t, 0, "New server from what was found: check it, then OK (Enter) saves it; Esc cancels.");
}

/* Before a save of a Password field the user emptied while a password is stored: ask. 0 to go
 * on saving (the draft then forgets the password, or keeps it), 1 when Keep It left nothing to
 * save, -1 to keep editing. The record view asks it before every save (OK, Save on leaving). */
static int servers_password_confirm(struct tui *t, struct record_view *rv)
{
	static const char *const buttons[] = {"&Remove Password", "&Keep It", NULL};
	struct form_item *it = form_find(&rv->form, SERVERS_PASSWORD);
	char name[256], line[400];
	const char *lines[] = {line, "Without it, sending through this server needs a new one.", NULL};
	int others = 0;

	if (it == NULL || !it->changed || it->value[0] || !servers_password_stored(rv))
		return 0;
	snprintf(name, sizeof name, "%s", outbox_server_get(rv->draft, OUTBOX_SERVER_NAME));
	snprintf(line, sizeof line, "Remove the stored password for server \"%s\"?", name);
	/* Keep It has the focus: Enter alone never removes a password. */
	switch (widget_dialog(t, "Remove password", lines, buttons, 1)) {
	case 0:
		it->pending = 0;
		if (outbox_server_set_password(t->h, rv->draft, NULL) < 0) {
			tui_status(t, 1, "%s", outbox_errmsg(t->h));
			return -1;
		}
		return 0;
	case 1:
		it->changed = it->pending = 0;
		for (int i = 0; i < rv->form.count; i++)
			others |= rv->form.items[i].changed;
		if (others)
			return 0; /* the other edits are saved; the password stays */
		record_view_cancel(t, rv);
		tui_status(t, 0, "Kept the stored password for \"%s\"; nothing else had changed, so nothing was saved.",
			   name);
		return 1;
	default:
		tui_status(t, 0, "Nothing was saved; still editing \"%s\".", name);
		return -1;
	}
}

/* Ctrl-U in the untouched Password field of a server with a stored password: the field is
 * emptied on purpose, so OK will offer to remove the stored one. */
static int servers_password_clear(struct tui *t, struct servers_view *v, struct form_item *it, int key)
{
	if (key != 21 || it == NULL || it->id != SERVERS_PASSWORD || it->changed || !servers_password_stored(&v->rv))
		return 0;
	it->changed = 1;
	record_view_changed(t, &v->rv, it);
	servers_password_words(&v->rv, it);
	tui_status(t, 0, "Password emptied: OK asks before removing the stored password; Esc keeps it.");
	return 1;
}

/* OK; a server that Add Account's "Edit manually" began goes on to its account's form. */
static void servers_ok(struct tui *t, struct servers_view *v)
{
	int adding = v->rv.adding;
	char server[256];

	if (record_view_ok(t, &v->rv) < 0 || !adding || v->rv.adding || !v->then_address[0] || v->rv.draft == NULL)
		return;
	snprintf(server, sizeof server, "%s", outbox_server_get(v->rv.draft, OUTBOX_SERVER_NAME));
	tui_reload(t);
	accounts_add_prefilled(t, t->accounts, v->then_address, v->then_name, server);
	v->then_address[0] = '\0';
}

/* A new server's short name follows its host as it is typed ("smtp.example.com" -> "example.com",
 * "example.com-2" when taken), until the user types a short name of their own. */
static void servers_follow_host(struct tui *t, struct servers_view *v, const struct form_item *host)
{
	struct form_item *name = form_find(&v->rv.form, OUTBOX_SERVER_NAME);
	char derived[128];

	if (!v->rv.adding || v->name_typed || name == NULL || v->rv.draft == NULL)
		return;
	if (outbox_server_name_for_host(t->h, host->value, derived, sizeof derived) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		return;
	}
	if (outbox_server_set(t->h, v->rv.draft, OUTBOX_SERVER_NAME, derived[0] ? derived : v->start_name) < 0)
		return; /* a name the library refuses is not offered: the last good one stays */
	form_set_value(name, outbox_server_get(v->rv.draft, OUTBOX_SERVER_NAME));
	name->error[0] = '\0';
}

/* A value typed or picked in the form: the host leads the short name until that is typed. */
static void servers_edited(struct tui *t, struct servers_view *v, struct form_item *it)
{
	if (it->id == OUTBOX_SERVER_NAME)
		v->name_typed = 1;
	else if (it->id == OUTBOX_SERVER_HOST)
		servers_follow_host(t, v, it);
	record_view_changed(t, &v->rv, it);
}

static int servers_check_apply(struct tui *t, void *ctx, int field, const char *value)
{
	struct servers_view *v = ctx;
	struct form_item *it = form_find(&v->rv.form, field);

	v->rv.dirty = 1;
	if (it == NULL) {
		if (outbox_server_set(t->h, v->rv.draft, (outbox_server_field_id)field, value) < 0) {
			tui_status(t, 1, "%s", outbox_errmsg(t->h));
			return -1;
		}
		return 0;
	}
	form_set_value(it, value);
	it->changed = it->pending = 1;
	return record_view_apply_item(t, &v->rv, it);
}

static void servers_check(struct tui *t, struct servers_view *v)
{
	record_view_apply_focused(t, &v->rv);
	if (v->rv.draft == NULL) {
		tui_status(t, 1, "No server to check: press + to add one.");
		return;
	}
	check_run(t, v->rv.draft, servers_check_apply, v);
}

/* Sign In... runs on the saved server: the sign-in reads its settings from the store. When signed
 * in already, it offers to sign in again or to sign out. */
static void servers_sign_in(struct tui *t, struct servers_view *v)
{
	static const char *const buttons[] = {"Sign in &again", "Sign &out", "&Cancel", NULL};
	struct record_view *rv = &v->rv;
	char name[256], user[320], state[300], line[600];
	const char *lines[] = {line, NULL};
	outbox_signin in;

	record_view_apply_focused(t, rv);
	if (rv->draft == NULL || !servers_uses_oauth(v))
		return;
	if (rv->dirty) {
		tui_status(t, 1, "Save the server first (OK), then Sign In: the sign-in uses the saved settings.");
		return;
	}
	snprintf(name, sizeof name, "%s", outbox_server_get(rv->draft, OUTBOX_SERVER_NAME));
	snprintf(user, sizeof user, "%s", outbox_server_get(rv->draft, OUTBOX_SERVER_USER));
	if (outbox_server_signin(t->h, rv->draft, &in) == 0 && in.signed_in) {
		signin_state_words(t, rv->draft, state, sizeof state);
		snprintf(line, sizeof line, "Server \"%s\": %s.", name, state);
		switch (widget_dialog(t, "Signed in", lines, buttons, 0)) {
		case 0: break;
		case 1: signin_sign_out(t, name); return;
		default: return;
		}
	}
	signin_run(t, name, user);
}

static void servers_toggle_page(struct servers_view *v)
{
	v->page = !v->page;
	servers_show_page(v);
	if (v->rv.zone == RV_ZONE_FORM)
		v->rv.form.focus = form_first_visible(&v->rv.form, 0, 1);
}

static void servers_button(struct tui *t, struct servers_view *v, int b)
{
	switch (b) {
	case BTN_ADD: servers_add(t, v); break;
	case BTN_REMOVE: server_removal_run(t, &v->rv); break;
	case BTN_CHECK: servers_check(t, v); break;
	case BTN_ADVANCED:
		if (v->rv.draft == NULL)
			tui_status(t, 1, "No server to show Advanced settings of: press + to add one.");
		else
			servers_toggle_page(v);
		break;
	case BTN_OK: servers_ok(t, v); break;
	case BTN_CANCEL: record_view_cancel(t, &v->rv); break;
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
	case 'u': case 'U': record_view_undo(t, &v->rv); return 1;
	}
	return 0;
}

static void servers_mouse(struct tui *t, struct servers_view *v)
{
	struct record_view *rv = &v->rv;
	int arg, tag = tui_hit_find(t, t->mouse_y, t->mouse_x, &arg);

	switch (tag) {
	case HIT_ROW:
		record_view_apply_focused(t, rv);
		rv->zone = RV_ZONE_LIST;
		record_view_select(t, rv, (size_t)arg);
		break;
	case HIT_FIELD:
		record_view_apply_focused(t, rv);
		if (rv->draft == NULL)
			break;
		rv->zone = RV_ZONE_FORM;
		rv->form.focus = arg;
		if (rv->form.items[arg].kind == FORM_ACTION)
			servers_sign_in(t, v);
		else if ((rv->form.items[arg].kind == FORM_BOOL || rv->form.items[arg].kind == FORM_CHOICE) &&
			 form_key(t, &rv->form, ' ') == 1)
			record_view_changed(t, rv, &rv->form.items[arg]);
		break;
	case HIT_BUTTON:
		record_view_apply_focused(t, rv);
		rv->zone = RV_ZONE_BUTTONS;
		rv->button = arg;
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
	struct record_view *rv = &v->rv;
	struct form_item *it;

	if (key == TK(KEY_MOUSE)) {
		servers_mouse(t, v);
		return 1;
	}
	if (key & 0x400000) {
		int c = key & 0xffff;
		if (c == 'n' || c == 'N') {
			record_view_cancel(t, rv);
			return 1;
		}
		record_view_apply_focused(t, rv);
		return servers_shortcut(t, v, c) ? 1 : 0;
	}
	if (record_view_key(t, rv, key, BTN_OK, BTN_COUNT))
		return 1;
	switch (rv->zone) {
	case RV_ZONE_LIST:
		switch (key) {
		case TK(KEY_PPAGE): record_view_select(t, rv, rv->sel > 5 ? rv->sel - 5 : 0); return 1;
		case TK(KEY_NPAGE): record_view_select(t, rv, rv->sel + 5); return 1;
		case TK_ENTER:
		case TK_TAB:
			if (rv->draft) {
				rv->zone = RV_ZONE_FORM;
				rv->form.focus = form_first_visible(&rv->form, 0, 1);
			} else {
				rv->zone = RV_ZONE_BUTTONS;
				rv->button = BTN_ADD;
			}
			return 1;
		case TK(KEY_BTAB):
			rv->zone = RV_ZONE_BUTTONS;
			rv->button = BTN_CANCEL;
			return 1;
		}
		return servers_shortcut(t, v, key);
	case RV_ZONE_FORM:
		it = rv->form.focus >= 0 ? &rv->form.items[rv->form.focus] : NULL;
		if (key == TK_ENTER && (it == NULL || (it->kind != FORM_CHOICE && it->kind != FORM_ACTION))) {
			servers_ok(t, v);
			return 1;
		}
		if (servers_password_clear(t, v, it, key))
			return 1;
		switch (form_key(t, &rv->form, key)) {
		case 1:
			servers_edited(t, v, it);
			return 1;
		case 2:
			return 1;
		case FORM_PRESSED:
			servers_sign_in(t, v);
			return 1;
		}
		if (it && (it->kind == FORM_BOOL || it->kind == FORM_CHOICE || it->kind == FORM_ACTION))
			return servers_shortcut(t, v, key);
		return 0;
	default:
		if (key == TK_ENTER || key == ' ') {
			servers_button(t, v, rv->button);
			return 1;
		}
		return servers_shortcut(t, v, key);
	}
}

/* The new server's host as typed so far, which the draft gets only when the field is left. */
static const char *servers_typed_host(struct servers_view *v)
{
	const struct form_item *host = form_find(&v->rv.form, OUTBOX_SERVER_HOST);

	return host ? host->value : "";
}

/* The list's columns: the last, the accounts a server serves, is shortened and then left out
 * first on a narrow screen; the description (or short name) is what names a row, so it stays. */
static const struct layout_col servers_cols[] = {
	{"Description", NULL, 8, 36, 0},
	{"Server Name", NULL, 12, 24, 0},
	{"In Use By Account", "In Use By", 9, 40, 1},
};

static void servers_draw_row(struct tui *t, struct servers_view *v, int y, size_t i, const struct layout_cols *c,
			     const char *mark)
{
	const struct record_view *rv = &v->rv;
	int selected = i == rv->sel;
	const outbox_server *s = i < rv->n ? record_view_at(rv, i) : rv->draft;
	const char *desc = outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION);
	char *used = i < rv->n ? tui_join(outbox_server_used_by(s)) : NULL;
	const char *texts[3];

	/* Description (the short name when there is none), Server Name (the host, as Apple Mail
	 * calls it), In Use By. */
	texts[0] = i < rv->n ? (*desc ? desc : outbox_server_get(s, OUTBOX_SERVER_NAME)) : "(new server)";
	texts[1] = i < rv->n ? outbox_server_get(s, OUTBOX_SERVER_HOST) : servers_typed_host(v);
	texts[2] = used && *used ? used : "-";
	if (selected)
		attron(rv->zone == RV_ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
	widget_text(y, 0, 2, strcmp(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true") == 0 ? " *" : "");
	layout_row(y, 2, c, texts, mark);
	if (selected)
		attroff(rv->zone == RV_ZONE_LIST ? screen_attr(TS_SELECTED) : (int)A_BOLD);
	tui_hit_add(t, y, 0, t->cols, HIT_ROW, (int)i);
	free(used);
}

/* The page tabs sit at the right end of the title row, so a long title is cut before them. */
static void servers_draw_title(struct tui *t, struct servers_view *v, const struct layout_page *p)
{
	static const char general[] = "[General]  Advanced ", advanced[] = " General  [Advanced]";
	const struct record_view *rv = &v->rv;
	int x = t->cols - (int)sizeof general;
	char title[400];

	snprintf(title, sizeof title, " %s \"%s\"%s", rv->orig[0] ? "Server" : "New server",
		 rv->draft ? outbox_server_get(rv->draft, OUTBOX_SERVER_NAME) : "", rv->dirty ? " (changed)" : "");
	record_view_draw_title(t, p, rv->draft ? title : "", x);
	if (rv->draft == NULL)
		return;
	attron(screen_attr(TS_TITLE));
	mvaddstr(p->title_y, x, v->page == 0 ? general : advanced);
	attroff(screen_attr(TS_TITLE));
	tui_hit_add(t, p->title_y, x, x + 9, HIT_PAGE, 0);
	tui_hit_add(t, p->title_y, x + 10, x + 20, HIT_PAGE, 1);
}

void servers_draw(struct tui *t, struct servers_view *v)
{
	static const char *const labels[BTN_COUNT] = {"+ Add", "- Remove", "Check Connection", "Advanced", "OK",
						      "Cancel"};
	static const char mnemonics[BTN_COUNT] = {'+', '-', 'C', 'A', 'O', 'n'};
	const char *shown[BTN_COUNT];
	struct record_view *rv = &v->rv;
	struct form_item *sign_in, *password;
	struct layout_cols c;
	struct layout_page p;
	size_t total = rv->n + (rv->draft && rv->sel >= rv->n ? 1 : 0), i;
	char mark[40];

	for (int b = 0; b < BTN_COUNT; b++)
		shown[b] = b == BTN_ADVANCED && v->page ? "General" : labels[b];
	servers_show_page(v); /* the OAuth provider may have changed since the last frame */
	layout_columns(&c, t->cols - 2, servers_cols, (int)(sizeof servers_cols / sizeof servers_cols[0]));
	record_view_draw_list_top(t, rv, total, layout_button_rows(1, t->cols, shown, BTN_COUNT), &c, &p);
	if (total == 0)
		layout_cell(p.list_y, 4, t->cols - 4, "No outgoing servers yet. Press + to add one.");
	for (i = rv->scroll; i < total && i < rv->scroll + (size_t)p.list_h; i++) {
		int row = (int)(i - rv->scroll);
		servers_draw_row(t, v, p.list_y + row, i, &c,
				 layout_mark(rv->scroll, total, p.list_h, row, mark, sizeof mark));
	}
	servers_draw_title(t, v, &p);
	if ((password = form_find(&rv->form, SERVERS_PASSWORD)) != NULL)
		servers_password_words(rv, password); /* typing may have emptied it since */
	if ((sign_in = form_find(&rv->form, SERVERS_SIGN_IN)) != NULL && sign_in->visible) {
		if (rv->dirty)
			form_set_value(sign_in, "Unsaved changes: save the server (OK) first");
		else
			signin_state_words(t, rv->draft, sign_in->value, sizeof sign_in->value);
	}
	record_view_draw_form(t, rv, &p, HIT_FIELD);
	layout_buttons(t, p.buttons_y, 1, t->cols, shown, mnemonics, BTN_COUNT,
		       rv->zone == RV_ZONE_BUTTONS ? rv->button : -1, HIT_BUTTON);
	if (rv->zone == RV_ZONE_LIST)
		t->hint = "Up/Down: choose  Enter: edit  +/-: add/remove  c: check  u: undo  ?: help";
}
