/* server_removal.c: Remove in the Servers view: the dialog that names every change the library's
 * removal plan will make (accounts moving, the default moving, fallback lists shrinking). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

/* "a", "a and b", "a, b and c": for a sentence that names every account. */
static void server_removal_join(const char *const *items, char *buf, size_t size)
{
	size_t n = 0, len = 0;

	buf[0] = '\0';
	while (items[n])
		n++;
	for (size_t i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", items[i]);
		len += w > 0 ? (size_t)w : 0;
	}
}

/* The dialog's lines for a removal plan: every change the library will make, in its words. */
#define SERVER_REMOVAL_LINES 12
static int server_removal_lines(const outbox_server_removal *plan, const char *target, char l[][640])
{
	const char *const *moved = outbox_server_removal_moved(plan), *next, *const *before, *const *after, *acc;
	char names[300], *was, *now;
	int n = 0;

	if (*moved) {
		server_removal_join(moved, names, sizeof names);
		snprintf(l[n++], 640, "%s %s %s to server \"%s\".", moved[1] ? "Accounts" : "Account", names,
			 moved[1] ? "move" : "moves", target);
	}
	if (outbox_server_removal_default(plan, &next)) {
		if (next)
			snprintf(l[n++], 640, "The default server becomes \"%s\".", next);
		else
			snprintf(l[n++], 640, "There will be no default server.");
	}
	for (size_t i = 0; n < SERVER_REMOVAL_LINES - 1 &&
			   (acc = outbox_server_removal_fallback(plan, i, &before, &after)) != NULL; i++) {
		was = tui_join(before);
		now = tui_join(after);
		snprintf(l[n++], 640, "Fallbacks of %s: %s -> %s", acc, was ? was : "", now && *now ? now : "(none)");
		free(was);
		free(now);
	}
	return n;
}

/* The status after the removal: what was done, in the past tense, from the same plan. */
static void server_removal_done(const outbox_server_removal *plan, const char *name, const char *target, char *buf,
				size_t size)
{
	char *moved = tui_join(outbox_server_removal_moved(plan));
	const char *next;
	size_t len, shrunk = outbox_server_removal_fallback_count(plan);

	snprintf(buf, size, "Removed server \"%s\"", name);
	len = strlen(buf);
	if (moved && *moved)
		len += (size_t)snprintf(buf + len, size - len, "; moved %s to \"%s\"", moved, target);
	if (len < size && outbox_server_removal_default(plan, &next))
		len += next ? (size_t)snprintf(buf + len, size - len, "; \"%s\" is the default now", next)
			    : (size_t)snprintf(buf + len, size - len, "; there is no default server now");
	if (len < size && shrunk)
		len += (size_t)snprintf(buf + len, size - len, "; %zu fallback list%s shortened", shrunk,
					shrunk == 1 ? "" : "s");
	if (len < size)
		snprintf(buf + len, size - len, ". Press u to undo.");
	free(moved);
}

void server_removal_run(struct tui *t, struct record_view *rv)
{
	static const char *const plain[] = {"&Remove", "&Cancel", NULL};
	static const char *const moving[] = {"&Remove and move", "Choose &server...", "&Cancel", NULL};
	static const char *const stuck[] = {"&Cancel", NULL};
	const outbox_server *s;
	outbox_server_removal *plan = NULL;
	char name[256], target[256] = "", l1[400], changes[SERVER_REMOVAL_LINES][640], done[800];
	int choice, nchanges;

	if ((s = record_view_remove_start(t, rv)) == NULL)
		return;
	snprintf(name, sizeof name, "%s", outbox_server_get(s, OUTBOX_SERVER_NAME));
	/* Whether a server must take over (its accounts, or the default mark) is the library's call. */
	if (outbox_server_remove_plan(t->h, name, NULL, &plan) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		return;
	}
	if (outbox_server_removal_needs_target(plan))
		for (size_t i = 0; i < rv->n; i++)
			if (i != rv->sel) {
				snprintf(target, sizeof target, "%s", record_view_key_at(rv, i));
				break;
			}
	for (;;) {
		const char *lines[SERVER_REMOVAL_LINES + 3] = {l1};
		const char *const *buttons = plain;
		int k = 1;
		if (target[0]) {
			outbox_server_removal_free(plan);
			plan = NULL;
			if (outbox_server_remove_plan(t->h, name, target, &plan) < 0) {
				tui_status(t, 1, "%s", outbox_errmsg(t->h));
				return;
			}
		}
		snprintf(l1, sizeof l1, "Remove server \"%s\"?", name);
		if (outbox_server_removal_needs_target(plan) && !target[0]) {
			/* Nothing to offer but Cancel, and no talk of undo: nothing will happen. */
			char *used = tui_join(outbox_server_removal_moved(plan));
			snprintf(l1, sizeof l1, "Server \"%s\" cannot be removed.", name);
			snprintf(changes[0], sizeof changes[0], "It is the outgoing server of: %s.", used ? used : "");
			free(used);
			lines[k++] = changes[0];
			lines[k++] = "There is no other server to move them to: add one first.";
			buttons = stuck;
		} else {
			nchanges = server_removal_lines(plan, target, changes);
			for (int i = 0; i < nchanges; i++)
				lines[k++] = changes[i];
			lines[k++] = "Press u afterwards to undo.";
			buttons = outbox_server_removal_needs_target(plan) ? moving : plain;
		}
		choice = widget_dialog(t, buttons == stuck ? "Cannot remove server" : "Remove server", lines, buttons, 0);
		if (buttons == moving && choice == 1) {
			const char **others = calloc(rv->n + 1, sizeof *others);
			size_t m = 0;
			int pick;
			for (size_t i = 0; others && i < rv->n; i++)
				if (i != rv->sel)
					others[m++] = record_view_key_at(rv, i);
			pick = others ? widget_dropdown(t, t->rows / 2, t->cols / 2 - 10, others, 0) : -1;
			if (pick >= 0)
				snprintf(target, sizeof target, "%s", others[pick]);
			free(others);
			continue;
		}
		break;
	}
	if (choice != 0 || (outbox_server_removal_needs_target(plan) && !target[0])) {
		if (outbox_server_removal_needs_target(plan) && !target[0])
			tui_status(t, 1, "Nothing was removed: \"%s\" is the only server its accounts can use.", name);
		else
			tui_status(t, 0, "Nothing was removed.");
		outbox_server_removal_free(plan);
		return;
	}
	if (outbox_server_remove(t->h, name, target[0] ? target : NULL, 0) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	} else {
		server_removal_done(plan, name, target, done, sizeof done);
		tui_status(t, 0, "%s", done);
	}
	outbox_server_removal_free(plan);
	record_view_removed(t, rv);
}

/* Check Connection's Apply: a field of the fix goes into the form and the draft as if picked
 * there, so the form shows it changed and OK saves it. */
