/* screen.c: the terminal for `outbox ui`: curses set-up, colours (or none under NO_COLOR), keys
 * and mouse as one int, and putting the terminal back on exit, on Ctrl-C and on a crash. */
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui.h"

static int screen_has_color;
static int screen_attrs[TS_COUNT];

/* What a signal handler needs to restore the terminal, prepared in advance because endwin() is
 * not async-signal-safe: the original terminal modes and the escape sequences that leave the
 * alternate screen, show the cursor, reset attributes and stop mouse reporting. */
static struct termios screen_saved_modes;
static int screen_have_modes;
static char screen_reset_seq[256];
static size_t screen_reset_len;
static volatile sig_atomic_t screen_active;
static struct sigaction screen_old_actions[NSIG];
static const int screen_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE,
				     SIGILL, SIGABRT};

static void screen_append_cap(const char *name)
{
	const char *cap = tigetstr(name);
	size_t len;

	if (cap == NULL || cap == (char *)-1)
		return;
	len = strlen(cap);
	/* A capability with padding or parameters would not be usable raw; these four have none. */
	if (screen_reset_len + len < sizeof screen_reset_seq) {
		memcpy(screen_reset_seq + screen_reset_len, cap, len);
		screen_reset_len += len;
	}
}

static void screen_append(const char *s)
{
	size_t len = strlen(s);

	if (screen_reset_len + len < sizeof screen_reset_seq) {
		memcpy(screen_reset_seq + screen_reset_len, s, len);
		screen_reset_len += len;
	}
}

/* Async-signal-safe: write(2) and tcsetattr(3) only. */
static void screen_restore_raw(void)
{
	ssize_t ignored;

	if (!screen_active)
		return;
	screen_active = 0;
	ignored = write(STDOUT_FILENO, screen_reset_seq, screen_reset_len);
	(void)ignored;
	if (screen_have_modes)
		tcsetattr(STDIN_FILENO, TCSANOW, &screen_saved_modes);
}

static void screen_on_signal(int sig, siginfo_t *info, void *context)
{
	/* A real fault (not one sent with kill) happens again when the handler returns. */
	int fault = (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL) && info &&
		    info->si_code > 0;

	(void)context;
	screen_restore_raw();
	/* Hand the signal to whoever had it before (the default action, or a sanitizer's report):
	 * a fault re-runs the faulting instruction on return, anything else is raised again and
	 * delivered once this handler returns. */
	sigaction(sig, &screen_old_actions[sig], NULL);
	if (!fault)
		raise(sig);
}

/* Sanitizer builds end a process from inside the runtime (no signal, no atexit); where the
 * runtime offers it, have it restore the terminal first. Weak, so other builds need nothing. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void screen_install_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = screen_on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof screen_signals / sizeof screen_signals[0]; i++) {
		int sig = screen_signals[i];
		sigaction(sig, NULL, &screen_old_actions[sig]);
		/* A signal ignored by whoever started us (nohup) stays ignored. */
		if (screen_old_actions[sig].sa_handler != SIG_IGN)
			sigaction(sig, &sa, NULL);
	}
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(screen_restore_raw);
}

static void screen_remove_signals(void)
{
	size_t i;

	for (i = 0; i < sizeof screen_signals / sizeof screen_signals[0]; i++)
		sigaction(screen_signals[i], &screen_old_actions[screen_signals[i]], NULL);
}

static void screen_init_styles(void)
{
	const char *no_color = getenv("NO_COLOR");

	screen_has_color = has_colors() && !(no_color && *no_color);
	/* Without colour every style still reads: reverse for the cursor, bold for titles. */
	screen_attrs[TS_NORMAL] = A_NORMAL;
	screen_attrs[TS_TITLE] = A_BOLD;
	screen_attrs[TS_SELECTED] = A_REVERSE;
	screen_attrs[TS_FIELD] = A_UNDERLINE;
	screen_attrs[TS_FOCUS] = A_REVERSE;
	screen_attrs[TS_ERROR] = A_BOLD;
	screen_attrs[TS_OK] = A_BOLD;
	screen_attrs[TS_DIM] = A_DIM;
	screen_attrs[TS_STATUS] = A_REVERSE;
	if (!screen_has_color)
		return;
	start_color();
	use_default_colors();
	init_pair(1, COLOR_WHITE, COLOR_BLUE);
	init_pair(2, COLOR_BLACK, COLOR_CYAN);
	init_pair(3, COLOR_RED, -1);
	init_pair(4, COLOR_GREEN, -1);
	init_pair(5, COLOR_BLACK, COLOR_YELLOW);
	screen_attrs[TS_TITLE] = COLOR_PAIR(1) | A_BOLD;
	screen_attrs[TS_SELECTED] = COLOR_PAIR(2);
	screen_attrs[TS_FOCUS] = COLOR_PAIR(5);
	screen_attrs[TS_ERROR] = COLOR_PAIR(3) | A_BOLD;
	screen_attrs[TS_OK] = COLOR_PAIR(4) | A_BOLD;
	screen_attrs[TS_STATUS] = COLOR_PAIR(1);
}

