/* secret_keyring.c: passwords in the desktop keyring through libsecret's simple password API.
 * Items are found by attributes, so the label is only what a keyring browser shows. */
#include <stdlib.h>
#include <string.h>
#include <libsecret/secret.h>

#include "handle_internal.h"
#include "secret_keyring.h"

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

	g_clear_error(&err);
	return rc;
}

int secret_keyring_store(outbox *h, const char *id, const char *label, const char *password)
{
	GError *err = NULL;

	if (!secret_password_store_sync(&outbox_schema, SECRET_COLLECTION_DEFAULT, label, password,
					NULL, &err, "application", "outbox", "id", id, NULL))
		return keyring_fail(h, "store the password in", err);
	return 0;
}

int secret_keyring_lookup(outbox *h, const char *id, char **password)
{
	GError *err = NULL;
	gchar *found;

	*password = NULL;
	found = secret_password_lookup_sync(&outbox_schema, NULL, &err, "application", "outbox",
					    "id", id, NULL);
	if (err != NULL) {
		secret_password_free(found);
		return keyring_fail(h, "read the password from", err);
	}
	if (found == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the keyring has no outbox password with id %s; set the server's "
				   "password again", id);
	/* Hand out ordinary heap memory: callers wipe and free() it like any other secret. */
	*password = strdup(found);
	secret_password_free(found);
	if (*password == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

int secret_keyring_delete(outbox *h, const char *id)
{
	GError *err = NULL;

	/* FALSE without an error means nothing matched, which is what deleting wants anyway. */
	secret_password_clear_sync(&outbox_schema, NULL, &err, "application", "outbox", "id", id,
				   NULL);
	if (err != NULL)
		return keyring_fail(h, "delete the password from", err);
	return 0;
}
