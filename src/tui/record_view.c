/* record_view.c: what the Servers and Accounts views share: a list of saved records above the
 * selected one's draft in a form, applied field by field, saved in one transaction on OK. */
#include <ctype.h>
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

const void *record_view_at(const struct record_view *rv, size_t i)
{
	return rv->ops->list_at(rv->list, i);
}

const char *record_view_key_at(const struct record_view *rv, size_t i)
{
	return rv->ops->get(record_view_at(rv, i), rv->ops->key_field);
}

/* A record as the status line names it: server "x" or account x, capitalised to open a sentence. */
static void record_view_name(const struct record_view *rv, char *buf, size_t size, const char *key, int capital)
{
	const char *q = rv->ops->quote ? "\"" : "";

	snprintf(buf, size, "%c%s %s%s%s", capital ? toupper((unsigned char)rv->ops->noun[0]) : rv->ops->noun[0],
		 rv->ops->noun + 1, q, key, q);
}

/* Show the draft's values; fields the user typed wrongly keep their text and message. */
static void record_view_fill_form(struct record_view *rv, int keep_errors)
{
	for (int i = 0; i < rv->form.count; i++) {
		struct form_item *it = &rv->form.items[i];
		if (keep_errors && it->error[0])
			continue;
		if (it->id < 0) {
			if (rv->ops->fill_own)
				rv->ops->fill_own(rv, it, keep_errors);
			continue;
		}
		form_set_value(it, rv->draft ? rv->ops->get(rv->draft, it->id) : "");
		if (!keep_errors) {
			it->changed = it->pending = 0;
			it->error[0] = '\0';
		}
	}
}

static void record_view_load_draft(struct tui *t, struct record_view *rv)
{
	rv->ops->drop(rv->draft);
	rv->draft = NULL;
	rv->orig[0] = '\0';
	rv->dirty = 0;
	rv->adding = 0;
	if (rv->sel < rv->n) {
		snprintf(rv->orig, sizeof rv->orig, "%s", record_view_key_at(rv, rv->sel));
		if (rv->ops->load(t->h, rv->orig, &rv->draft) < 0)
			tui_status(t, 1, "%s", outbox_errmsg(t->h));
	}
	record_view_fill_form(rv, 0);
}

/* Read the list again, keeping the selection on the record keyed `keep` when given. */
static void record_view_list_again(struct tui *t, struct record_view *rv, const char *keep)
{
	char key[sizeof rv->orig];

	snprintf(key, sizeof key, "%s", keep ? keep : "");
	rv->ops->list_drop(rv->list, rv->n);
	rv->list = NULL;
	rv->n = 0;
	if (rv->ops->list(t->h, &rv->list, &rv->n) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		rv->list = NULL;
		rv->n = 0;
	}
	for (size_t i = 0; key[0] && i < rv->n; i++)
		if (strcmp(record_view_key_at(rv, i), key) == 0)
			rv->sel = i;
	if (rv->sel >= rv->n)
		rv->sel = rv->n ? rv->n - 1 : 0;
	if (rv->ops->listed)
		rv->ops->listed(t, rv);
}

void record_view_init(struct tui *t, struct record_view *rv, const struct record_ops *ops)
{
	rv->ops = ops;
	record_view_list_again(t, rv, NULL);
	record_view_load_draft(t, rv);
}

void record_view_free(struct record_view *rv)
{
	rv->ops->list_drop(rv->list, rv->n);
	rv->list = NULL;
	rv->n = 0;
	rv->ops->drop(rv->draft);
	rv->draft = NULL;
	form_free(&rv->form);
}

void record_view_reload(struct tui *t, struct record_view *rv)
{
	record_view_list_again(t, rv, rv->orig[0] ? rv->orig : NULL);
	/* Unsaved edits stay: saving them will notice the conflict and ask. */
	if (!rv->dirty)
		record_view_load_draft(t, rv);
}

/* The form item a library field key ("host") is shown in, or NULL when the form has none: the one
 * place a failure's field becomes the form's label. */
static struct form_item *record_view_item_for_key(struct record_view *rv, const char *key)
{
	int id;

	return key && rv->ops->field_by_key(key, &id) ? form_find(&rv->form, id) : NULL;
}

