/* tests/tools/lib/tool_json.c: the JSON-lines writer of the test tools (dnsq, setupprobe,
 * autoconfig_lookup): one escaping rule and one spelling of setup's words for all of them. */
#include <stdio.h>
#include <string.h>

#include "setup_probe.h"
#include "tool_json.h"

static const char *const tool_json_sources[] = {"autoconfig", "well-known", "ispdb", "srv", "mx", "guess"};
static const char *const tool_json_outcomes[] = {"found", "not_offered", "no_answer", "failed"};

void tool_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void tool_json_field(const char *key, const char *value)
{
	printf(", \"%s\": ", key);
	tool_json_string(value);
}

const char *tool_json_source_word(enum setup_source s)
{
	return (unsigned)s < sizeof tool_json_sources / sizeof tool_json_sources[0] ? tool_json_sources[s] : "?";
}

const char *tool_json_outcome_word(enum setup_outcome o)
{
	return (unsigned)o < sizeof tool_json_outcomes / sizeof tool_json_outcomes[0] ? tool_json_outcomes[o] : "?";
}

int tool_json_source_parse(const char *word, enum setup_source *out)
{
	size_t i;

	for (i = 0; i < sizeof tool_json_sources / sizeof tool_json_sources[0]; i++)
		if (strcmp(word, tool_json_sources[i]) == 0) {
			*out = (enum setup_source)i;
			return 0;
		}
	return -1;
}

void tool_json_report(const struct setup_report *r)
{
	printf("{\"kind\": \"report\"");
	tool_json_field("source", tool_json_source_word(r->source));
	tool_json_field("what", r->what);
	tool_json_field("outcome", tool_json_outcome_word(r->outcome));
	printf(", \"ms\": %lld", r->ms);
	tool_json_field("detail", r->detail);
	tool_json_field("redirected_to", r->redirected_to);
	printf("}\n");
}

void tool_json_candidate(const struct setup_candidate *c)
{
	printf("{\"kind\": \"candidate\"");
	tool_json_field("host", c->host);
	printf(", \"port\": %d", c->port);
	tool_json_field("security", setup_probe_security_word(c->security));
	tool_json_field("source", tool_json_source_word(c->source));
	printf(", \"rank\": %d", c->rank);
	tool_json_field("auth", c->auth);
	tool_json_field("username", c->username);
	tool_json_field("oauth", c->oauth);
	tool_json_field("origin", c->origin);
	tool_json_field("display_name", c->display_name);
	printf("}\n");
}
