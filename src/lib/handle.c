/* handle.c: finding the store's directory (OUTBOX_HOME or the XDG data directory), creating it
 * private to the user, and opening the database in it, to change it or only to read it. */
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

/* The store's directory with no symbolic link left in it. SQLite's no-follow open refuses a link
 * in any part of the database's path, and /home is one on many systems: the directory is resolved
 * once, here, and every file below it is named from the result. */
static int handle_resolve(outbox *h, const char *wanted)
{
	struct stat st;

	if ((h->home = realpath(wanted, NULL)) == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot use the store's directory %s: %s", wanted,
				   strerror(errno));
	if (stat(h->home, &st) < 0 || !S_ISDIR(st.st_mode))
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "%s is not a directory", h->home);
	if (handle_check_owner(h, h->home, &st, 1) < 0)
		return OUTBOX_ECONFIG;
	/* Others must not be able to swap files under us, nor read queued mail. */
	if (st.st_mode & 0022)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "%s is writable by others; run: chmod 700 %s", h->home, h->home);
	return 0;
}

/* Whether `wanted` holds a database already (a link there counts, so it is refused, not replaced). */
static int handle_store_exists(const char *wanted)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int found = buf_printf(&path, "%s/outbox.db", wanted) == 0 && lstat(path.data, &st) == 0;

	buf_free(&path);
	return found;
}

static int handle_open_writing(outbox *h, const char *db)
{
	int rc;

	if ((rc = store_create_file(h, db)) < 0 || (rc = handle_check_file(h, db, "database")) < 0 ||
	    (rc = handle_check_writable(h, db)) < 0)
		return rc;
	return store_open(h, db);
}

static int handle_open_reading(outbox *h, const char *db)
{
	int rc;

	if ((rc = handle_check_file(h, db, "database")) < 0 ||
	    (rc = store_open_readonly(h, db, handle_check_can_write(h->home) == 0 &&
						 handle_check_can_write(db) == 0)) < 0)
		return rc;
	if (h->schema_version == STORE_SCHEMA_VERSION)
		return 0;
	/* An older outbox's store: this one's queries need the new schema, so whichever command
	 * opens it first upgrades it, a reading one too, when it can. */
	store_close(h);
	h->readonly = 0;
	if (handle_check_writable(h, db) < 0)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the store %s was made by an older outbox and is read-only, so it cannot be "
				   "upgraded; make it writable once", h->home);
	return store_open(h, db);
}

static int handle_open(outbox **out, const char *home, int reading)
{
	outbox *h = calloc(1, sizeof *h);
	struct buf db = BUF_INIT;
	char *wanted;
	int rc;

	*out = h;
	if (h == NULL)
		return OUTBOX_ENOMEM;
	if ((wanted = home ? strdup(home) : handle_default_home()) == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "no place for the store: set OUTBOX_HOME or HOME");
	/* A store that does not exist yet is made, by a reading command too: there is nothing to read
	 * until it exists, and every command has always made it. */
	if (reading && !handle_store_exists(wanted))
		reading = 0;
	if ((!reading && (rc = handle_make_dirs(h, wanted)) < 0) || (rc = handle_resolve(h, wanted)) < 0)
		goto done;
	if (buf_printf(&db, "%s/outbox.db", h->home) < 0) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		goto done;
	}
	rc = reading ? handle_open_reading(h, db.data) : handle_open_writing(h, db.data);
done:
	buf_free(&db);
	free(wanted);
	return rc;
}

int outbox_open(outbox **out, const char *home)
{
	return handle_open(out, home, 0);
}

int outbox_open_readonly(outbox **out, const char *home)
{
	return handle_open(out, home, 1);
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
