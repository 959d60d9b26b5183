/* handle.c: finding the store's directory (OUTBOX_HOME or the XDG data directory), creating it
 * private to the user, and opening the database in it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "outbox/handle.h"
#include "store.h"

/* The directory for the store: $OUTBOX_HOME, else $XDG_DATA_HOME/outbox, else
 * $HOME/.local/share/outbox. Relative XDG values are ignored, as the XDG spec asks. */
static char *handle_default_home(void)
{
	const char *v;
	struct buf b = BUF_INIT;

	if ((v = getenv("OUTBOX_HOME")) && *v)
		return strdup(v);
	if ((v = getenv("XDG_DATA_HOME")) && v[0] == '/') {
		if (buf_printf(&b, "%s/outbox", v) < 0)
			return NULL;
		return buf_detach(&b);
	}
	if ((v = getenv("HOME")) && *v) {
		if (buf_printf(&b, "%s/.local/share/outbox", v) < 0)
			return NULL;
		return buf_detach(&b);
	}
	return NULL;
}

/* mkdir -p; the parents get 0700 too, as the XDG spec asks of the data directory's parents. */
static int handle_make_dirs(outbox *h, const char *dir)
{
	char *path = strdup(dir);
	char *p;
	int rc = 0;

	if (path == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				rc = outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot create %s: %s", path,
						 strerror(errno));
				break;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(path);
	return rc;
}

int outbox_open(outbox **out, const char *home)
{
	outbox *h = calloc(1, sizeof *h);
	struct buf path = BUF_INIT;
	struct stat st;
	int rc;

	*out = h;
	if (h == NULL)
		return OUTBOX_ENOMEM;
	h->home = home ? strdup(home) : handle_default_home();
	if (h->home == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "no place for the store: set OUTBOX_HOME or HOME");
	if ((rc = handle_make_dirs(h, h->home)) < 0)
		return rc;
	if (stat(h->home, &st) < 0 || !S_ISDIR(st.st_mode))
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "%s is not a directory", h->home);
	/* Others must not be able to swap files under us, nor read queued mail. */
	if (st.st_mode & 0022)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "%s is writable by others; run: chmod 700 %s", h->home, h->home);
	if (buf_printf(&path, "%s/outbox.db", h->home) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	rc = store_open(h, path.data);
	buf_free(&path);
	return rc;
}

void outbox_close(outbox *h)
{
	if (h == NULL)
		return;
	if (h->db)
		store_close(h);
	free(h->home);
	free(h);
}

const char *outbox_home(const outbox *h)
{
	return h->home;
}

int outbox_schema_version(const outbox *h)
{
	return h->schema_version;
}

int outbox_changed(outbox *h)
{
	long long version;
	int rc;

	/* data_version moves only when another connection commits, which is exactly "someone else
	 * changed the store"; our own writes leave it alone. */
	if ((rc = store_int(h, &version, 0, "PRAGMA data_version", "")) < 0)
		return rc;
	if (h->data_version == version)
		return 0;
	rc = h->data_version != 0;
	h->data_version = version;
	return rc;
}
