/* signin_view.c: "Sign In..." of an OAuth server: the library's sign-in in a worker, and a dialog
 * with what to do (the code and where, or the browser's page), the time left, the outcome. */
#include <curses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

enum signin_shown { SHOWN_NOTHING, SHOWN_DEVICE, SHOWN_BROWSER };

/* What the sign-in's worker and its dialog share (under job.lock). */
struct signin_job {
	struct worker_job job;
	int cancelled; /* the dialog was closed: the next progress call ends the sign-in */
	enum signin_shown shown;
	char uri[512], code[64], complete[1024];
	char *url; /* the browser grant's page, often longer than a screen line */
	int browser_started;
	long long left, left_at_ms; /* seconds left at the last report, and when it came */
	long long expires_at;
	char *warning; /* a sign-out whose revocation failed */
	/* The worker's alone. */
	int sign_out;
	char *name;
};

static long long signin_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void signin_job_destroy(struct worker_job *job)
{
	struct signin_job *j = (struct signin_job *)job;

	free(j->url);
	free(j->warning);
	free(j->name);
	free(j);
}

/* The library's events, on the worker thread: copy, and never touch curses here. */
static void signin_on_device(void *ctx, const char *uri, const char *code, const char *complete)
{
	struct signin_job *j = ctx;

	pthread_mutex_lock(&j->job.lock);
	snprintf(j->uri, sizeof j->uri, "%s", uri ? uri : "");
	snprintf(j->code, sizeof j->code, "%s", code ? code : "");
	snprintf(j->complete, sizeof j->complete, "%s", complete ? complete : "");
	j->shown = SHOWN_DEVICE;
	pthread_mutex_unlock(&j->job.lock);
}

static void signin_on_browser(void *ctx, const char *url)
{
	struct signin_job *j = ctx;
	char *copy = strdup(url);
	int cancelled, started = 0;

	pthread_mutex_lock(&j->job.lock);
	free(j->url);
	j->url = copy;
	j->shown = SHOWN_BROWSER;
	cancelled = j->cancelled;
	pthread_mutex_unlock(&j->job.lock);
	if (!cancelled)
		started = outbox_browser_open(url);
	pthread_mutex_lock(&j->job.lock);
	j->browser_started = started;
	pthread_mutex_unlock(&j->job.lock);
}

static int signin_on_progress(void *ctx, long long seconds_left)
{
	struct signin_job *j = ctx;
	int cancelled;

	pthread_mutex_lock(&j->job.lock);
	j->left = seconds_left;
	j->left_at_ms = signin_now_ms();
	cancelled = j->cancelled;
	pthread_mutex_unlock(&j->job.lock);
	return cancelled;
}

static int signin_job_run(outbox *h, struct worker_job *job)
{
	struct signin_job *j = (struct signin_job *)job;
	outbox_signin_events ev = {.device_code = signin_on_device, .browser_url = signin_on_browser,
				   .progress = signin_on_progress, .ctx = j};
	long long until = 0;
	char *warning = NULL;
	int rc;

	rc = j->sign_out ? outbox_server_logout(h, j->name, &warning)
			 : outbox_server_login(h, j->name, OUTBOX_SIGNIN_PREFERRED, &ev, &until);
	pthread_mutex_lock(&j->job.lock);
	j->expires_at = until;
	j->warning = warning;
	pthread_mutex_unlock(&j->job.lock);
	return rc;
}

static struct signin_job *signin_start(struct tui *t, const char *name, int sign_out)
{
	struct signin_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->job.run = signin_job_run;
	j->job.destroy = signin_job_destroy;
	j->sign_out = sign_out;
	if ((j->name = strdup(name)) == NULL) {
		free(j);
		return NULL;
	}
	return worker_job_start(t, &j->job) == 0 ? j : NULL;
}

/* A local time as the sign-in state says it: "14:05" today, else with its date. */
static void signin_time(long long at, char *buf, size_t size)
{
	time_t when = (time_t)at, now = time(NULL);
	struct tm tw, tn;

	if (localtime_r(&when, &tw) == NULL || localtime_r(&now, &tn) == NULL ||
	    strftime(buf, size, tw.tm_yday == tn.tm_yday && tw.tm_year == tn.tm_year ? "%H:%M" : "%Y-%m-%d %H:%M",
		     &tw) == 0)
		snprintf(buf, size, "%lld", at);
}

/* Short words for beside the button, from the library's one reading of the sign-in (the one
 * `server show` and `server check` word in full). */
