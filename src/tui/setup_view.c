/* setup_view.c: "Add Account...": the discovery in a worker with its progress as it happens, then
 * what it found shown before anything is saved (the input page is setup_input.c). */
#include <curses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox/setup.h"
#include "setup_view.h"


/* What the discovery's worker and its dialog share (under job.lock). */
struct setup_job {
	struct worker_job job;
	/* The progress: the first line (what is looked up) kept, the oldest after it dropped when full. */
	char lines[SETUP_LINES][200];
	int nlines;
	outbox_setup_result *result; /* the dialog's once job.done is set */
	int cancelled;               /* the dialog has closed: the worker's progress stops the run */
	/* The worker's alone. */
	char *address, *password, *client_id;
	char *ispdb, *resolver, *tls_ca;
};

/* The sites with their own name server, ISPDB or CA (and the tests) set these (see outbox(1)):
 * read once when the dialog opens, for every run of it and for what it saves. */
struct setup_site {
	char *ispdb, *resolver, *tls_ca;
};

static char *setup_dup_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? strdup(v) : NULL;
}

static void setup_site_free(struct setup_site *site)
{
	free(site->ispdb);
	free(site->resolver);
	free(site->tls_ca);
}

/* The worker keeps copies of its own: a cancelled run outlives the dialog. */
static char *setup_dup(const char *v)
{
	return v ? strdup(v) : NULL;
}

static void setup_job_destroy(struct worker_job *job)
{
	struct setup_job *j = (struct setup_job *)job;

	outbox_setup_result_free(j->result);
	free(j->address);
	if (j->password)
		memset(j->password, 0, strlen(j->password));
	free(j->password);
	free(j->client_id);
	free(j->ispdb);
	free(j->resolver);
	free(j->tls_ca);
	free(j);
}

/* On the worker thread: copy the line (NULL: none, only the question); no curses here. Nonzero
 * once the dialog has closed: the run stops before anything more, the login check above all. */
static int setup_on_progress(void *ctx, const char *what)
{
	struct setup_job *j = ctx;
	int cancelled;

	pthread_mutex_lock(&j->job.lock);
	if (what && j->nlines == SETUP_LINES) {
		memmove(j->lines[1], j->lines[2], sizeof j->lines[0] * (SETUP_LINES - 2));
		j->nlines--;
	}
	if (what) {
		snprintf(j->lines[j->nlines++], sizeof j->lines[0], "%s", what);
		j->job.changes++;
	}
	cancelled = j->cancelled;
	pthread_mutex_unlock(&j->job.lock);
	return cancelled;
}

static int setup_job_run(outbox *h, struct worker_job *job)
{
	struct setup_job *j = (struct setup_job *)job;
	outbox_setup_options o = {.ispdb = j->ispdb, .resolver = j->resolver, .tls_ca = j->tls_ca,
				  .password = j->password, .oauth_client_id = j->client_id};
	outbox_setup_result *r = NULL;
	int rc;

	rc = outbox_setup_discover(h, j->address, &o, setup_on_progress, j, &r);
	pthread_mutex_lock(&j->job.lock);
	j->result = r;
	pthread_mutex_unlock(&j->job.lock);
	return rc;
}

static struct setup_job *setup_start(struct tui *t, const struct setup_input *in, const struct setup_site *site)
{
	struct setup_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->job.run = setup_job_run;
	j->job.destroy = setup_job_destroy;
	j->address = strdup(in->address);
	j->password = *in->password ? strdup(in->password) : NULL;
	j->client_id = *in->client_id ? strdup(in->client_id) : NULL;
	j->ispdb = setup_dup(site->ispdb);
	j->resolver = setup_dup(site->resolver);
	j->tls_ca = setup_dup(site->tls_ca);
	if (j->address == NULL || (*in->password && j->password == NULL) ||
	    (*in->client_id && j->client_id == NULL) || (site->ispdb && j->ispdb == NULL) ||
	    (site->resolver && j->resolver == NULL) || (site->tls_ca && j->tls_ca == NULL)) {
		setup_job_destroy(&j->job);
		return NULL;
	}
	return worker_job_start(t, &j->job) == 0 ? j : NULL;
}


