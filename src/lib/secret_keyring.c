/* secret_keyring.c: passwords in the desktop keyring through libsecret's simple password API.
 * Items are found by attributes, so the label is only what a keyring browser shows. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <libsecret/secret.h>

#include "handle_internal.h"
#include "secret_keyring.h"

/* libsecret and the GLib stack under it are loaded only when a keyring is used: linking them
 * would cost every outbox run (a send to a server without a password included) about 2 ms of
 * dynamic loading. */
static struct {
	void *handle;
	gboolean (*store)(const SecretSchema *, const gchar *, const gchar *, const gchar *,
			  GCancellable *, GError **, ...);
	gchar *(*lookup)(const SecretSchema *, GCancellable *, GError **, ...);
	gboolean (*clear)(const SecretSchema *, GCancellable *, GError **, ...);
	void (*free_password)(gchar *);
	void (*free_error)(GError *);
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void keyring_load(void)
{
	void *handle = dlopen("libsecret-1.so.0", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	*(void **)&lib.store = dlsym(handle, "secret_password_store_sync");
	*(void **)&lib.lookup = dlsym(handle, "secret_password_lookup_sync");
	*(void **)&lib.clear = dlsym(handle, "secret_password_clear_sync");
	*(void **)&lib.free_password = dlsym(handle, "secret_password_free");
	*(void **)&lib.free_error = dlsym(handle, "g_error_free");
	if (lib.store && lib.lookup && lib.clear && lib.free_password && lib.free_error)
		lib.handle = handle;
}

static int keyring_ready(outbox *h)
{
	pthread_once(&lib_once, keyring_load);
	if (lib.handle == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "cannot use the keyring: libsecret-1.so.0 could not be loaded (%s)",
				   "install libsecret-1-0, or set OUTBOX_SECRET_BACKEND=file");
	return 0;
}

static const SecretSchema outbox_schema = {
	.name = "org.outbox.Password",
	.flags = SECRET_SCHEMA_NONE,
	.attributes = {
		{"application", SECRET_SCHEMA_ATTRIBUTE_STRING},
		{"id", SECRET_SCHEMA_ATTRIBUTE_STRING},
		{NULL, 0},
	},
};

int secret_keyring_reachable(void)
{
	const char *bus = getenv("DBUS_SESSION_BUS_ADDRESS");

	return bus != NULL && *bus != '\0';
}

static int keyring_fail(outbox *h, const char *doing, GError *err)
{
	int rc = outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot %s the keyring: %s", doing,
			     err && err->message ? err->message : "unknown error");

	if (err)
		lib.free_error(err);
	return rc;
}

int secret_keyring_store(outbox *h, const char *id, const char *label, const char *password)
{
	GError *err = NULL;

	if (keyring_ready(h) < 0)
		return OUTBOX_ECONFIG;
	if (!lib.store(&outbox_schema, SECRET_COLLECTION_DEFAULT, label, password,
					NULL, &err, "application", "outbox", "id", id, NULL))
		return keyring_fail(h, "store the password in", err);
	return 0;
}

int secret_keyring_lookup(outbox *h, const char *id, char **password)
{
	GError *err = NULL;
	gchar *found;

	*password = NULL;
	if (keyring_ready(h) < 0)
		return OUTBOX_ECONFIG;
	found = lib.lookup(&outbox_schema, NULL, &err, "application", "outbox",
					    "id", id, NULL);
	if (err != NULL) {
		if (found)
			lib.free_password(found);
		return keyring_fail(h, "read the password from", err);
	}
	if (found == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the keyring has no outbox password with id %s; set the server's "
				   "password again", id);
	/* Hand out ordinary heap memory: callers wipe and free() it like any other secret. */
	*password = strdup(found);
	lib.free_password(found);
	if (*password == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

int secret_keyring_delete(outbox *h, const char *id)
{
	GError *err = NULL;

	if (keyring_ready(h) < 0)
		return OUTBOX_ECONFIG;
	/* FALSE without an error means nothing matched, which is what deleting wants anyway. */
	lib.clear(&outbox_schema, NULL, &err, "application", "outbox", "id", id,
				   NULL);
	if (err != NULL)
		return keyring_fail(h, "delete the password from", err);
	return 0;
}
