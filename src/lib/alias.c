/* alias.c: local names as recipients ("root"), each standing for addresses with a domain, kept in
 * the store; and the one place a recipient without a domain becomes those addresses. */
#include <stdlib.h>
#include <string.h>

#include "address_list.h"
#include "alias_internal.h"
#include "buf.h"
#include "record.h"
#include "store.h"
#include "validate.h"
#include "outbox/alias.h"
#include "outbox/send.h"

#define ALIAS_NAME_MAX 64 /* RFC 5321's limit on a local part */
#define ALIAS_TEXT_MAX 65536

struct outbox_alias {
	char *name;
	char *addresses;
};

/* RFC 5322 atext: a dot-atom local part without quotes, which is what cron and mdadm write. */
static int alias_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

int alias_is_local_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > ALIAS_NAME_MAX || name[0] == '.' || name[0] == '-' || name[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (name[i] == '.' ? name[i + 1] == '.' : !alias_atext((unsigned char)name[i]))
			return 0;
	}
	return 1;
}

static int alias_check_name(outbox *h, const char *name)
{
	char shown[300];

	validate_display(shown, sizeof shown, name, strlen(name));
	if (*name == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "name", "is required");
	if (strchr(name, '@'))
		return outbox_fail(h, OUTBOX_EINVALID, "name",
				   "\"%s\" has an \"@\"; an alias is a local name such as root", shown);
	if (strlen(name) > ALIAS_NAME_MAX)
		return outbox_fail(h, OUTBOX_EINVALID, "name", "is longer than %d bytes", ALIAS_NAME_MAX);
	if (!alias_is_local_name(name))
		return outbox_fail(h, OUTBOX_EINVALID, "name",
				   "\"%s\" is not a local name: letters, digits, dots (not first, last or twice) "
				   "and !#$%%&'*+-/=?^_`{|}~, not starting with \"-\"", shown);
	return 0;
}

/* Building the normalized list: each address checked, repeats dropped, ", " between them. */
struct alias_norm {
	outbox *h;
	struct buf text;
	char **seen;
	size_t n;
};