static int setup_snapshot(struct setup_job *j, struct setup_shown *s, unsigned *seen)
{
	int fresh;

	pthread_mutex_lock(&j->job.lock);
	fresh = j->job.changes != *seen;
	if (fresh) {
		*seen = j->job.changes;
		memcpy(s->lines, j->lines, sizeof s->lines);
		s->nlines = j->nlines;
		s->done = j->job.done;
		s->rc = j->job.rc;
		snprintf(s->errmsg, sizeof s->errmsg, "%s", j->job.errmsg);
	}
	pthread_mutex_unlock(&j->job.lock);
	return fresh;
}

/* The outcome's buttons, in the order shown. Back and Sign in with ... return to the input page. */
enum { SETUP_SAVE, SETUP_OAUTH, SETUP_EDIT, SETUP_BACK, SETUP_CANCEL, SETUP_BUTTONS };

static void setup_run_draw(struct tui *t, const char *address, const struct setup_shown *s,
			   const outbox_setup_result *r, const char *oauth, const int *offered, int focus)
{
	static const char mnemonics[SETUP_BUTTONS] = {'S', 'i', 'E', 'B', 'n'};
	int w = t->cols - 4, h = t->rows - 2, y = 1, x = 2, row = y + 1, last = y + h - 3, i, bx;
	char title[400], out[40][SETUP_ROW], sign_in[80];
	const char *labels[SETUP_BUTTONS] = {"Save", sign_in, "Edit manually", "Back", "Cancel"};

	snprintf(sign_in, sizeof sign_in, "Sign in with %s...", oauth ? oauth : "");
	tui_draw(t);
	tui_top_keys(t, "Esc: cancel");
	t->nhits = 0;
	snprintf(title, sizeof title, "Add Account: %s", address);
	widget_box(y, x, h, w, title);
	if (!s->done) {
		for (i = s->nlines > last - row ? s->nlines - (last - row) : 0; i < s->nlines; i++)
			widget_text(row++, x + 2, w - 4, s->lines[i]);
		widget_text(last, x + 2, w - 4, "Looking for your server... no mail is sent. Esc cancels.");
		widget_button(t, y + h - 2, x + w / 2 - 6, "Cancel", 'n', 1, 1, SETUP_CANCEL);
	} else {
		int n = setup_outcome_lines(s, r, oauth, out, 40), need = 0, room;
		/* The progress stays above the outcome, dimmed, in the rows the outcome leaves: its first
		 * line (what was looked up) and the newest ones, which led to the outcome. */
		for (i = 0; i < n; i++)
			need += setup_outcome_wrapped(0, 0, w - 4, last, out[i], 0);
		room = last - row - 1 - need;
		attron(screen_attr(TS_DIM));
		for (i = 0; i < s->nlines && i < room; i++)
			widget_text(row++, x + 2, w - 4, s->lines[i == 0 || s->nlines <= room ? i : s->nlines - room + i]);
		attroff(screen_attr(TS_DIM));
		row++;
		for (i = 0; i < n && row < last; i++) {
			if (i == 0)
				attron(screen_attr(s->rc == 0 ? TS_OK : TS_ERROR));
			/* Each line wraps while that leaves a row for each line after it. */
			row += setup_outcome_wrapped(row, x + 2, w - 4, last - row - (n - i - 1), out[i], 1);
			if (i == 0)
				attroff(screen_attr(s->rc == 0 ? TS_OK : TS_ERROR));
		}
		widget_text(last, x + 2, w - 4, s->rc == 0 ? "Nothing is saved until you press Save." : "Nothing was saved.");
		bx = x + 2;
		for (i = 0; i < SETUP_BUTTONS; i++)
			if (offered[i])
				bx += widget_button(t, y + h - 2, bx, labels[i], mnemonics[i], focus == i, 1, i) + 2;
	}
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

/* Once the run is done: which buttons it offers and which one has the focus. Save only with a
 * server chosen and no sign-in still to set up; Back after a failure, to fix what was typed. */
static int setup_run_offer(const struct setup_shown *s, const outbox_setup_result *r, const char *oauth,
			   int offered[SETUP_BUTTONS])
{
	offered[SETUP_SAVE] = s->rc == 0 && !oauth;
	offered[SETUP_OAUTH] = oauth != NULL;
	offered[SETUP_EDIT] = setup_outcome_best(r) >= 0;
	offered[SETUP_BACK] = s->rc != 0;
	offered[SETUP_CANCEL] = 1;
	if (oauth)
		return SETUP_OAUTH;
	return s->rc == 0 ? SETUP_SAVE : SETUP_CANCEL;
}

/* The button chosen once the run is done (SETUP_*), or SETUP_CANCEL for Esc at any time. */
static int setup_run_dialog(struct tui *t, const struct setup_input *in, struct setup_job *j, struct setup_shown *s,
			    outbox_setup_result **result)
{
	static const int keys[SETUP_BUTTONS] = {'s', 'i', 'e', 'b', 'n'};
	int offered[SETUP_BUTTONS] = {0, 0, 0, 0, 1}, focus = SETUP_CANCEL, key, arg, i;
	const char *oauth = NULL;
	unsigned seen = 0;

	for (;;) {
		if (!s->done && setup_snapshot(j, s, &seen) && s->done) {
			*result = j->result; /* the worker is done with it */
			oauth = setup_outcome_oauth_offer(in, *result);
			focus = setup_run_offer(s, *result, oauth, offered);
		}
		setup_run_draw(t, in->address, s, *result, oauth, offered, focus);
		key = screen_getkey(t, s->done ? -1 : 50);
		if (key == TK_NONE || key == TK(KEY_RESIZE))
			continue;
		if (key == TK(KEY_MOUSE)) {
			if (tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) != 1)
				continue;
			return s->done ? arg : SETUP_CANCEL;
		}
		if (key == TK_ESC || key == TK_ALT('n') || key == TK_ALT('N'))
			return SETUP_CANCEL;
		if (!s->done)
			continue; /* keys while it runs were meant for this dialog, not the view below */
		if (key == TK_ENTER || key == ' ')
			return focus;
		for (i = 0; i < SETUP_BUTTONS; i++)
			if (offered[i] && (key == TK_ALT(keys[i]) || key == TK_ALT(keys[i] - 'a' + 'A')))
				return i;
		if (key == TK_TAB || key == TK(KEY_RIGHT) || key == TK(KEY_BTAB) || key == TK(KEY_LEFT)) {
			int dir = key == TK_TAB || key == TK(KEY_RIGHT) ? 1 : SETUP_BUTTONS - 1;
			for (i = 0; i < SETUP_BUTTONS; i++) {
				focus = (focus + dir) % SETUP_BUTTONS;
				if (offered[focus])
					break;
			}
		}
	}
}