int screen_init(void)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return -1;
	screen_have_modes = tcgetattr(STDIN_FILENO, &screen_saved_modes) == 0;
	/* Alt+letter arrives as Esc then the letter; wait only briefly for it. */
	if (getenv("ESCDELAY") == NULL)
		set_escdelay(40);
	/* Ours before initscr(): ncurses installs its own SIGINT/SIGTERM handlers (which exit(1))
	 * only where it finds the default, and we want the signal to end the process as itself. */
	screen_install_signals();
	if (initscr() == NULL) {
		screen_remove_signals();
		return -1;
	}
	screen_reset_len = 0;
	screen_append("\033[?1000l\033[?1002l\033[?1003l\033[?1006l");
	screen_append_cap("sgr0");
	screen_append_cap("cnorm");
	screen_append_cap("rmkx");
	screen_append_cap("rmcup");
	screen_active = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	/* Every button event, releases too (screen_mouse says why); no motion, so no 1003 mode. */
	mousemask(ALL_MOUSE_EVENTS, NULL);
	mouseinterval(0);
	screen_init_styles();
	return 0;
}

void screen_end(void)
{
	if (!screen_active)
		return;
	mousemask(0, NULL);
	endwin();
	screen_active = 0;
	screen_remove_signals();
}

int screen_attr(enum tui_style s)
{
	return screen_attrs[s];
}

int screen_color(void)
{
	return screen_has_color;
}

/* Ctrl-L: paint the whole terminal again from what curses knows is on it, so whatever another
 * program wrote over the UI goes, in every view and dialog alike. */
static void screen_repaint(void)
{
	clearok(curscr, TRUE);
	wrefresh(curscr);
}

/* What a mouse report means: a left press is a click (where, in t), the wheel moves as Up and
 * Down; a release or another button is nothing. Every report is in the mask, so curses hands
 * each one over at once: one it filtered out would make it read on, blocking, for the next key. */
static int screen_mouse(struct tui *t)
{
	MEVENT ev;

	if (getmouse(&ev) != OK)
		return TK_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return TK(KEY_UP);
	if (ev.bstate & BUTTON5_PRESSED)
		return TK(KEY_DOWN);
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return TK_NONE;
	t->mouse_y = ev.y;
	t->mouse_x = ev.x;
	return TK(KEY_MOUSE);
}

/* One key as the views see it, or TK_NONE for input that means nothing to them. */
static int screen_translate(struct tui *t, int r, wint_t wc)
{
	if (r == KEY_CODE_YES) {
		if (wc == KEY_RESIZE)
			getmaxyx(stdscr, t->rows, t->cols);
		else if (wc == KEY_MOUSE)
			return screen_mouse(t);
		else if (wc == KEY_ENTER)
			return TK_ENTER;
		return TK((int)wc);
	}
	if (wc == '\r')
		return TK_ENTER;
	if (wc == 12) {
		screen_repaint();
		return TK_NONE;
	}
	if (wc == 27) {
		wint_t next;
		wtimeout(stdscr, 0);
		if (wget_wch(stdscr, &next) == OK && next != 27)
			return TK_ALT((int)next);
		return TK_ESC;
	}
	return (int)wc;
}

int screen_getkey(struct tui *t, int timeout_ms)
{
	for (;;) {
		wint_t wc;
		int r, key;

		wtimeout(stdscr, timeout_ms);
		r = wget_wch(stdscr, &wc);
		if (r == ERR)
			return TK_NONE;
		key = screen_translate(t, r, wc);
		/* Waiting for ever means waiting for a key that means something. */
		if (key != TK_NONE || timeout_ms >= 0)
			return key;
	}
}