/* The handle's failure about `it`, beside the field and in the status bar, in the form's words:
 * its label ("Server Name"), never the command line's key ("host"). */
static void record_view_field_failure(struct tui *t, struct record_view *rv, struct form_item *it)
{
	char msg[sizeof it->error + 100];

	snprintf(it->error, sizeof it->error, "%s", outbox_errdetail(t->h));
	form_field_message(msg, sizeof msg, it->label, it->error);
	tui_status(t, 1, "%s", msg);
}

/* Put one edited field into the draft; the library checks it and names what is wrong. */
int record_view_apply_item(struct tui *t, struct record_view *rv, struct form_item *it)
{
	int rc;

	if (rv->draft == NULL || !it->pending)
		return 0;
	it->pending = 0;
	if ((rc = rv->ops->set(t->h, rv->draft, it->id, it->value)) < 0) {
		record_view_field_failure(t, rv, it);
		return rc;
	}
	it->error[0] = '\0';
	/* The library may have changed other fields too (the port follows the security mode). */
	record_view_fill_form(rv, 1);
	return 0;
}

void record_view_apply_focused(struct tui *t, struct record_view *rv)
{
	if (rv->zone == RV_ZONE_FORM && rv->form.focus >= 0)
		record_view_apply_item(t, rv, &rv->form.items[rv->form.focus]);
}

static void record_view_focus_item(struct record_view *rv, struct form_item *it)
{
	int index = (int)(it - rv->form.items);

	if (rv->ops->reveal)
		rv->ops->reveal(rv, index);
	rv->zone = RV_ZONE_FORM;
	rv->form.focus = index;
}

/* Show a save failure beside its field when it names one. */
static void record_view_show_failure(struct tui *t, struct record_view *rv)
{
	struct form_item *it = record_view_item_for_key(rv, outbox_errfield(t->h));

	if (it == NULL) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		return;
	}
	record_view_field_failure(t, rv, it);
	record_view_focus_item(rv, it);
}

/* Another process changed the record: load theirs and put only the user's edits on top, so
 * the fields they did not touch keep the other change. */
static int record_view_overwrite(struct tui *t, struct record_view *rv)
{
	void *fresh = NULL;
	int rc;

	if ((rc = rv->ops->load(t->h, rv->orig, &fresh)) < 0)
		return rc;
	for (int i = 0; i < rv->form.count; i++) {
		struct form_item *it = &rv->form.items[i];
		if (it->changed && (rc = rv->ops->set(t->h, fresh, it->id, it->value)) < 0) {
			rv->ops->drop(fresh);
			return rc;
		}
	}
	rv->ops->drop(rv->draft);
	rv->draft = fresh;
	return rv->ops->save(t->h, rv->draft);
}

static void record_view_saved(struct tui *t, struct record_view *rv)
{
	char key[sizeof rv->orig], name[sizeof key + 40];

	snprintf(key, sizeof key, "%s", rv->ops->get(rv->draft, rv->ops->key_field));
	record_view_name(rv, name, sizeof name, key, 0);
	rv->dirty = 0;
	tui_status(t, 0, "Saved %s.", name);
	rv->zone = RV_ZONE_LIST;
	record_view_list_again(t, rv, key);
	record_view_load_draft(t, rv);
	tui_reload(t);
}

/* Ask what to do when the record changed elsewhere since it was loaded: the result of saving
 * over it (0 or a negative code), 1 when theirs was reloaded, 2 to keep editing. */
static int record_view_conflict(struct tui *t, struct record_view *rv)
{
	static const char *const buttons[] = {"&Overwrite with mine", "&Reload theirs", "&Keep editing", NULL};
	char name[sizeof rv->orig + 40], line[sizeof name + 80];
	const char *lines[] = {line, "Your edits are kept until you choose.", NULL};

	record_view_name(rv, name, sizeof name, rv->orig, 1);
	snprintf(line, sizeof line, "%s was changed by another program since you opened it.", name);
	switch (widget_dialog(t, "Changed elsewhere", lines, buttons, 2)) {
	case 0:
		return record_view_overwrite(t, rv);
	case 1:
		rv->dirty = 0;
		record_view_reload(t, rv);
		record_view_name(rv, name, sizeof name, rv->orig, 0);
		tui_status(t, 0, "Reloaded %s; your edits were dropped.", name);
		return 1;
	default:
		tui_status(t, 0, "Still editing; OK saves over the other change only if you choose Overwrite.");
		return 2;
	}
}

