/* test_policy.c: the delivery policy as a table: each case of tests/data/policy.cases is a row of
 * the fault matrix (what each server said), replayed through policy.c and checked got/want. */
#include "policy.h"
#include "unit.h"

#define MAX_RCPTS 8
#define MAX_ATTEMPTS 4

/* Every row is checked and every mismatch printed, so one run shows the whole table's state. */
static int mismatches;

static void check_str(const char *got, const char *want, const char *what)
{
	if (strcmp(got, want) != 0) {
		print_error("%s: got \"%s\", want \"%s\"\n", what, got, want);
		mismatches++;
	}
}

struct attempt_case {
	int fail, unsuitable, mail, data, dot, dot_sent;
	int rcpt[MAX_RCPTS];
	size_t nrcpt;
	int want_next;
};

struct policy_case {
	char name[200];
	int line;
	int servers;
	struct policy_context ctx;
	struct attempt_case attempts[MAX_ATTEMPTS];
	size_t nattempts;
	char rcpts[300], end[32], code[32], history[32];
};

static const struct {
	const char *name;
	int code;
} codes[] = {
	{"ok", 0},
	{"tempfail", OUTBOX_ETEMPFAIL},
	{"protocol", OUTBOX_EPROTOCOL},
	{"refused", OUTBOX_EREFUSED},
	{"unavailable", OUTBOX_EUNAVAILABLE},
	{"auth", OUTBOX_EAUTH},
	{"config", OUTBOX_ECONFIG},
	{"io", OUTBOX_EIO},
};

static int code_of(const char *name, int line)
{
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(codes[i].name, name) == 0)
			return codes[i].code;
	fail_msg("policy.cases line %d: unknown code \"%s\"", line, name);
	return 0;
}

static const char *name_of_code(int code)
{
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "?";
}

/* A reply code, or 0 for "-" (no reply came). */
static int reply_of(const char *text)
{
	return strcmp(text, "-") == 0 ? 0 : (int)strtol(text, NULL, 10);
}

static void parse_attempt(char *text, struct attempt_case *a, int line)
{
	char *arrow = strstr(text, "->"), *tok, *save = NULL;

	if (arrow == NULL)
		fail_msg("policy.cases line %d: an attempt needs \"-> next\" or \"-> stop\"", line);
	*arrow = '\0';
	a->want_next = strstr(arrow + 2, "next") != NULL;
	for (tok = strtok_r(text, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (strncmp(tok, "fail=", 5) == 0)
			a->fail = code_of(tok + 5, line);
		else if (strcmp(tok, "unsuitable") == 0)
			a->unsuitable = 1;
		else if (strncmp(tok, "mail=", 5) == 0)
			a->mail = reply_of(tok + 5);
		else if (strncmp(tok, "data=", 5) == 0)
			a->data = reply_of(tok + 5);
		else if (strncmp(tok, "dot=", 4) == 0)
			a->dot = reply_of(tok + 4), a->dot_sent = 1;
		else if (strncmp(tok, "rcpt=", 5) == 0) {
			char *r, *rsave = NULL;
			for (r = strtok_r(tok + 5, ",", &rsave); r && a->nrcpt < MAX_RCPTS; r = strtok_r(NULL, ",", &rsave))
				a->rcpt[a->nrcpt++] = reply_of(r);
		} else
			fail_msg("policy.cases line %d: unknown fact \"%s\"", line, tok);
	}
}

/* The value after "key:" with the spaces around it trimmed, or NULL when the line is not that key. */
static char *value_of(char *line, const char *key)
{
	size_t n = strlen(key), len;
	char *v;

	if (strncmp(line, key, n) != 0 || line[n] != ':')
		return NULL;
	v = line + n + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == '\n' || v[len - 1] == ' '))
		v[--len] = '\0';
	return v;
}