/* What Save and Edit manually store besides the server: one set of options for both. */
static outbox_setup_save_options setup_save_options(const struct setup_input *in, const struct setup_site *site)
{
	outbox_setup_save_options so = {.full_name = in->name, .password = *in->password ? in->password : NULL,
					.oauth_client_id = *in->client_id ? in->client_id : NULL,
					.tls_ca = site->tls_ca};
	return so;
}

/* "Edit manually": the library's drafts for the best candidate, as Save would make them, in the
 * server form to finish. When the save would refuse them, the form still opens with what could
 * be filled in, and the status line says why. */
static void setup_edit(struct tui *t, const struct setup_input *in, const struct setup_site *site,
		       const outbox_setup_result *r)
{
	outbox_setup_save_options so = setup_save_options(in, site);
	outbox_server *draft;
	outbox_account *account;
	char why[600] = "";
	int rc;

	rc = outbox_setup_drafts_for(t->h, r, (size_t)setup_outcome_best(r), &so, &draft, &account);
	outbox_account_free(account); /* the account form after the server's OK makes its own */
	if (rc < 0)
		snprintf(why, sizeof why, "%s", outbox_errmsg(t->h));
	if (draft == NULL) {
		tui_status(t, 1, "Edit manually: %s", why);
		return;
	}
	servers_add_draft(t, t->servers, draft, r->address, in->name);
	if (*why)
		tui_status(t, 1, "Edit manually: %s; change it in the form, then OK.", why);
}