/* OK with nothing changed saves nothing, and says so; on a box, Enter is OK and Space ticks it. */
static void record_view_say_unchanged(struct tui *t, struct record_view *rv)
{
	char name[sizeof rv->orig + 40];
	int on_box = rv->zone == RV_ZONE_FORM && rv->form.focus >= 0 && rv->form.focus < rv->form.count &&
		     rv->form.items[rv->form.focus].kind == FORM_BOOL;

	record_view_name(rv, name, sizeof name, rv->orig, 0);
	tui_status(t, 0, "Nothing to save: %s is unchanged.%s", name, on_box ? " Space ticks or clears the box." : "");
}

/* The draft's values on a new record: every field that has one, and a password typed here (a
 * stored one stays with the removed record, for undo). NULL with the handle's error set. */
static void *record_view_copy_as_new(struct tui *t, struct record_view *rv)
{
	void *fresh = rv->ops->make();

	if (fresh == NULL) {
		tui_status(t, 1, "out of memory");
		return NULL;
	}
	for (int i = 0; i < rv->form.count; i++) {
		const struct form_item *it = &rv->form.items[i];
		const char *value = it->id >= 0 ? rv->ops->get(rv->draft, it->id) : it->changed ? it->value : "";
		if (value[0] && rv->ops->set(t->h, fresh, it->id, value) < 0) {
			rv->ops->drop(fresh);
			record_view_show_failure(t, rv);
			return NULL;
		}
	}
	return fresh;
}

/* The record was removed by another program while edited: saving over it cannot work. Offer to
 * add the draft as a new record, or to drop it. 0 when saved as new, 1 when discarded, 2 to keep
 * editing, or a negative code when the new record could not be saved. */
static int record_view_deleted(struct tui *t, struct record_view *rv)
{
	static const char *const buttons[] = {"&Save as New", "&Discard", NULL};
	char name[sizeof rv->orig + 40], line[sizeof name + 80];
	const char *lines[] = {line, "Save as New adds it again with the values in the form.", NULL};
	void *fresh;

	record_view_name(rv, name, sizeof name, rv->orig, 1);
	snprintf(line, sizeof line, "%s was removed by another program.", name);
	switch (widget_dialog(t, "Removed elsewhere", lines, buttons, 0)) {
	case 0:
		if ((fresh = record_view_copy_as_new(t, rv)) == NULL)
			return -1;
		rv->ops->drop(rv->draft);
		rv->draft = fresh;
		rv->orig[0] = '\0';
		rv->adding = 1;
		rv->sel = rv->n; /* the new row, below the saved ones, until it is saved */
		return rv->ops->save(t->h, rv->draft);
	case 1:
		rv->dirty = 0;
		rv->zone = RV_ZONE_LIST;
		record_view_reload(t, rv);
		tui_status(t, 0, "%s Your edits were discarded.", line);
		return 1;
	default:
		tui_status(t, 0, "Still editing; OK offers Save as New again.");
		return 2;
	}
}

/* Whether the record the draft was loaded as is gone (removed by another program). */
static int record_view_gone(struct tui *t, struct record_view *rv)
{
	void *check = NULL;
	int rc;

	if (!rv->orig[0])
		return 0;
	rc = rv->ops->load(t->h, rv->orig, &check);
	rv->ops->drop(check);
	return rc == OUTBOX_ENOTFOUND;
}