static int alias_norm_add(void *ctx, const char *addr)
{
	struct alias_norm *a = ctx;
	char shown[300];
	size_t i;
	int rc;

	if (strchr(addr, '@') == NULL) {
		validate_display(shown, sizeof shown, addr, strlen(addr));
		return outbox_fail(a->h, OUTBOX_EINVALID, "address",
				   "\"%s\" has no domain: an alias stands for full addresses (user@domain), "
				   "and is never expanded into another alias", shown);
	}
	if ((rc = validate_address(a->h, "address", addr)) < 0)
		return rc;
	for (i = 0; i < a->n; i++)
		if (strcasecmp(a->seen[i], addr) == 0)
			return 0;
	if (a->n >= OUTBOX_SEND_MAX_RECIPIENTS)
		return outbox_fail(a->h, OUTBOX_EINVALID, "address", "more than %d addresses",
				   OUTBOX_SEND_MAX_RECIPIENTS);
	if (strv_append(&a->seen, &a->n, addr) < 0 ||
	    buf_printf(&a->text, "%s%s", a->text.len ? ", " : "", addr) < 0)
		return outbox_fail(a->h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

int alias_normalize(outbox *h, const char *addresses, char **out)
{
	struct alias_norm a = {h, BUF_INIT, NULL, 0};
	int rc;

	*out = NULL;
	/* One line: a line break would fold the list, and a header's folding is no user's intent. */
	if ((rc = validate_text(h, "address", addresses, ALIAS_TEXT_MAX)) < 0)
		return rc;
	rc = address_list_parse(addresses, strlen(addresses), alias_norm_add, &a);
	if (rc == OUTBOX_ENOMEM)
		rc = outbox_fail(h, rc, NULL, "out of memory");
	if (rc == 0 && a.n == 0)
		rc = outbox_fail(h, OUTBOX_EINVALID, "address", "is required: the address(es) the alias stands for");
	strv_free(a.seen);
	if (rc < 0) {
		buf_free(&a.text);
		return rc;
	}
	*out = a.text.data;
	return 0;
}

int outbox_alias_set(outbox *h, const char *name, const char *addresses)
{
	char *norm = NULL;
	long long now = store_now();
	int rc;

	if ((rc = alias_check_name(h, name)) < 0 || (rc = alias_normalize(h, addresses ? addresses : "", &norm)) < 0)
		return rc;
	/* One statement: the row is replaced whole or not at all. The name keeps the case it was first
	 * given, as a rename is not what "set" means. */
	rc = store_exec(h,
			"INSERT INTO aliases (name, addresses, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)"
			" ON CONFLICT (name) DO UPDATE SET addresses = ?2, updated_at = ?3",
			"tti", name, norm, now);
	free(norm);
	return rc;
}

int outbox_alias_remove(outbox *h, const char *name)
{
	char shown[300];
	int rc;

	if ((rc = store_exec(h, "DELETE FROM aliases WHERE name = ?1", "t", name)) < 0)
		return rc;
	if (sqlite3_changes(h->db) == 0) {
		validate_display(shown, sizeof shown, name, strlen(name));
		return outbox_fail(h, OUTBOX_ENOTFOUND, "name", "no alias named \"%s\" (see: outbox alias list)",
				   shown);
	}
	return 0;
}

static outbox_alias *alias_new(const char *name, const char *addresses)
{
	outbox_alias *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	a->name = strdup(name ? name : "");
	a->addresses = strdup(addresses ? addresses : "");
	if (a->name == NULL || a->addresses == NULL) {
		outbox_alias_free(a);
		return NULL;
	}
	return a;
}

/* The aliases a query returns (name, addresses), in its order. */
static int alias_query(outbox *h, const char *sql, const char *name, outbox_alias ***out, size_t *count)
{
	sqlite3_stmt *st;
	outbox_alias **v = NULL, **grown;
	size_t n = 0;
	int rc, step;

	*out = NULL;
	*count = 0;
	if ((rc = store_prepare(h, &st, sql)) < 0)
		return rc;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((grown = realloc(v, (n + 1) * sizeof *v)) == NULL ||
		    (v = grown, (v[n] = alias_new((const char *)sqlite3_column_text(st, 0),
						  (const char *)sqlite3_column_text(st, 1))) == NULL)) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
		n++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading aliases");
	sqlite3_finalize(st);
	if (rc < 0) {
		outbox_alias_list_free(v, n);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}

int outbox_alias_list(outbox *h, outbox_alias ***out, size_t *count)
{
	return alias_query(h, "SELECT name, addresses FROM aliases ORDER BY name", NULL, out, count);
}

int outbox_alias_load(outbox *h, const char *name, outbox_alias **out)
{
	outbox_alias **v;
	size_t n;
	char shown[300];
	int rc;

	*out = NULL;
	if ((rc = alias_query(h, "SELECT name, addresses FROM aliases WHERE name = ?1", name, &v, &n)) < 0)
		return rc;
	if (n == 0) {
		free(v);
		validate_display(shown, sizeof shown, name, strlen(name));
		return outbox_fail(h, OUTBOX_ENOTFOUND, "name", "no alias named \"%s\" (see: outbox alias list)",
				   shown);
	}
	*out = v[0];
	free(v);
	return 0;
}

const char *outbox_alias_name(const outbox_alias *a)
{
	return a->name;
}

const char *outbox_alias_addresses(const outbox_alias *a)
{
	return a->addresses;
}

void outbox_alias_free(outbox_alias *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->addresses);
	free(a);
}

void outbox_alias_list_free(outbox_alias **list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		outbox_alias_free(list[i]);
	free(list);
}

struct alias_out {
	char ***out;
	size_t *n;
};

static int alias_out_add(void *ctx, const char *addr)
{
	struct alias_out *o = ctx;

	return strv_append(o->out, o->n, addr) < 0 ? OUTBOX_ENOMEM : 0;
}

int alias_expand(outbox *h, const char *name, char ***out, size_t *n)
{
	struct alias_out o = {out, n};
	char *text = NULL, **found = NULL, shown[300];
	int rc;

	/* The name's own alias, else the catch-all: one level, as the addresses have domains. */
	if ((rc = store_strings(h, &found, "reading aliases",
				"SELECT addresses FROM aliases WHERE name IN (?1, '" OUTBOX_ALIAS_DEFAULT "')"
				" ORDER BY name = '" OUTBOX_ALIAS_DEFAULT "' COLLATE NOCASE LIMIT 1",
				"t", name)) < 0)
		return rc;
	if (found == NULL) {
		validate_display(shown, sizeof shown, name, strlen(name));
		return outbox_fail(h, OUTBOX_ENOUSER, "recipient",
				   "\"%s\" is a local name without an alias: say where its mail goes with "
				   "'outbox alias add %s ADDRESS' (or catch every local name with 'outbox alias add "
				   OUTBOX_ALIAS_DEFAULT " ADDRESS')", shown, shown);
	}
	text = found[0];
	rc = address_list_parse(text, strlen(text), alias_out_add, &o);
	strv_free(found);
	return rc == OUTBOX_ENOMEM ? outbox_fail(h, rc, NULL, "out of memory") : rc;
}