static void setup_save(struct tui *t, const struct setup_input *in, const struct setup_site *site,
		       const outbox_setup_result *r)
{
	static const char *const buttons[] = {"&Sign in", "&Later", NULL};
	outbox_setup_save_options so = setup_save_options(in, site);
	const outbox_setup_candidate *c = &r->candidates[r->chosen];
	char question[400];
	const char *lines[] = {question, "Later: the server's Sign In... button, or outbox server login.", NULL};
	char server[300];

	if (outbox_setup_save(t->h, r, &so, server, sizeof server) < 0) {
		tui_status(t, 1, "Add Account: %s", outbox_errmsg(t->h));
		return;
	}
	tui_reload(t);
	tui_status(t, 0, "Added account %s, sending through the new server \"%s\". Press u to undo.", r->address,
		   server);
	if (!so.oauth_client_id || !setup_outcome_is_oauth(c))
		return;
	/* Saved without a token: the Sign In dialog of the server view gets one now. */
	snprintf(question, sizeof question, "Sign in with %s as %s now?", *c->display_name ? c->display_name : server,
		 r->address);
	if (widget_dialog(t, "Sign in", lines, buttons, 0) == 0)
		signin_run(t, server, r->address);
}

/* Back to the input page after a run, everything typed kept: the field to fix has the focus.
 * Signing in with `oauth` instead of a password asks for the Client ID in its field. */
static void setup_input_again(struct setup_input *in, const outbox_setup_result *r, const char *oauth)
{
	in->error[0] = '\0';
	if (oauth) {
		memset(in->password, 0, sizeof in->password);
		in->cursor[2] = 0;
		in->focus = 3;
		snprintf(in->note, sizeof in->note, "%s signs in with OAuth 2.0: type your app's Client ID (outbox(1), "
			 "OAUTH, says how to get one), then Continue.", oauth);
		return;
	}
	in->focus = r && r->login_checked ? 2 : 0;
	snprintf(in->note, sizeof in->note, "Change what was wrong, then Continue to look again.");
}

void setup_add_account(struct tui *t)
{
	struct setup_input *in = calloc(1, sizeof *in);
	struct setup_shown *s = calloc(1, sizeof *s);
	struct setup_site site = {setup_dup_env("OUTBOX_SETUP_ISPDB"), setup_dup_env("OUTBOX_SETUP_RESOLVER"),
				  setup_dup_env("OUTBOX_SETUP_TLS_CA")};
	outbox_setup_result *r;
	struct setup_job *j;
	int choice;

	if (in == NULL || s == NULL) {
		tui_status(t, 1, "Add Account: out of memory");
		goto out;
	}
	for (;;) {
		if (!setup_input_run(t, in)) {
			tui_status(t, 0, "Add Account cancelled; nothing was saved.");
			break;
		}
		in->note[0] = '\0';
		if ((j = setup_start(t, in, &site)) == NULL) {
			tui_status(t, 1, "Add Account could not start: out of memory or threads");
			break;
		}
		memset(s, 0, sizeof *s);
		r = NULL;
		choice = setup_run_dialog(t, in, j, s, &r);
		pthread_mutex_lock(&j->job.lock);
		j->cancelled = 1; /* closed: whatever the worker is doing, nobody waits for it */
		pthread_mutex_unlock(&j->job.lock);
		if (choice == SETUP_BACK || choice == SETUP_OAUTH) {
			setup_input_again(in, r, choice == SETUP_OAUTH ? setup_outcome_oauth_offer(in, r) : NULL);
			worker_job_release(&j->job);
			continue;
		}
		if (choice == SETUP_SAVE)
			setup_save(t, in, &site, r);
		else if (choice == SETUP_EDIT && setup_outcome_best(r) >= 0)
			setup_edit(t, in, &site, r);
		else
			tui_status(t, 0, "Add Account cancelled; nothing was saved.");
		worker_job_release(&j->job); /* frees the result too, when the worker is done */
		break;
	}
out:
	if (in)
		memset(in->password, 0, sizeof in->password);
	free(in);
	free(s);
	setup_site_free(&site);
}