static size_t load_cases(struct policy_case **out)
{
	const char *path = getenv("POLICY_CASES") ? getenv("POLICY_CASES") : "tests/data/policy.cases";
	FILE *f = fopen(path, "r");
	struct policy_case *cases = NULL, *c = NULL;
	size_t n = 0;
	char line[512], *v;
	int lineno = 0;

	if (f == NULL)
		fail_msg("cannot open %s (run from the source tree's top)", path);
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if ((v = value_of(line, "case"))) {
			cases = realloc(cases, (n + 1) * sizeof *cases);
			assert_non_null(cases);
			c = &cases[n++];
			memset(c, 0, sizeof *c);
			snprintf(c->name, sizeof c->name, "%s", v);
			c->line = lineno;
			continue;
		}
		if (c == NULL)
			fail_msg("policy.cases line %d: outside a case", lineno);
		if ((v = value_of(line, "servers")))
			c->servers = (int)strtol(v, NULL, 10);
		else if ((v = value_of(line, "context"))) {
			c->ctx.in_outbox = strcmp(v, "outbox") == 0;
			c->ctx.no_queue = strcmp(v, "no-queue") == 0;
		} else if ((v = value_of(line, "attempt"))) {
			if (c->nattempts == MAX_ATTEMPTS)
				fail_msg("policy.cases line %d: too many attempts", lineno);
			parse_attempt(v, &c->attempts[c->nattempts++], lineno);
		} else if ((v = value_of(line, "rcpts")))
			snprintf(c->rcpts, sizeof c->rcpts, "%s", v);
		else if ((v = value_of(line, "end")))
			snprintf(c->end, sizeof c->end, "%s", v);
		else if ((v = value_of(line, "code")))
			snprintf(c->code, sizeof c->code, "%s", v);
		else if ((v = value_of(line, "history")))
			snprintf(c->history, sizeof c->history, "%s", v);
		else
			fail_msg("policy.cases line %d: unknown line \"%s\"", lineno, line);
	}
	fclose(f);
	*out = cases;
	return n;
}

static const char *const outcome_words[] = {"delivered", "refused", "deferred", "uncertain"};
static const char *const reason_words[] = {"failure", "mail", "rcpt", "data"};
static const char *const end_words[] = {"nothing-open", "queue", "report"};