/* OK: apply the draft in one transaction. Returns 0 when saved (or nothing to save). */
int record_view_ok(struct tui *t, struct record_view *rv)
{
	int rc;

	if (rv->draft == NULL) {
		tui_status(t, 1, "Nothing to save: there is no %s yet; + adds one.", rv->ops->noun);
		return 0;
	}
	record_view_apply_focused(t, rv);
	for (int i = 0; i < rv->form.count; i++)
		record_view_apply_item(t, rv, &rv->form.items[i]);
	for (int i = 0; i < rv->form.count; i++)
		if (rv->form.items[i].error[0]) {
			record_view_focus_item(rv, &rv->form.items[i]);
			tui_status(t, 1, "Fix %s first: %s", rv->form.items[i].label, rv->form.items[i].error);
			return -1;
		}
	if (!rv->dirty) {
		record_view_say_unchanged(t, rv);
		return 0;
	}
	if (rv->ops->confirm_save && (rc = rv->ops->confirm_save(t, rv)) != 0)
		return rc > 0 ? 0 : -1;
	rc = rv->ops->save(t->h, rv->draft);
	if (rc == OUTBOX_ECONFLICT && record_view_gone(t, rv)) {
		/* Past this only after Save as New: its save's result is handled below. */
		rc = record_view_deleted(t, rv);
		if (rc > 0)
			return rc == 1 ? 0 : -1;
	} else if (rc == OUTBOX_ECONFLICT) {
		/* Past this only when the user chose Overwrite: its save's result is handled below. */
		rc = record_view_conflict(t, rv);
		if (rc > 0)
			return rc == 1 ? 0 : -1;
	}
	if (rc < 0) {
		record_view_show_failure(t, rv);
		return -1;
	}
	record_view_saved(t, rv);
	return 0;
}

void record_view_cancel(struct tui *t, struct record_view *rv)
{
	if (!rv->dirty && rv->zone == RV_ZONE_LIST)
		return;
	rv->zone = RV_ZONE_LIST;
	if (rv->dirty)
		tui_status(t, 0, "Changes cancelled; nothing was saved.");
	record_view_list_again(t, rv, rv->orig[0] ? rv->orig : NULL);
	record_view_load_draft(t, rv);
}

/* Before the view is left: Save, Discard or Keep editing. 0 when it may be left. */
int record_view_leave(struct tui *t, struct record_view *rv)
{
	static const char *const buttons[] = {"&Save", "&Discard", "&Keep editing", NULL};
	char line[sizeof rv->orig + 80];
	const char *lines[] = {line, NULL};

	record_view_apply_focused(t, rv);
	if (!rv->dirty)
		return 0;
	rv->ops->ask_save(rv, line, sizeof line);
	switch (widget_dialog(t, "Unsaved changes", lines, buttons, 0)) {
	case 0:
		return record_view_ok(t, rv);
	case 1:
		record_view_cancel(t, rv);
		return 0;
	default:
		return -1;
	}
}

void record_view_select(struct tui *t, struct record_view *rv, size_t sel)
{
	char name[sizeof rv->orig + 40];

	if (sel == rv->sel || rv->n == 0)
		return;
	if (rv->dirty) {
		rv->ops->edited_name(rv, name, sizeof name);
		tui_status(t, 1, "Unsaved changes to %s: OK (Enter) saves them, Esc cancels.", name);
		return;
	}
	rv->sel = sel < rv->n ? sel : rv->n - 1;
	record_view_load_draft(t, rv);
}

void *record_view_new_draft(struct tui *t, struct record_view *rv)
{
	rv->ops->drop(rv->draft);
	if ((rv->draft = rv->ops->make()) == NULL) {
		record_view_load_draft(t, rv);
		tui_status(t, 1, "out of memory");
		return NULL;
	}
	return rv->draft;
}

void record_view_edit_new(struct record_view *rv)
{
	rv->orig[0] = '\0';
	rv->adding = 1;
	rv->sel = rv->n; /* the new row, below the saved ones */
	rv->dirty = 1;
	record_view_fill_form(rv, 0);
	rv->zone = RV_ZONE_FORM;
	rv->form.focus = form_first_visible(&rv->form, 0, 1);
}

const void *record_view_remove_start(struct tui *t, struct record_view *rv)
{
	if (rv->adding || (rv->sel >= rv->n && rv->ops->none_to_remove == NULL)) {
		record_view_cancel(t, rv);
		return NULL;
	}
	if (rv->sel >= rv->n) {
		tui_status(t, 1, "%s", rv->ops->none_to_remove);
		return NULL;
	}
	/* Saving may have moved the selection; whatever is selected now is what the dialog names. */
	if (record_view_leave(t, rv) < 0 || rv->sel >= rv->n)
		return NULL;
	return record_view_at(rv, rv->sel);
}

void record_view_removed(struct tui *t, struct record_view *rv)
{
	rv->zone = RV_ZONE_LIST;
	tui_reload(t);
}