void signin_state_words(struct tui *t, const outbox_server *s, char *buf, size_t size)
{
	outbox_signin in;
	char when[40];

	if (outbox_server_signin(t->h, s, &in) < 0)
		snprintf(buf, size, "Sign-in state unknown: %s", outbox_errdetail(t->h));
	else if (!in.signed_in)
		snprintf(buf, size, "Not signed in");
	else if (in.user_changed)
		snprintf(buf, size, "Signed in as %s, not %s: sign in again", in.user, in.user_now);
	else if (in.expired && !in.refresh_possible)
		snprintf(buf, size, "Signed in (token expired and cannot be renewed: sign in again)");
	else if (in.expired)
		snprintf(buf, size, "Signed in (token expired; renews on next send)");
	else {
		signin_time(in.expires_at, when, sizeof when);
		snprintf(buf, size, "Signed in (token valid until %s)", when);
	}
}

/* What one frame shows: a snapshot taken under the lock, drawn without it. */
struct signin_state {
	struct tui *t;
	char name[256], user[320];
	int sign_out;
	enum signin_shown shown;
	char uri[512], code[64], complete[1024];
	char url[4096];
	int browser_started;
	long long left, left_at_ms;
	int done, rc;
	long long expires_at;
	char errmsg[600], warning[600];
};

static void signin_snapshot(struct signin_job *j, struct signin_state *c)
{
	pthread_mutex_lock(&j->job.lock);
	c->shown = j->shown;
	memcpy(c->uri, j->uri, sizeof c->uri);
	memcpy(c->code, j->code, sizeof c->code);
	memcpy(c->complete, j->complete, sizeof c->complete);
	snprintf(c->url, sizeof c->url, "%s", j->url ? j->url : "");
	c->browser_started = j->browser_started;
	c->left = j->left;
	c->left_at_ms = j->left_at_ms;
	c->done = j->job.done;
	c->rc = j->job.rc;
	c->expires_at = j->expires_at;
	snprintf(c->errmsg, sizeof c->errmsg, "%s", j->job.errmsg);
	snprintf(c->warning, sizeof c->warning, "%s", j->warning ? j->warning : "");
	pthread_mutex_unlock(&j->job.lock);
}

/* Write `text` from row y on, `width` columns a row, breaking at a space where there is one (an
 * address has none and is cut where the row ends, so all of it shows); returns the next row. */
static int signin_wrap(int y, int x, int width, int last_row, const char *text)
{
	const char *p = text;

	while (*p && y <= last_row) {
		const char *cut = widget_skip(p, (size_t)width), *q;
		char row[1200];
		if (*cut) {
			for (q = cut; q > p && *q != ' '; q--)
				;
			if (q > p)
				cut = q;
		}
		snprintf(row, sizeof row, "%.*s", (int)(cut - p), p);
		widget_text(y++, x, width, row);
		for (p = cut; *p == ' '; p++)
			;
	}
	return y;
}

static void signin_draw_waiting(struct signin_state *c, int *row, int x, int w, int last)
{
	char line[200];
	int y = *row;

	if (c->shown == SHOWN_DEVICE) {
		widget_text(y++, x, w, "Go to");
		attron(A_BOLD);
		y = signin_wrap(y, x + 2, w - 2, last, c->uri);
		attroff(A_BOLD);
		widget_text(y++, x, w, "and enter the code");
		y++;
		/* The code, big and plain: bold, reversed, with room around it, to copy by eye. */
		snprintf(line, sizeof line, "   %s   ", c->code);
		attron(A_BOLD | A_REVERSE);
		if ((int)strlen(line) < w)
			mvaddstr(y, x + (w - (int)strlen(line)) / 2, line);
		else
			widget_text(y, x, w, c->code);
		attroff(A_BOLD | A_REVERSE);
		y += 2;
		if (c->complete[0] && y + 1 < last) {
			widget_text(y++, x, w, "(or open this address, which carries the code:)");
			y = signin_wrap(y, x + 2, w - 2, last, c->complete);
		}
	} else if (c->shown == SHOWN_BROWSER) {
		widget_text(y++, x, w, c->browser_started ? "Your browser was opened at this address; sign in there:"
							  : "Open this address in a browser on this machine and sign in:");
		attron(A_BOLD);
		y = signin_wrap(y, x + 2, w - 2, last, c->url);
		attroff(A_BOLD);
	} else {
		widget_text(y++, x, w, "Asking the provider to start the sign-in...");
	}
	*row = y;
}