/* Replay one case: each attempt carries the recipients the one before left deferred. */
static void run_case(const struct policy_case *c)
{
	struct policy_rcpt final[MAX_RCPTS], v[MAX_RCPTS];
	struct smtp_rcpt rcpt[MAX_RCPTS];
	struct policy_route route;
	size_t open[MAX_RCPTS], nopen, total, k, i, waiting = 0, refused = 0, delivered = 0, passing = 0;
	int servers = c->servers ? c->servers : (int)c->nattempts;
	char got[300] = "", what[300];
	enum policy_end end;

	memset(&route, 0, sizeof route);
	/* As many recipients as the expected outcomes name. */
	for (total = 1, i = 0; c->rcpts[i]; i++)
		total += c->rcpts[i] == ' ';
	if (total > MAX_RCPTS)
		fail_msg("line %d (%s): more than %d recipients", c->line, c->name, MAX_RCPTS);
	for (i = 0; i < total; i++) {
		open[i] = i;
		final[i].outcome = POLICY_DEFERRED;
		final[i].reason = POLICY_BY_FAILURE;
	}
	nopen = total;
	for (k = 0; k < c->nattempts; k++) {
		const struct attempt_case *a = &c->attempts[k];
		struct smtp_txn t;
		struct policy_attempt pa;
		enum policy_step step;
		size_t still = 0;

		memset(&t, 0, sizeof t);
		memset(rcpt, 0, sizeof rcpt);
		if (a->nrcpt && a->nrcpt != nopen)
			fail_msg("line %d (%s): attempt %zu gives %zu RCPT replies for %zu open recipients", c->line,
				 c->name, k + 1, a->nrcpt, nopen);
		for (i = 0; i < nopen; i++)
			rcpt[i].reply.code = a->nrcpt ? a->rcpt[i] : 0;
		t.rcpt = rcpt;
		t.nrcpt = nopen;
		t.mail_reply.code = a->mail;
		t.data_reply.code = a->dot_sent ? a->dot : a->data;
		t.data_sent = a->dot_sent;
		t.unsuitable = a->unsuitable;
		policy_judge(&t, a->fail, v, &pa);
		for (i = 0; i < nopen; i++)
			final[open[i]] = v[i];
		step = policy_after_attempt(&route, &pa, (int)k + 1 < servers);
		snprintf(what, sizeof what, "line %d (%s): attempt %zu goes on to the next server", c->line, c->name,
			 k + 1);
		check_str(step == POLICY_NEXT_SERVER ? "next" : "stop", a->want_next ? "next" : "stop", what);
		if (step != POLICY_NEXT_SERVER)
			break;
		for (i = 0; i < nopen; i++)
			if (v[i].outcome == POLICY_DEFERRED)
				open[still++] = open[i];
		nopen = still;
	}
	if (k + 1 < c->nattempts)
		return; /* the route stopped early: said above */
	for (i = 0; i < total; i++) {
		size_t len = strlen(got);
		snprintf(got + len, sizeof got - len, "%s%s/%s", i ? " " : "", outcome_words[final[i].outcome],
			 reason_words[final[i].reason]);
		waiting += final[i].outcome == POLICY_DEFERRED || final[i].outcome == POLICY_UNCERTAIN;
		passing += (final[i].outcome == POLICY_DEFERRED || final[i].outcome == POLICY_UNCERTAIN) &&
			   final[i].temporary;
		refused += final[i].outcome == POLICY_REFUSED;
		delivered += final[i].outcome == POLICY_DELIVERED;
	}
	snprintf(what, sizeof what, "line %d (%s): each recipient's outcome", c->line, c->name);
	check_str(got, c->rcpts, what);
	end = policy_end(&route, waiting, &c->ctx);
	snprintf(what, sizeof what, "line %d (%s): what becomes of the open recipients", c->line, c->name);
	check_str(end_words[end], c->end, what);
	snprintf(what, sizeof what, "line %d (%s): the exit code", c->line, c->name);
	check_str(name_of_code(policy_code(&route, end, refused)), c->code, what);
	snprintf(what, sizeof what, "line %d (%s): the history's word", c->line, c->name);
	/* Reported recipients wait for the caller to try again when what kept them may pass. */
	check_str(policy_history_word(delivered, refused,
				      end == POLICY_END_QUEUE ? waiting : end == POLICY_END_REPORT ? passing : 0,
				      end == POLICY_END_REPORT ? waiting - passing : 0),
		  c->history, what);
}

static void test_every_case(void **state)
{
	struct policy_case *cases = NULL;
	size_t n = load_cases(&cases), i;

	(void)state;
	EXPECT_INT(n >= 40, 1, "the table has its cases");
	for (i = 0; i < n; i++)
		run_case(&cases[i]);
	free(cases);
	EXPECT_INT(mismatches, 0, "rows of tests/data/policy.cases that policy.c decides otherwise");
}

/* What may pass by itself, and what needs the user: one list, which send, the queue and the
 * doctor all read. */
static void test_temporary_codes(void **state)
{
	(void)state;
	EXPECT_INT(policy_code_is_temporary(OUTBOX_ETEMPFAIL), 1, "a 4xx, a timeout, a lost connection");
	EXPECT_INT(policy_code_is_temporary(OUTBOX_EPROTOCOL), 1, "a broken reply");
	EXPECT_INT(policy_code_is_temporary(OUTBOX_EAUTH), 0, "a refused login");
	EXPECT_INT(policy_code_is_temporary(OUTBOX_EUNAVAILABLE), 0, "TLS, a missing feature");
	EXPECT_INT(policy_code_is_temporary(OUTBOX_ECONFIG), 0, "a missing password");
	EXPECT_INT(policy_code_is_temporary(OUTBOX_EREFUSED), 0, "a refusal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_case),
		cmocka_unit_test(test_temporary_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