void record_view_undo(struct tui *t, struct record_view *rv)
{
	if (record_view_leave(t, rv) < 0)
		return;
	tui_undo(t);
}

void record_view_changed(struct tui *t, struct record_view *rv, struct form_item *it)
{
	rv->dirty = 1;
	if (it->kind == FORM_CHOICE || it->kind == FORM_BOOL)
		record_view_apply_item(t, rv, it);
}

int record_view_key(struct tui *t, struct record_view *rv, int key, int ok_button, int nbuttons)
{
	size_t last = rv->n ? rv->n - 1 : 0;

	/* Esc with nothing to cancel is left to the global keys. */
	if (key == TK_ESC) {
		if (!rv->dirty && rv->zone == RV_ZONE_LIST)
			return 0;
		record_view_cancel(t, rv);
		return 1;
	}
	switch (rv->zone) {
	case RV_ZONE_LIST:
		switch (key) {
		case TK(KEY_UP): record_view_select(t, rv, rv->sel > 0 ? rv->sel - 1 : 0); return 1;
		case TK(KEY_DOWN): record_view_select(t, rv, rv->sel + 1); return 1;
		case TK(KEY_HOME): record_view_select(t, rv, 0); return 1;
		case TK(KEY_END): record_view_select(t, rv, last); return 1;
		}
		return 0;
	case RV_ZONE_FORM:
		if (key == TK_TAB || key == TK(KEY_DOWN)) {
			record_view_apply_focused(t, rv);
			if (!form_move(&rv->form, 1)) {
				rv->zone = RV_ZONE_BUTTONS;
				rv->button = ok_button;
			}
			return 1;
		}
		if (key == TK(KEY_BTAB) || key == TK(KEY_UP)) {
			record_view_apply_focused(t, rv);
			if (!form_move(&rv->form, -1))
				rv->zone = RV_ZONE_LIST;
			return 1;
		}
		return 0;
	default:
		switch (key) {
		case TK(KEY_LEFT): rv->button = rv->button > 0 ? rv->button - 1 : 0; return 1;
		case TK(KEY_RIGHT): rv->button = rv->button + 1 < nbuttons ? rv->button + 1 : nbuttons - 1; return 1;
		case TK_TAB:
			if (++rv->button >= nbuttons)
				rv->zone = RV_ZONE_LIST;
			return 1;
		case TK(KEY_BTAB):
			if (--rv->button < 0) {
				/* Back into the form, unless there is none to show. */
				rv->zone = rv->draft ? RV_ZONE_FORM : RV_ZONE_LIST;
				rv->form.focus = form_first_visible(&rv->form, rv->form.count - 1, -1);
			}
			return 1;
		}
		return 0;
	}
}

/* Rows the form would show without scrolling: its visible items. */
static int record_view_form_rows(const struct record_view *rv)
{
	int n = 0;

	for (int i = 0; rv->draft && i < rv->form.count; i++)
		n += rv->form.items[i].visible;
	return n;
}

void record_view_draw_list_top(struct tui *t, struct record_view *rv, size_t total, int button_rows,
			       const struct layout_cols *c, struct layout_page *p)
{
	layout_page(t, total > 0 ? (int)total : 1, record_view_form_rows(rv), button_rows, p);
	layout_heads(p->head_y, 2, c);
	layout_scroll(&rv->scroll, rv->sel, total, p->list_h);
}

void record_view_draw_title(struct tui *t, const struct layout_page *p, const char *title, int end)
{
	attron(screen_attr(TS_TITLE));
	widget_text(p->title_y, 0, t->cols, "");
	if (end > 1)
		layout_cell(p->title_y, 0, end - 1, title);
	attroff(screen_attr(TS_TITLE));
}

void record_view_draw_form(struct tui *t, struct record_view *rv, const struct layout_page *p, int tag)
{
	if (rv->draft) {
		if (rv->zone != RV_ZONE_FORM)
			rv->form.focus = -1;
		form_draw(t, &rv->form, p->form_y, p->form_h, tag);
	}
	if (rv->zone == RV_ZONE_FORM && rv->form.focus >= 0)
		t->hint = form_hint(&rv->form, t->hint_buf, sizeof t->hint_buf);
}