static void signin_draw(struct signin_state *c)
{
	struct tui *t = c->t;
	int w = t->cols - 4, h = t->rows - 2, y = 1, x = 2, row, last = y + h - 5;
	char title[300], line[1200], when[40];
	long long left;

	tui_draw(t);
	tui_top_keys(t, "Esc: close");
	t->nhits = 0;
	snprintf(title, sizeof title, "%s: %s", c->sign_out ? "Sign out" : "Sign in", c->name);
	widget_box(y, x, h, w, title);
	row = y + 2;
	if (c->sign_out)
		widget_text(row++, x + 2, w - 4, "Forgetting the tokens, and revoking them where the provider can...");
	else
		signin_draw_waiting(c, &row, x + 2, w - 4, last);
	if (c->done) {
		if (c->rc < 0)
			snprintf(line, sizeof line, "%s failed: %s", c->sign_out ? "Sign-out" : "Sign-in", c->errmsg);
		else if (c->sign_out)
			snprintf(line, sizeof line, "Signed out of %s; its tokens are deleted.%s%s", c->name,
				 c->warning[0] ? " The provider did not revoke them: " : "", c->warning);
		else {
			signin_time(c->expires_at, when, sizeof when);
			snprintf(line, sizeof line, "Signed in to %s as %s; the token is valid until %s.", c->name,
				 c->user, when);
		}
		attron(screen_attr(c->rc < 0 ? TS_ERROR : TS_OK));
		signin_wrap(row + 1 < last ? row + 1 : last, x + 2, w - 4, y + h - 3, line);
		attroff(screen_attr(c->rc < 0 ? TS_ERROR : TS_OK));
		widget_button(t, y + h - 2, x + w / 2 - 5, "Close", 'C', 1, 1, 0);
	} else {
		left = c->left - (c->left_at_ms ? (signin_now_ms() - c->left_at_ms) / 1000 : 0);
		if (c->shown != SHOWN_NOTHING && c->left_at_ms && left >= 0)
			snprintf(line, sizeof line, "Waiting for you to sign in: %lld:%02lld left. Esc cancels.",
				 left / 60, left % 60);
		else
			snprintf(line, sizeof line, "Working... Esc cancels.");
		widget_text(y + h - 3, x + 2, w - 4, line);
		widget_button(t, y + h - 2, x + w / 2 - 6, "Cancel", 'n', 1, 1, 0);
	}
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

/* The dialog of one job until Close or Esc; 1 when it succeeded, 0 when it failed, -1 cancelled. */
static int signin_dialog(struct tui *t, struct signin_job *j, struct signin_state *c)
{
	int key, arg, outcome = -1;

	for (;;) {
		signin_snapshot(j, c);
		signin_draw(c);
		/* While it runs, wake up each quarter second: the time left counts down. */
		key = screen_getkey(t, c->done ? -1 : 250);
		if (key == TK_NONE || key == TK(KEY_RESIZE))
			continue;
		if (key == TK(KEY_MOUSE) && tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) != 1)
			continue;
		if (c->done) {
			if (key == TK_ESC || key == TK_ENTER || key == ' ' || key == 'c' || key == 'C' ||
			    key == TK_ALT('c') || key == TK_ALT('C') || key == TK(KEY_MOUSE)) {
				outcome = c->rc == 0;
				break;
			}
			continue;
		}
		if (key == TK_ESC || key == TK(KEY_MOUSE) || key == TK_ALT('n') || key == TK_ALT('N')) {
			pthread_mutex_lock(&j->job.lock);
			j->cancelled = 1;
			pthread_mutex_unlock(&j->job.lock);
			break;
		}
		/* Other keys while it runs were meant for the dialog, not for the view below. */
	}
	worker_job_release(&j->job);
	return outcome;
}

int signin_run(struct tui *t, const char *name, const char *user)
{
	struct signin_state *c = calloc(1, sizeof *c);
	struct signin_job *j;
	int outcome;

	if (c == NULL || (j = signin_start(t, name, 0)) == NULL) {
		free(c);
		tui_status(t, 1, "Sign-in could not start: out of memory or threads");
		return 0;
	}
	c->t = t;
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->user, sizeof c->user, "%s", user);
	outcome = signin_dialog(t, j, c);
	if (outcome < 0)
		tui_status(t, 0, "Sign-in to \"%s\" cancelled; nothing was stored.", name);
	else if (outcome)
		tui_status(t, 0, "Signed in to \"%s\" as %s.", name, user);
	else
		tui_status(t, 1, "Sign-in to \"%s\" failed: %s", name, c->errmsg);
	free(c);
	return outcome > 0;
}

int signin_sign_out(struct tui *t, const char *name)
{
	struct signin_state *c = calloc(1, sizeof *c);
	struct signin_job *j;
	int outcome;

	if (c == NULL || (j = signin_start(t, name, 1)) == NULL) {
		free(c);
		tui_status(t, 1, "Sign-out could not start: out of memory or threads");
		return 0;
	}
	c->t = t;
	c->sign_out = 1;
	snprintf(c->name, sizeof c->name, "%s", name);
	outcome = signin_dialog(t, j, c);
	if (outcome < 0)
		tui_status(t, 0, "Closed; the sign-out of \"%s\" goes on by itself.", name);
	else if (outcome)
		tui_status(t, 0, "Signed out of \"%s\"; its tokens are deleted.", name);
	else
		tui_status(t, 1, "Sign-out of \"%s\" failed: %s", name, c->errmsg);
	free(c);
	return outcome > 0;
}
