/* account.c: the account model: its fields and the check of each value as it is set, including
 * that the chosen and fallback servers exist. */
#include <stdlib.h>
#include <string.h>

#include "account_internal.h"
#include "handle_internal.h"
#include "retry.h"
#include "server_internal.h"
#include "validate.h"

const struct field_spec account_fields[OUTBOX_ACCOUNT_FIELD_COUNT] = {
	[OUTBOX_ACCOUNT_ADDRESS] = {{"address", "Email Address", OUTBOX_FIELD_TEXT, NULL,
				     "the sender address of this account"}, "address", ""},
	[OUTBOX_ACCOUNT_NAME] = {{"name", "Full Name", OUTBOX_FIELD_TEXT, NULL,
				  "the name shown in From"}, "display_name", ""},
	[OUTBOX_ACCOUNT_SERVER] = {{"server", "Outgoing Mail Server", OUTBOX_FIELD_CHOICE, NULL,
				    "the server this account sends through"}, NULL, ""},
	[OUTBOX_ACCOUNT_FALLBACK] = {{"fallback", "Fallback Servers", OUTBOX_FIELD_LIST, NULL,
				      "servers to try, in order, when that one is unavailable"}, NULL, ""},
	[OUTBOX_ACCOUNT_ONLY_THIS_SERVER] = {{"only-this-server", "Use Only This Server", OUTBOX_FIELD_BOOL,
					      NULL, "never send through another server"},
					     "only_this_server", "false"},
	[OUTBOX_ACCOUNT_DEFAULT] = {{"default", "Default Account", OUTBOX_FIELD_BOOL, NULL,
				     "the account used when a message names none"}, "is_default", "false"},
	[OUTBOX_ACCOUNT_RETRY_FIRST] = {{"retry-first", "First Retry After", OUTBOX_FIELD_DURATION, NULL,
					 "wait this long before retrying a queued message (e.g. 1m, 90s)"},
					"retry_first", "1m"},
	[OUTBOX_ACCOUNT_RETRY_MAX] = {{"retry-max", "Longest Wait Between Retries", OUTBOX_FIELD_DURATION, NULL,
				       "the wait doubles after each try up to this (e.g. 1h)"},
				      "retry_max", "1h"},
	[OUTBOX_ACCOUNT_GIVE_UP] = {{"give-up", "Give Up After", OUTBOX_FIELD_DURATION, NULL,
				     "stop retrying this long after the first try; the message is kept as failed"},
				    "give_up", "5d"},
};

/* The accepted range of each retry field, in seconds. */
static const long long account_retry_range[][2] = {
	[OUTBOX_ACCOUNT_RETRY_FIRST - OUTBOX_ACCOUNT_RETRY_FIRST] = {10, 86400},
	[OUTBOX_ACCOUNT_RETRY_MAX - OUTBOX_ACCOUNT_RETRY_FIRST] = {10, 7 * 86400},
	[OUTBOX_ACCOUNT_GIVE_UP - OUTBOX_ACCOUNT_RETRY_FIRST] = {60, 60 * 86400},
};

const outbox_field *outbox_account_field_info(outbox_account_field_id id)
{
	if ((unsigned)id >= OUTBOX_ACCOUNT_FIELD_COUNT)
		return NULL;
	return &account_fields[id].pub;
}

int outbox_account_field_by_key(const char *key)
{
	return record_find_key(account_fields, OUTBOX_ACCOUNT_FIELD_COUNT, key);
}

