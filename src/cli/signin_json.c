/* signin_json.c: an OAuth sign-in as a JSON object, the same for `server show --json` and `server
 * check --json`: {signed_in, user, expires_at (ISO 8601, UTC), refresh_possible}. */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "json.h"

void cli_signin_json(struct json *j, const outbox_signin *in)
{
	char when[32];
	time_t t = (time_t)in->expires_at;
	struct tm tm;

	json_begin_object(j);
	json_key(j, "signed_in");
	json_raw(j, in->signed_in ? "true" : "false");
	json_key(j, "user");
	if (in->signed_in && in->user[0])
		json_string(j, in->user);
	else
		json_raw(j, "null");
	json_key(j, "expires_at");
	if (in->signed_in && gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		json_string(j, when);
	else
		json_raw(j, "null");
	json_key(j, "refresh_possible");
	json_raw(j, in->refresh_possible ? "true" : "false");
	json_end_object(j);
}
