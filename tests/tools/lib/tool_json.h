/* tests/tools/lib/tool_json.h: the JSON-lines output the test tools share (strings, setup's
 * reports and candidates, in the words the end-to-end tests read), so each tool writes none of it. */
#ifndef OUTBOX_TOOL_JSON_H
#define OUTBOX_TOOL_JSON_H

#include "setup_candidate.h"

/* `s` as a JSON string, quotes included: quote and backslash escaped, control bytes as \uXXXX. */
void tool_json_string(const char *s);

/* `, "key": "value"`: one more string field of the object being printed. */
void tool_json_field(const char *key, const char *value);

/* The words the tests use for a source ("autoconfig", "well-known", "ispdb", "srv", "mx", "guess")
 * and an outcome ("found", "not_offered", "no_answer", "failed"): fixed machine words, apart from
 * the library's own words for people, so a change of wording there breaks no test here. */
const char *tool_json_source_word(enum setup_source s);
const char *tool_json_outcome_word(enum setup_outcome o);

/* The source named by `word` (one of tool_json_source_word's), or -1. */
int tool_json_source_parse(const char *word, enum setup_source *out);

/* One line {"kind": "report", ...} with every field of `r`. */
void tool_json_report(const struct setup_report *r);

/* One line {"kind": "candidate", ...} with every field of `c`. */
void tool_json_candidate(const struct setup_candidate *c);

#endif