outbox_account *outbox_account_new(void)
{
	outbox_account *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	if (record_init(&a->rec, account_fields, OUTBOX_ACCOUNT_FIELD_COUNT) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

void outbox_account_free(outbox_account *a)
{
	if (a == NULL)
		return;
	record_free(&a->rec);
	strv_free(a->fallbacks);
	free(a);
}

const char *outbox_account_get(const outbox_account *a, outbox_account_field_id id)
{
	if ((unsigned)id >= OUTBOX_ACCOUNT_FIELD_COUNT)
		return "";
	return a->rec.val[id];
}

static const char *const no_names[] = {NULL};

const char *const *outbox_account_fallbacks(const outbox_account *a)
{
	return a->fallbacks ? (const char *const *)a->fallbacks : no_names;
}

/* Parse "a, b,c" into server names that exist, without repeats. */
static int account_parse_fallbacks(outbox *h, const char *value, char ***out, struct buf *joined)
{
	const char *key = account_fields[OUTBOX_ACCOUNT_FALLBACK].pub.key;
	const char *p = value;
	char **names = NULL;
	char name[128];
	long long id;
	int rc = 0;

	while (*p && rc == 0) {
		size_t len = strcspn(p, ",");
		const char *start = p;
		while (len && (*start == ' ' || *start == '\t'))
			start++, len--;
		while (len && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
		if (len == 0)
			continue;
		if (len >= sizeof name) {
			rc = outbox_fail(h, OUTBOX_EINVALID, key, "\"%.40s...\" is too long for a server name", start);
			break;
		}
		memcpy(name, start, len);
		name[len] = '\0';
		if ((rc = validate_name(h, key, name)) < 0 || (rc = server_id_by_name(h, key, name, &id)) < 0)
			break;
		for (size_t i = 0; names && names[i]; i++)
			if (strcmp(names[i], name) == 0)
				rc = outbox_fail(h, OUTBOX_EINVALID, key, "\"%s\" is listed twice", name);
		if (rc == 0 && (strv_push(&names, name) < 0 ||
				buf_printf(joined, "%s%s", joined->len ? "," : "", name) < 0))
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if (rc < 0) {
		strv_free(names);
		return rc;
	}
	*out = names;
	return 0;
}

static int account_drop_fallback(outbox *h, outbox_account *a, const char *name)
{
	struct buf joined = BUF_INIT;
	size_t i, j;
	int found = 0;

	for (i = j = 0; a->fallbacks && a->fallbacks[i]; i++) {
		if (strcmp(a->fallbacks[i], name) == 0) {
			free(a->fallbacks[i]);
			found = 1;
			continue;
		}
		a->fallbacks[j++] = a->fallbacks[i];
	}
	if (!found)
		return 0;
	a->fallbacks[j] = NULL;
	for (i = 0; a->fallbacks[i]; i++)
		if (buf_printf(&joined, "%s%s", i ? "," : "", a->fallbacks[i]) < 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	i = record_put(&a->rec, OUTBOX_ACCOUNT_FALLBACK, joined.data ? joined.data : "") < 0;
	buf_free(&joined);
	return i ? outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory") : 0;
}

int outbox_account_set(outbox *h, outbox_account *a, outbox_account_field_id id, const char *value)
{
	const char *key;
	struct buf joined = BUF_INIT;
	char **names = NULL, canonical[24];
	long long sid, seconds;
	int rc, flag;

	if ((unsigned)id >= OUTBOX_ACCOUNT_FIELD_COUNT)
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "unknown account field %d", (int)id);
	key = account_fields[id].pub.key;
	if (value == NULL)
		value = "";
	switch (id) {
	case OUTBOX_ACCOUNT_ADDRESS:
		if (*value == '\0')
			return outbox_fail(h, OUTBOX_EINVALID, key, "is required");
		rc = validate_address(h, key, value);
		break;
	case OUTBOX_ACCOUNT_NAME:
		rc = validate_text(h, key, value, 200);
		break;
	case OUTBOX_ACCOUNT_SERVER:
		if (*value == '\0')
			return outbox_fail(h, OUTBOX_EINVALID, key, "is required");
		if ((rc = validate_name(h, key, value)) == 0)
			rc = server_id_by_name(h, key, value, &sid);
		/* Choosing a fallback as the server promotes it: it leaves the fallback list. */
		if (rc == 0)
			rc = account_drop_fallback(h, a, value);
		break;
	case OUTBOX_ACCOUNT_FALLBACK:
		if ((rc = account_parse_fallbacks(h, value, &names, &joined)) < 0)
			break;
		if (record_put(&a->rec, id, joined.data ? joined.data : "") < 0) {
			strv_free(names);
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
		strv_free(a->fallbacks);
		a->fallbacks = names;
		buf_free(&joined);
		return 0;
	case OUTBOX_ACCOUNT_ONLY_THIS_SERVER:
	case OUTBOX_ACCOUNT_DEFAULT:
		if ((rc = validate_bool(h, key, value, &flag)) == 0)
			value = flag ? "true" : "false";
		break;
	case OUTBOX_ACCOUNT_RETRY_FIRST:
	case OUTBOX_ACCOUNT_RETRY_MAX:
	case OUTBOX_ACCOUNT_GIVE_UP:
		rc = validate_duration(h, key, value, account_retry_range[id - OUTBOX_ACCOUNT_RETRY_FIRST][0],
				       account_retry_range[id - OUTBOX_ACCOUNT_RETRY_FIRST][1], &seconds);
		if (rc == 0) {
			retry_format_duration(seconds, canonical, sizeof canonical);
			value = canonical;
		}
		break;
	default:
		rc = outbox_fail(h, OUTBOX_EINVALID, NULL, "unknown account field %d", (int)id);
	}
	buf_free(&joined);
	if (rc < 0)
		return rc;
	if (record_put(&a->rec, id, value) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

void account_retry_policy(const outbox_account *a, struct retry_policy *policy)
{
	*policy = retry_default;
	if (a == NULL)
		return;
	policy->first_delay = retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_RETRY_FIRST]);
	policy->max_delay = retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_RETRY_MAX]);
	policy->give_up = retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_GIVE_UP]);
	if (policy->first_delay < 1 || policy->max_delay < policy->first_delay || policy->give_up < 1)
		*policy = retry_default;
}

int account_server_chain(outbox *h, const outbox_account *a, const char *server, char ***chain)
{
	const char *const *fb;
	int rc = 0;

	*chain = NULL;
	if (server && *server)
		rc = strv_push(chain, server);
	else if (a && *a->rec.val[OUTBOX_ACCOUNT_SERVER]) {
		rc = strv_push(chain, a->rec.val[OUTBOX_ACCOUNT_SERVER]);
		if (strcmp(a->rec.val[OUTBOX_ACCOUNT_ONLY_THIS_SERVER], "true") != 0)
			for (fb = outbox_account_fallbacks(a); *fb && rc == 0; fb++)
				rc = strv_push(chain, *fb);
	}
	if (rc < 0) {
		strv_free(*chain);
		*chain = NULL;
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	return 0;
}
