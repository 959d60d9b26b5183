/* test_queue.c: the outbox's store layer: adding, claiming with a lease, recording attempts with
 * per-recipient outcomes (also through the recorder's thread), the retry schedule to 'failed',
 * retry, removal, concurrent claims, and claims that end with their runner. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outbox/outbox.h"
#include "queue.h"
#include "queue_owner.h"
#include "queue_recorder.h"
#include "record.h"
#include "store.h"
#include "unit.h"

#define T0 1700000000LL

static void set_now(long long t)
{
	char v[32];

	snprintf(v, sizeof v, "%lld", t);
	setenv("OUTBOX_NOW", v, 1);
}

static int setup(void **state)
{
	struct unit_store *f;

	set_now(T0);
	if ((f = unit_store_open("queue")) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	unsetenv("OUTBOX_NOW");
	return unit_store_close(*state);
}

/* Queue a message whose spool name is derived from `n`; recipients NULL-terminated. */
static long long add_msg(outbox *h, int n, const char *server, const char *const *rcpts)
{
	struct queue_entry_in in = {0};
	char spool[33];
	long long id = 0;

	snprintf(spool, sizeof spool, "%032x", n);
	in.spool_name = spool;
	in.account = "ann@example.org";
	in.server = server;
	in.sender = "ann@example.org";
	in.message_id = "<m1@example.org>";
	in.size = 1234;
	in.recipients = rcpts;
	if (queue_add(h, &in, &id) != 0)
		fail_msg("queue_add: %s", outbox_errmsg(h));
	return id;
}

static const char *const three[] = {"bob@example.net", "cat@example.net", "dan@example.net", NULL};
static const char *const one[] = {"bob@example.net", NULL};

static size_t claim(outbox *h, const char *owner, size_t max, struct queue_item ***items)
{
	size_t n = 0;

	if (queue_claim(h, owner, 300, NULL, 0, max, items, &n) != 0)
		fail_msg("queue_claim: %s", outbox_errmsg(h));
	return n;
}

/* Claim exactly one message (the oldest due) and drop the copy: the claim itself is the point. */
static void claim_one(outbox *h, const char *owner)
{
	struct queue_item **items;
	size_t n = 0;

	if (queue_claim(h, owner, 300, NULL, 0, 1, &items, &n) != 0)
		fail_msg("queue_claim: %s", outbox_errmsg(h));
	EXPECT_INT(n, 1, "claimed one");
	queue_items_free(items, n);
}

/* Finish a claim with every recipient left pending: a temporary failure. */
static enum queue_state defer(outbox *h, long long id, const char *owner)
{
	struct queue_result r = {.id = id, .owner = owner, .server = "main", .outcome = "deferred",
				 .reply = "421 4.3.2 try later"};
	enum queue_state s = QUEUE_REMOVED;

	if (queue_finish(h, &r, &s) != 0)
		fail_msg("queue_finish: %s", outbox_errmsg(h));
	return s;
}

static void test_add_then_claim(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	long long id = add_msg(f->h, 1, NULL, three);
	size_t n = claim(f->h, "runner-a", 10, &items);

	EXPECT_INT(n, 1, "claimed messages");
	EXPECT_INT(items[0]->id, id, "the id queue_add gave");
	EXPECT_STR(items[0]->spool_name, "00000000000000000000000000000001", "spool name");
	EXPECT_STR(items[0]->sender, "ann@example.org", "sender");
	EXPECT_STR(items[0]->message_id, "<m1@example.org>", "message id");
	EXPECT_STR(items[0]->server, "", "server '' follows the account");
	EXPECT_INT(items[0]->size, 1234, "size");
	EXPECT_INT(items[0]->state, QUEUE_QUEUED, "state");
	EXPECT_STR(items[0]->lease_owner, "runner-a", "lease owner");
	EXPECT_INT(items[0]->lease_until, T0 + 300, "lease until");
	EXPECT_INT(items[0]->nrcpts, 3, "recipients");
	EXPECT_STR(items[0]->rcpts[0].address, "bob@example.net", "first recipient, in given order");
	EXPECT_STR(items[0]->rcpts[2].address, "dan@example.net", "last recipient");
	EXPECT_INT(items[0]->rcpts[1].state, QUEUE_RCPT_PENDING, "a new recipient is pending");
	queue_items_free(items, n);
}

static void test_add_refuses_bad_input(void **state)
{
	struct unit_store *f = *state;
	struct queue_entry_in in = {.spool_name = "../../etc/passwd", .recipients = one};
	long long id = -1;

	EXPECT_INT(queue_add(f->h, &in, &id), OUTBOX_EINVALID, "a spool name that is not 32 hex digits");
	EXPECT_INT(id, 0, "no id on failure");
	in.spool_name = "0123456789abcdef0123456789abcdef";
	in.recipients = NULL;
	EXPECT_INT(queue_add(f->h, &in, &id), OUTBOX_EINVALID, "no recipients");
	EXPECT_STR(outbox_errfield(f->h), "recipients", "the field named");
}

static void test_not_before_delays_the_first_attempt(void **state)
{
	struct unit_store *f = *state;
	struct queue_entry_in in = {.spool_name = "0123456789abcdef0123456789abcdef", .recipients = one,
				    .not_before = T0 + 600};
	struct queue_item **items;
	long long id;

	assert_int_equal(queue_add(f->h, &in, &id), 0);
	EXPECT_INT(claim(f->h, "a", 10, &items), 0, "claimable before not_before");
	queue_items_free(items, 0);
	set_now(T0 + 600);
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "claimable at not_before");
	queue_items_free(items, 1);
}

static void test_lease_holds_then_expires(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	long long id = add_msg(f->h, 1, NULL, one);

	EXPECT_INT(claim(f->h, "runner-a", 10, &items), 1, "first runner claims");
	queue_items_free(items, 1);
	EXPECT_INT(claim(f->h, "runner-b", 10, &items), 0, "second runner, lease held");
	queue_items_free(items, 0);
	EXPECT_INT(claim(f->h, "runner-a", 10, &items), 0, "the same runner again, lease held");
	queue_items_free(items, 0);
	set_now(T0 + 300);
	EXPECT_INT(claim(f->h, "runner-b", 10, &items), 0, "at the lease's last second");
	queue_items_free(items, 0);
	set_now(T0 + 301);
	EXPECT_INT(claim(f->h, "runner-b", 10, &items), 1, "after the lease expired");
	EXPECT_INT(items[0]->id, id, "the same message");
	EXPECT_STR(items[0]->lease_owner, "runner-b", "now runner-b's");
	queue_items_free(items, 1);

	/* The first runner comes back late: its outcome is not wanted any more. */
	EXPECT_INT(queue_release(f->h, id, "runner-a"), OUTBOX_ECONFLICT, "release by the old owner");
	EXPECT_INT(defer(f->h, id, "runner-b"), QUEUE_QUEUED, "the new owner finishes");
}

static void test_release_makes_it_claimable(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	long long id = add_msg(f->h, 1, NULL, one);

	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "claimed");
	queue_items_free(items, 1);
	EXPECT_INT(queue_release(f->h, id, "a"), 0, "released");
	EXPECT_INT(claim(f->h, "b", 10, &items), 1, "another runner claims it at once");
	queue_items_free(items, 1);
}

static void test_partial_recipients(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	long long id = add_msg(f->h, 1, NULL, three);
	struct queue_rcpt_result out[] = {
		{"bob@example.net", QUEUE_RCPT_DELIVERED, "250 2.1.5 ok"},
		{"cat@example.net", QUEUE_RCPT_REFUSED, "550 5.1.1 no such user"},
		{"dan@example.net", QUEUE_RCPT_PENDING, "450 4.2.1 mailbox busy"},
	};
	struct queue_result r = {.id = id, .owner = "a", .server = "main", .outcome = "partial",
				 .reply = "250 2.0.0 queued as X", .rcpts = out, .nrcpts = 3};
	enum queue_state s;

	claim_one(f->h, "a");
	EXPECT_INT(queue_finish(f->h, &r, &s), 0, "finish");
	EXPECT_INT(s, QUEUE_QUEUED, "one recipient pending: still queued");

	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->attempts, 1, "attempts");
	EXPECT_INT(it->first_attempt_at, T0, "first attempt");
	if (it->next_attempt_at < T0 + 54 || it->next_attempt_at > T0 + 66)
		fail_msg("next attempt: got now+%lld, want 60 s +-10%%", it->next_attempt_at - T0);
	EXPECT_STR(it->lease_owner ? it->lease_owner : "(none)", "(none)", "lease released");
	EXPECT_INT(it->rcpts[0].state, QUEUE_RCPT_DELIVERED, "bob");
	EXPECT_INT(it->rcpts[1].state, QUEUE_RCPT_REFUSED, "cat");
	EXPECT_STR(it->rcpts[1].reply, "550 5.1.1 no such user", "cat's reply kept");
	EXPECT_INT(it->rcpts[2].state, QUEUE_RCPT_PENDING, "dan");
	EXPECT_STR(it->rcpts[2].reply, "450 4.2.1 mailbox busy", "dan's temporary reply");
	EXPECT_INT(it->nlog, 1, "one attempt logged");
	EXPECT_STR(it->log[0].outcome, "partial", "its outcome");
	EXPECT_STR(it->last_reply, "250 2.0.0 queued as X", "last reply");
	set_now(it->next_attempt_at);
	queue_item_free(it);

	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "due again");
	EXPECT_INT(items[0]->nrcpts, 1, "only the pending recipient is claimed");
	EXPECT_STR(items[0]->rcpts[0].address, "dan@example.net", "dan");
	queue_items_free(items, 1);

	/* A confused runner reports everyone pending: final answers stay final. */
	out[0].state = out[1].state = QUEUE_RCPT_PENDING;
	EXPECT_INT(queue_finish(f->h, &r, &s), 0, "finish again");
	EXPECT_INT(s, QUEUE_QUEUED, "dan still pending");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->rcpts[0].state, QUEUE_RCPT_DELIVERED, "bob never pending again");
	EXPECT_INT(it->rcpts[1].state, QUEUE_RCPT_REFUSED, "cat never pending again");
	set_now(it->next_attempt_at);
	queue_item_free(it);

	claim_one(f->h, "a");
	out[2].state = QUEUE_RCPT_DELIVERED;
	out[2].reply = "250 ok";
	r.rcpts = &out[2];
	r.nrcpts = 1;
	EXPECT_INT(queue_finish(f->h, &r, &s), 0, "finish the last one");
	EXPECT_INT(s, QUEUE_DONE, "no one pending: done, with cat's refusal recorded");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->state, QUEUE_DONE, "stored state");
	EXPECT_INT(it->nlog, 3, "three attempts logged");
	queue_item_free(it);
}

static void test_retry_schedule_until_failed(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	long long id = add_msg(f->h, 1, NULL, one), now = T0, prev = 0, first_delay = 0, delay;
	enum queue_state s = QUEUE_QUEUED;
	int attempts = 0;

	while (s == QUEUE_QUEUED && attempts < 1000) {
		EXPECT_INT(claim(f->h, "a", 10, &items), 1, "due");
		queue_items_free(items, 1);
		s = defer(f->h, id, "a");
		attempts++;
		assert_int_equal(queue_get(f->h, id, &it), 0);
		delay = it->next_attempt_at - now;
		if (s == QUEUE_QUEUED) {
			if (attempts == 1)
				first_delay = delay;
			if (delay > 3960 || delay < 1)
				fail_msg("attempt %d: delay %lld s, want 1..3960", attempts, delay);
			/* Doubling until the cap, give or take the jitter. */
			if (prev && prev < 1800 && (delay < prev * 2 * 9 / 11 || delay > prev * 2 * 11 / 9))
				fail_msg("attempt %d: delay %lld s after %lld s, want about double", attempts,
					 delay, prev);
			prev = delay;
			now = it->next_attempt_at;
			/* Not a second early. */
			set_now(now - 1);
			EXPECT_INT(claim(f->h, "a", 10, &items), 0, "not due yet");
			queue_items_free(items, 0);
			set_now(now);
		}
		queue_item_free(it);
	}
	if (first_delay < 54 || first_delay > 66)
		fail_msg("first delay: got %lld s, want 60 s +-10%%", first_delay);
	EXPECT_INT(s, QUEUE_FAILED, "given up");
	EXPECT_INT(now, T0 + 5 * 24 * 3600, "the last attempt is at the 5-day mark");
	if (attempts < 100 || attempts > 160)
		fail_msg("attempts over 5 days: got %d, want about 126 (hourly after the first hour)", attempts);
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->attempts, attempts, "attempts counted");
	EXPECT_INT(it->nlog, (size_t)attempts, "every attempt's reply kept");
	EXPECT_STR(it->log[attempts - 1].reply, "421 4.3.2 try later", "the last reply");
	queue_item_free(it);
	set_now(now + 7 * 24 * 3600);
	EXPECT_INT(claim(f->h, "a", 10, &items), 0, "a failed message is never claimed");
	queue_items_free(items, 0);
}

static void test_finish_by_non_owner_conflicts(void **state)
{
	struct unit_store *f = *state;
	struct queue_item *it;
	long long id = add_msg(f->h, 1, NULL, one);
	struct queue_result r = {.id = id, .owner = "runner-b", .outcome = "delivered"};

	EXPECT_INT(queue_finish(f->h, &r, NULL), OUTBOX_ECONFLICT, "finish before anyone claimed");
	claim_one(f->h, "runner-a");
	EXPECT_INT(queue_finish(f->h, &r, NULL), OUTBOX_ECONFLICT, "finish by another runner");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "not claimed by this runner", "the message says why");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->attempts, 0, "nothing recorded");
	EXPECT_STR(it->lease_owner, "runner-a", "the claim untouched");
	queue_item_free(it);
	r.id = 999;
	EXPECT_INT(queue_finish(f->h, &r, NULL), OUTBOX_ECONFLICT, "finish of a message not there");
}

static void test_uncertain_is_kept_and_shown(void **state)
{
	struct unit_store *f = *state;
	struct queue_item *it;
	long long id = add_msg(f->h, 1, NULL, one);
	struct queue_rcpt_result ok = {"bob@example.net", QUEUE_RCPT_DELIVERED, "250 ok"};
	struct queue_result r = {.id = id, .owner = "a", .server = "main", .outcome = "uncertain",
				 .reply = "connection lost after the final \".\"", .uncertain = 1};
	enum queue_state s;

	claim_one(f->h, "a");
	EXPECT_INT(queue_finish(f->h, &r, &s), 0, "a lost reply");
	EXPECT_INT(s, QUEUE_QUEUED, "retried");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->uncertain, 1, "may have been delivered");
	EXPECT_STR(it->message_id, "<m1@example.org>", "the Message-ID to reuse");
	EXPECT_CONTAINS(it->log[0].reply, "final", "the attempt says what happened");
	set_now(it->next_attempt_at);
	queue_item_free(it);

	claim_one(f->h, "a");
	r.uncertain = 0;
	r.outcome = "delivered";
	r.rcpts = &ok;
	r.nrcpts = 1;
	EXPECT_INT(queue_finish(f->h, &r, &s), 0, "delivered on retry");
	EXPECT_INT(s, QUEUE_DONE, "done");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->uncertain, 1, "still says a duplicate may have gone out");
	queue_item_free(it);
}

static void test_retry_makes_failed_due(void **state)
{
	struct unit_store *f = *state;
	static const struct retry_policy no_retries = {60, 3600, 0, 0};
	struct queue_item **items, *it;
	long long id = add_msg(f->h, 1, NULL, one), other = add_msg(f->h, 2, NULL, one);
	struct queue_result r = {.id = id, .owner = "a", .outcome = "deferred", .policy = &no_retries};
	enum queue_state s;
	size_t n;

	EXPECT_INT(claim(f->h, "a", 10, &items), 2, "claim both");
	queue_items_free(items, 2);
	EXPECT_INT(queue_finish(f->h, &r, &s), 0, "finish");
	EXPECT_INT(s, QUEUE_FAILED, "a policy that gives up at once");
	EXPECT_INT(queue_list(f->h, 1, &items, &n), 0, "list failed");
	EXPECT_INT(n, 1, "one failed");
	EXPECT_INT(items[0]->id, id, "the failed one");
	queue_items_free(items, n);
	EXPECT_INT(queue_list(f->h, 0, &items, &n), 0, "list all");
	EXPECT_INT(n, 2, "failed and queued");
	queue_items_free(items, n);

	set_now(T0 + 100);
	EXPECT_INT(queue_retry(f->h, id), 0, "retry");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->state, QUEUE_QUEUED, "queued again");
	EXPECT_INT(it->next_attempt_at, T0 + 100, "due now");
	EXPECT_INT(it->first_attempt_at, 0, "a fresh give-up window");
	queue_item_free(it);
	EXPECT_INT(claim(f->h, "b", 10, &items), 1, "claimable");
	EXPECT_INT(items[0]->id, id, "the retried one (the other is still a's)");
	queue_items_free(items, 1);

	EXPECT_INT(queue_retry(f->h, 0), 0, "retry all");
	EXPECT_INT(queue_retry(f->h, 4242), OUTBOX_ENOTFOUND, "retry a missing id");
	(void)other;
}

static void test_remove_soft_and_purge(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	long long soft = add_msg(f->h, 1, NULL, one), gone = add_msg(f->h, 2, NULL, one);
	char name[33] = "x", **names;
	size_t n;

	EXPECT_INT(queue_remove(f->h, soft, 0, name), 0, "soft removal");
	EXPECT_STR(name, "", "no spool name to delete after a soft removal");
	assert_int_equal(queue_get(f->h, soft, &it), 0);
	EXPECT_INT(it->state, QUEUE_REMOVED, "kept as removed");
	queue_item_free(it);
	EXPECT_INT(queue_remove(f->h, soft, 0, name), OUTBOX_EINVALID, "removed twice");
	EXPECT_INT(queue_retry(f->h, soft), OUTBOX_EINVALID, "a removed message is not retried");

	EXPECT_INT(queue_list(f->h, 0, &items, &n), 0, "list");
	EXPECT_INT(n, 1, "a removed message is not listed");
	queue_items_free(items, n);
	EXPECT_INT(queue_spool_names(f->h, &names), 0, "spool names");
	EXPECT_INT(strv_len(names), 2, "the removed one keeps its file, for undo");
	strv_free(names);

	/* A runner holding the message when it is purged learns at finish. */
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "claim the other");
	queue_items_free(items, 1);
	EXPECT_INT(queue_remove(f->h, gone, 1, name), 0, "purge");
	EXPECT_STR(name, "00000000000000000000000000000002", "the spool file to delete");
	EXPECT_INT(queue_get(f->h, gone, &it), OUTBOX_ENOTFOUND, "gone");
	{
		struct queue_result r = {.id = gone, .owner = "a", .outcome = "deferred"};
		EXPECT_INT(queue_finish(f->h, &r, NULL), OUTBOX_ECONFLICT, "the runner's finish after the purge");
	}
}

static void test_removed_while_claimed_conflicts(void **state)
{
	struct unit_store *f = *state;
	long long id = add_msg(f->h, 1, NULL, one);
	struct queue_result r = {.id = id, .owner = "a", .outcome = "deferred"};
	char name[33], **names;

	claim_one(f->h, "a");
	EXPECT_INT(queue_remove(f->h, id, 0, name), 0, "remove while a runner has it");
	EXPECT_INT(queue_finish(f->h, &r, NULL), OUTBOX_ECONFLICT, "the runner's finish");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "removed", "says it was removed");
	EXPECT_INT(queue_remove(f->h, id, 1, name), 0, "purge");
	EXPECT_INT(queue_finish(f->h, &r, NULL), OUTBOX_ECONFLICT, "finish after the purge");
	EXPECT_INT(queue_spool_names(f->h, &names), 0, "spool names");
	EXPECT_INT(strv_len(names), 0, "none left");
	strv_free(names);
}

static size_t claim_for(outbox *h, const char *server, long long *id)
{
	struct queue_item **items;
	size_t n = 0;

	if (queue_claim(h, "a", 300, server, 0, 10, &items, &n) != 0)
		fail_msg("queue_claim: %s", outbox_errmsg(h));
	*id = n ? items[0]->id : 0;
	queue_items_free(items, n);
	return n;
}

static void test_claim_by_server(void **state)
{
	struct unit_store *f = *state;
	long long via_account, pinned, got;

	unit_add_server(f->h, "work");
	unit_add_server(f->h, "other");
	unit_add_account(f->h, "Ann@Example.org", "work");
	via_account = add_msg(f->h, 1, "", one);
	pinned = add_msg(f->h, 2, "other", one);

	EXPECT_INT(claim_for(f->h, "nowhere", &got), 0, "a server nothing uses");
	EXPECT_INT(claim_for(f->h, "work", &got), 1, "the account's server");
	EXPECT_INT(got, via_account, "the message following its account (address case ignored)");
	EXPECT_INT(claim_for(f->h, "other", &got), 1, "a pinned server");
	EXPECT_INT(got, pinned, "the pinned message");
}

/* Two processes claim and finish in a loop until nothing is due; every id must come out exactly
 * once, and every finish must find its own claim. */
static void claimer(const char *home, const char *owner, int go, int out)
{
	outbox *h;
	char c;
	int status = 0;

	if (outbox_open(&h, home) < 0 || read(go, &c, 1) != 1)
		_exit(2);
	for (;;) {
		struct queue_item **items;
		size_t n, i;
		if (queue_claim(h, owner, 3600, NULL, 0, 10, &items, &n) != 0) {
			fprintf(stderr, "%s: %s\n", owner, outbox_errmsg(h));
			status = 3;
			break;
		}
		for (i = 0; i < n && status == 0; i++) {
			/* Record each delivery as a runner would: the other process gets its turns
			 * between these writes, so the claims interleave. */
			struct queue_rcpt_result ok = {items[i]->rcpts[0].address, QUEUE_RCPT_DELIVERED, "250 ok"};
			struct queue_result r = {.id = items[i]->id, .owner = owner, .outcome = "delivered",
						 .rcpts = &ok, .nrcpts = 1};
			enum queue_state s;
			if (write(out, &items[i]->id, sizeof items[i]->id) != (ssize_t)sizeof items[i]->id)
				status = 4;
			else if (queue_finish(h, &r, &s) != 0 || s != QUEUE_DONE)
				status = 5;
		}
		queue_items_free(items, n);
		if (n == 0 || status)
			break;
		/* SQLite's busy wait is not fair: without a pause the process that holds the lock
		 * tends to win every round while the other sleeps in its busy handler. */
		usleep(2000);
	}
	outbox_close(h);
	_exit(status);
}

static void test_concurrent_claims_never_overlap(void **state)
{
	struct unit_store *f = *state;
	enum { COUNT = 200 };
	int seen[COUNT + 1] = {0}, go[2], out[2][2], k, i, status, got_by[2] = {0, 0};
	pid_t pid[2];
	long long id;

	for (i = 1; i <= COUNT; i++)
		EXPECT_INT(add_msg(f->h, i, NULL, one), i, "queued");
	assert_int_equal(pipe(go), 0);
	for (k = 0; k < 2; k++) {
		assert_int_equal(pipe(out[k]), 0);
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0) {
			close(go[1]);
			close(out[k][0]);
			claimer(f->home, k ? "runner-b" : "runner-a", go[0], out[k][1]);
		}
		close(out[k][1]);
	}
	close(go[0]);
	assert_int_equal(write(go[1], "gg", 2), 2);
	close(go[1]);
	/* 200 ids fit in a pipe's buffer, so reading one child after the other cannot block either. */
	for (k = 0; k < 2; k++) {
		while (read(out[k][0], &id, sizeof id) == (ssize_t)sizeof id) {
			if (id < 1 || id > COUNT)
				fail_msg("child %d claimed id %lld, not one of ours", k, id);
			if (seen[id]++)
				fail_msg("id %lld claimed twice", id);
			got_by[k]++;
		}
		close(out[k][0]);
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		EXPECT_INT(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + status, 0, "child exit");
	}
	EXPECT_INT(got_by[0] + got_by[1], COUNT, "every message claimed exactly once");
	print_message("runner-a claimed %d, runner-b %d\n", got_by[0], got_by[1]);
}

/* A store at schema 3 (before the outbox existed) gains the queue on opening. */
/* A soft removal is journalled: outbox_undo brings the message back as it was, a purge makes the
 * journal entry go too, so undo skips to the removal before it. */
static void test_remove_then_undo(void **state)
{
	struct unit_store *f = *state;
	struct queue_item *it;
	long long kept = add_msg(f->h, 1, NULL, one), purged = add_msg(f->h, 2, NULL, one);
	char name[33], what[200];

	EXPECT_INT(queue_remove(f->h, kept, 0, name), 0, "remove one softly");
	EXPECT_INT(queue_remove(f->h, purged, 0, name), 0, "and another");
	EXPECT_INT(queue_remove(f->h, purged, 1, name), 0, "then purge the second");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo");
	EXPECT_CONTAINS(what, "queued message", "undo says what came back");
	assert_int_equal(queue_get(f->h, kept, &it), 0);
	EXPECT_INT(it->state, QUEUE_QUEUED, "the first message's state after undo");
	queue_item_free(it);
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), OUTBOX_ENOTHING, "nothing more: the purge was final");
}

/* A failed (given up) message comes back failed, not queued: undo is not a retry. */
static void test_undo_restores_failed_as_failed(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	long long id = add_msg(f->h, 1, NULL, one);
	char name[33], what[200];
	struct queue_rcpt_result rr = {"bob@example.net", QUEUE_RCPT_PENDING, "451 later"};
	struct queue_result r = {.id = id, .owner = "a", .outcome = "deferred", .rcpts = &rr, .nrcpts = 1};
	struct retry_policy brief = {60, 60, 30, 0};
	enum queue_state st;

	r.policy = &brief;
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "claim");
	queue_items_free(items, 1);
	EXPECT_INT(queue_finish(f->h, &r, &st), 0, "the first attempt");
	set_now(T0 + 100);
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "claim again");
	queue_items_free(items, 1);
	EXPECT_INT(queue_finish(f->h, &r, &st), 0, "a second attempt past the give-up time");
	EXPECT_INT(st, QUEUE_FAILED, "given up");
	EXPECT_INT(queue_remove(f->h, id, 0, name), 0, "remove it");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo");
	assert_int_equal(queue_get(f->h, id, &it), 0);
	EXPECT_INT(it->state, QUEUE_FAILED, "state after undo");
	queue_item_free(it);
}

/* A runner that marked a message as being sent and died before recording the outcome: the next
 * claim says it may have been delivered, in the row and in its attempt log. A message that was
 * never marked is taken over quietly. */
static void test_interrupted_send_is_reclaimed_as_uncertain(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	long long sent = add_msg(f->h, 1, NULL, one), waiting = add_msg(f->h, 2, NULL, one);
	int marked[1];

	EXPECT_INT(claim(f->h, "dead", 10, &items), 2, "the first runner claims both");
	queue_items_free(items, 2);
	EXPECT_INT(queue_mark_sending_group(f->h, "dead", 10, &sent, 1, marked), 0, "mark the first");
	EXPECT_INT(marked[0], 1, "marked");
	set_now(T0 + 301);
	EXPECT_INT(claim(f->h, "next", 10, &items), 2, "the next runner takes both over");
	EXPECT_INT(items[0]->id == sent ? items[0]->uncertain : items[1]->uncertain, 1,
		   "the marked one comes back uncertain");
	EXPECT_INT(items[0]->id == waiting ? items[0]->uncertain : items[1]->uncertain, 0,
		   "the unmarked one does not");
	queue_items_free(items, 2);
	assert_int_equal(queue_get(f->h, sent, &it), 0);
	EXPECT_INT(it->uncertain, 1, "stored as may have been delivered");
	EXPECT_INT(it->nlog, 1, "one attempt logged");
	EXPECT_STR(it->log[0].outcome, "uncertain", "the logged outcome");
	EXPECT_CONTAINS(it->last_reply, "may have been delivered", "the reply a user reads");
	queue_item_free(it);
}

/* Outcomes of a group commit together, but a message removed meanwhile fails alone, and a marked
 * message that was not tried keeps its mark (the next group, which tries it, marks it again). */
static void test_finish_group(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	long long ids[3], unsent;
	struct queue_rcpt_result ok = {"bob@example.net", QUEUE_RCPT_DELIVERED, "250 ok"};
	struct queue_result r[3];
	const struct queue_result *rp[3] = {&r[0], &r[1], &r[2]};
	enum queue_state states[3];
	int marked[4], rcs[3];
	char name[33];
	size_t i;

	for (i = 0; i < 3; i++)
		ids[i] = add_msg(f->h, (int)i + 1, NULL, one);
	unsent = add_msg(f->h, 9, NULL, one);
	EXPECT_INT(claim(f->h, "a", 10, &items), 4, "claim all");
	queue_items_free(items, 4);
	{
		long long all[4] = {ids[0], ids[1], ids[2], unsent};
		EXPECT_INT(queue_mark_sending_group(f->h, "a", 10, all, 4, marked), 0, "mark the group");
	}
	EXPECT_INT(queue_remove(f->h, ids[1], 0, name), 0, "the second is removed meanwhile");
	for (i = 0; i < 3; i++)
		r[i] = (struct queue_result){.id = ids[i], .owner = "a", .outcome = "attempted", .rcpts = &ok,
					     .nrcpts = 1};
	EXPECT_INT(queue_finish_group(f->h, rp, 3, rcs, states), 0, "finish the group");
	EXPECT_INT(rcs[0], 0, "first recorded");
	EXPECT_INT(rcs[1], OUTBOX_ECONFLICT, "the removed one conflicts");
	EXPECT_INT(rcs[2], 0, "third recorded despite the second");
	EXPECT_INT(states[0], QUEUE_DONE, "first done");
	EXPECT_INT(states[2], QUEUE_DONE, "third done");
	assert_int_equal(queue_get(f->h, ids[1], &it), 0);
	EXPECT_INT(it->state, QUEUE_REMOVED, "the removed one stays removed");
	EXPECT_INT(it->nlog, 0, "and has no attempt from the failed finish");
	queue_item_free(it);
	assert_int_equal(queue_get(f->h, unsent, &it), 0);
	EXPECT_INT(it->sending_since > 0, 1, "the untried one keeps its mark");
	EXPECT_STR(it->lease_owner ? it->lease_owner : "(none)", "a", "and its claim");
	queue_item_free(it);
}

/* What the recorder's callback saw, in the order it saw it. */
struct recorded {
	int calls, order[4], rc[4];
	enum queue_state state[4];
};

static struct recorded seen;

static void note_recorded(void *ctx, const int *rcs, const enum queue_state *states, const char *error)
{
	int k = seen.calls++;

	seen.order[k] = (int)(long)ctx;
	seen.rc[k] = rcs[0];
	seen.state[k] = states[0];
}

/* The recorder commits each submitted group on its own handle, in order, tells the callback, and
 * a drain returns only when all of that is done; stopping it records what is still waiting. */
static void test_recorder_records_in_order(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items, *it;
	struct queue_rcpt_result ok = {"bob@example.net", QUEUE_RCPT_DELIVERED, "250 ok"};
	struct queue_result r[3];
	const struct queue_result *rp[3] = {&r[0], &r[1], &r[2]};
	struct recorder *rec;
	long long ids[3];
	size_t i;

	memset(&seen, 0, sizeof seen);
	for (i = 0; i < 3; i++)
		ids[i] = add_msg(f->h, (int)i + 1, NULL, one);
	EXPECT_INT(claim(f->h, "a", 10, &items), 3, "claim all");
	queue_items_free(items, 3);
	for (i = 0; i < 3; i++)
		r[i] = (struct queue_result){.id = ids[i], .owner = "a", .outcome = "attempted", .rcpts = &ok,
					     .nrcpts = 1};
	assert_int_equal(recorder_start(f->h, NULL, &rec), 0);
	recorder_submit(rec, rp, 1, note_recorded, (void *)1L);
	recorder_submit(rec, rp + 1, 1, note_recorded, (void *)2L);
	recorder_drain(rec);
	EXPECT_INT(seen.calls, 2, "both groups told after the drain");
	EXPECT_INT(seen.order[0] * 10 + seen.order[1], 12, "in the order submitted");
	EXPECT_INT(seen.rc[1], 0, "recorded");
	EXPECT_INT(seen.state[1], QUEUE_DONE, "as done");
	assert_int_equal(queue_get(f->h, ids[1], &it), 0);
	EXPECT_STR(queue_state_name(it->state), "done", "this handle sees the recorder's commit");
	queue_item_free(it);
	recorder_submit(rec, rp + 2, 1, note_recorded, (void *)3L);
	recorder_stop(rec);
	EXPECT_INT(seen.calls, 3, "what waited at the stop was recorded");
	assert_int_equal(queue_get(f->h, ids[2], &it), 0);
	EXPECT_STR(queue_state_name(it->state), "done", "the last one too");
	queue_item_free(it);
}

/* A call handed to the recorder (a claim made while a batch is sent) runs in the recorder's
 * thread, on its own handle, after the groups handed in before it; waiting for its ticket waits
 * for it and nothing after it. */
struct call_seen {
	outbox *h;
	pthread_t thread;
	int calls_before; /* groups told before the call ran */
	char state_before[16];
	long long id;
};

static void note_call(outbox *h, void *ctx)
{
	struct call_seen *c = ctx;
	struct queue_item *it = NULL;

	c->h = h;
	c->thread = pthread_self();
	c->calls_before = seen.calls;
	if (queue_get(h, c->id, &it) == 0)
		snprintf(c->state_before, sizeof c->state_before, "%s", queue_state_name(it->state));
	queue_item_free(it);
}

static void test_recorder_calls_in_turn(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	struct queue_rcpt_result ok = {"bob@example.net", QUEUE_RCPT_DELIVERED, "250 ok"};
	struct queue_result r[2];
	const struct queue_result *rp[2] = {&r[0], &r[1]};
	struct call_seen c;
	struct recorder *rec;
	unsigned long long ticket;
	long long ids[2];
	size_t i;

	memset(&seen, 0, sizeof seen);
	memset(&c, 0, sizeof c);
	for (i = 0; i < 2; i++)
		ids[i] = add_msg(f->h, (int)i + 1, NULL, one);
	EXPECT_INT(claim(f->h, "a", 10, &items), 2, "claim both");
	queue_items_free(items, 2);
	for (i = 0; i < 2; i++)
		r[i] = (struct queue_result){.id = ids[i], .owner = "a", .outcome = "attempted", .rcpts = &ok,
					     .nrcpts = 1};
	c.id = ids[0];
	assert_int_equal(recorder_start(f->h, NULL, &rec), 0);
	EXPECT_INT(recorder_ticket(rec), 0, "no ticket before anything is handed in");
	recorder_submit(rec, rp, 1, note_recorded, (void *)1L);
	ticket = recorder_call(rec, note_call, &c);
	EXPECT_INT(ticket, 2, "the call's ticket follows the group's");
	recorder_wait(rec, ticket);
	assert_non_null(c.h);
	EXPECT_INT(c.h != f->h, 1, "the call got the recorder's handle, not the caller's");
	EXPECT_INT(pthread_equal(c.thread, pthread_self()), 0, "the call ran in the recorder's thread");
	EXPECT_INT(c.calls_before, 1, "the group handed in before the call was told before it ran");
	EXPECT_STR(c.state_before, "done", "and committed: the call saw it");
	recorder_submit(rec, rp + 1, 1, note_recorded, (void *)2L);
	EXPECT_INT(recorder_ticket(rec), 3, "the next group's ticket");
	recorder_stop(rec);
	EXPECT_INT(seen.calls, 2, "both groups told by the stop");
}

static void test_migrates_from_version_3(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	long long id;

	outbox_close(f->h);
	f->h = NULL;
	{
		outbox *h;
		assert_int_equal(outbox_open(&h, f->home), 0);
		assert_int_equal(sqlite3_exec(h->db,
					      "DROP TABLE queue_attempts; DROP TABLE queue_recipients;"
					      " DROP TABLE queue; ALTER TABLE removals DROP COLUMN prior_state;"
					      " ALTER TABLE accounts DROP COLUMN retry_first;"
					      " ALTER TABLE accounts DROP COLUMN retry_max;"
					      " ALTER TABLE accounts DROP COLUMN give_up;"
					      /* schema 7's OAuth columns, which a version-3 store lacks */
					      " ALTER TABLE servers DROP COLUMN oauth_provider;"
					      " ALTER TABLE servers DROP COLUMN oauth_client_id;"
					      " ALTER TABLE servers DROP COLUMN oauth_tenant;"
					      " ALTER TABLE servers DROP COLUMN oauth_device_url;"
					      " ALTER TABLE servers DROP COLUMN oauth_authorize_url;"
					      " ALTER TABLE servers DROP COLUMN oauth_token_url;"
					      " ALTER TABLE servers DROP COLUMN oauth_revoke_url;"
					      " ALTER TABLE servers DROP COLUMN oauth_scope;"
					      " ALTER TABLE servers DROP COLUMN oauth_secret_id;"
					      " ALTER TABLE servers DROP COLUMN oauth_secret_source;"
					      " ALTER TABLE servers DROP COLUMN oauth_tls_ca;"
					      /* the aliases and EHLO name step's, likewise */
					      " DROP TABLE aliases; ALTER TABLE servers DROP COLUMN helo; DROP TABLE host_names;"
					      " PRAGMA user_version = 3",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		outbox_close(h);
	}
	EXPECT_INT(outbox_open(&f->h, f->home), 0, "open a version-3 store");
	EXPECT_INT(outbox_schema_version(f->h), STORE_SCHEMA_VERSION, "migrated");
	id = add_msg(f->h, 7, NULL, three);
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "the queue works after migrating");
	EXPECT_INT(items[0]->id, id, "the queued message");
	queue_items_free(items, 1);
}

/* Schema 9 keeps each queued message's DSN requests: a row queued before it reads as the
 * defaults, and a row queued after it gives back what was asked. */
static void test_migrates_from_version_8_dsn(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	struct queue_entry_in in = {0};
	struct dsn_request asked;
	long long old_id, new_id;
	size_t n, i;

	old_id = add_msg(f->h, 8, NULL, one);
	outbox_close(f->h);
	f->h = NULL;
	{
		outbox *h;
		assert_int_equal(outbox_open(&h, f->home), 0);
		assert_int_equal(sqlite3_exec(h->db,
					      "ALTER TABLE queue DROP COLUMN dsn_notify;"
					      " ALTER TABLE queue DROP COLUMN dsn_ret;"
					      " ALTER TABLE queue DROP COLUMN dsn_envid;"
					      /* nor the aliases and EHLO name a later step adds */
					      " DROP TABLE aliases; ALTER TABLE servers DROP COLUMN helo; DROP TABLE host_names;"
					      " PRAGMA user_version = 8",
					      NULL, NULL, NULL),
				 SQLITE_OK);
		outbox_close(h);
	}
	EXPECT_INT(outbox_open(&f->h, f->home), 0, "open a version-8 store");
	EXPECT_INT(outbox_schema_version(f->h), STORE_SCHEMA_VERSION, "migrated");
	assert_int_equal(dsn_check(f->h, "success,failure", "full", "env-1", &asked), 0);
	in.spool_name = "00000000000000000000000000000009";
	in.account = in.sender = "ann@example.org";
	in.message_id = "<m9@example.org>";
	in.size = 10;
	in.dsn = &asked;
	in.recipients = one;
	EXPECT_INT(queue_add(f->h, &in, &new_id), 0, "queue a message with DSN requests");
	n = claim(f->h, "a", 10, &items);
	EXPECT_INT(n, 2, "both messages are due");
	for (i = 0; i < n; i++) {
		const struct queue_item *it = items[i];
		int old = it->id == old_id;
		EXPECT_INT(it->id == old_id || it->id == new_id, 1, "a known message");
		EXPECT_STR(it->dsn.notify, old ? "" : "SUCCESS,FAILURE", old ? "old row: default NOTIFY" : "NOTIFY kept");
		EXPECT_STR(it->dsn.ret, old ? "" : "FULL", old ? "old row: default RET" : "RET kept");
		EXPECT_STR(it->dsn.envid, old ? "" : "env-1", old ? "old row: default ENVID" : "ENVID kept");
	}
	queue_items_free(items, n);
}

/* -- claims that end with their runner ---------------------------------------------------- */

/* A runner in a child process: it takes its name and lock in the child, claims every due
 * message, marks the first as being sent when `mark`, passes its name up `ready`, and on a byte
 * (or EOF) on `go` kills itself with SIGKILL, so no cleanup of its own runs. The lock must be
 * taken after fork: one taken before would belong to a file description the parent shares, and
 * the parent would keep it alive after the child died. */
struct child_runner {
	pid_t pid;
	int go;         /* write a byte, or close, to have it killed */
	char name[128]; /* its owner name */
	size_t claimed;
};

static void child_runner_main(const char *home, int mark, int ready, int go)
{
	struct queue_owner o;
	struct queue_item **items = NULL;
	outbox *h;
	size_t n = 0;
	int marked[1];
	char c;

	if (outbox_open(&h, home) < 0 || queue_owner_hold(h, &o) < 0 ||
	    queue_claim(h, o.name, 300, NULL, 0, 100, &items, &n) < 0)
		_exit(2);
	if (mark && n > 0 && queue_mark_sending_group(h, o.name, 300, &items[0]->id, 1, marked) < 0)
		_exit(3);
	if (write(ready, o.name, sizeof o.name) != (ssize_t)sizeof o.name ||
	    write(ready, &n, sizeof n) != (ssize_t)sizeof n)
		_exit(4);
	/* A byte or EOF: either means die now. */
	if (read(go, &c, 1) < 0)
		_exit(5);
	raise(SIGKILL);
	_exit(6);
}

static void child_runner_start(struct child_runner *c, const char *home, int mark)
{
	int ready[2], go[2];

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(ready[0]);
		close(go[1]);
		child_runner_main(home, mark, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	c->go = go[1];
	if (read(ready[0], c->name, sizeof c->name) != (ssize_t)sizeof c->name ||
	    read(ready[0], &c->claimed, sizeof c->claimed) != (ssize_t)sizeof c->claimed)
		fail_msg("the child runner did not start (see its exit status)");
	close(ready[0]);
}

static void child_runner_kill(struct child_runner *c)
{
	int status = 0;

	close(c->go);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("child runner: got status %#x, want killed by SIGKILL", status);
}

/* Whether $home/runners/<id of name> exists. */
static int lock_file_exists(const char *home, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s/%s", home, QUEUE_OWNER_DIR, strrchr(name, ':') + 1);
	return stat(path, &st) == 0;
}

static long long next_due(outbox *h)
{
	long long at = -1;

	if (queue_next_due(h, NULL, &at) != 0)
		fail_msg("queue_next_due: %s", outbox_errmsg(h));
	return at;
}

/* The measured problem: a killed runner held its messages for the whole lease. Now the clock
 * does not move, and the next claim takes them; the one it was sending comes back as "may have
 * been delivered". While it lives, nobody takes them. */
static void test_dead_runners_claims_are_taken_over_at_once(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	struct child_runner c;
	long long sent = add_msg(f->h, 1, NULL, one), waiting = add_msg(f->h, 2, NULL, one);

	child_runner_start(&c, f->home, 1);
	EXPECT_INT(c.claimed, 2, "the child runner claimed both");
	EXPECT_INT(claim(f->h, "next", 10, &items), 0, "claimable while their runner lives");
	queue_items_free(items, 0);
	EXPECT_INT(next_due(f->h), T0 + 300, "a live runner's messages are due when its lease ends");
	EXPECT_INT(lock_file_exists(f->home, c.name), 1, "the live runner's lock file is there");

	child_runner_kill(&c);
	EXPECT_INT(next_due(f->h), T0, "due now (the clock has not moved): their runner is dead");
	EXPECT_INT(claim(f->h, "next", 10, &items), 2, "claimed at once after the kill");
	EXPECT_INT(items[0]->id == sent ? items[0]->uncertain : items[1]->uncertain, 1,
		   "the message it was sending comes back as may have been delivered");
	EXPECT_INT(items[0]->id == waiting ? items[0]->uncertain : items[1]->uncertain, 0,
		   "the one it had not begun does not");
	EXPECT_STR(items[0]->lease_owner, "next", "the new owner");
	queue_items_free(items, 2);
	EXPECT_INT(lock_file_exists(f->home, c.name), 0, "the dead runner's lock file is removed");
}

/* flock belongs to the open file: a check from the process that holds the lock, through a
 * descriptor of its own, neither takes nor (on closing) drops it. A runner that stops with claims
 * left (a failed run) frees them at once. */
static void test_live_runner_in_this_process_keeps_its_claims(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	struct queue_owner a;

	add_msg(f->h, 1, NULL, one);
	assert_int_equal(queue_owner_hold(f->h, &a), 0);
	EXPECT_INT(claim(f->h, a.name, 10, &items), 1, "the runner claims");
	queue_items_free(items, 1);
	EXPECT_INT(claim(f->h, "b", 10, &items), 0, "another claim leaves a live runner's message");
	queue_items_free(items, 0);
	EXPECT_INT(claim(f->h, "c", 10, &items), 0, "and again: the first check kept the lock in place");
	queue_items_free(items, 0);
	EXPECT_INT(queue_owner_check(f->h, a.name, 1), QUEUE_OWNER_ALIVE, "checked from its own process");
	queue_owner_drop(&a);
	EXPECT_INT(lock_file_exists(f->home, a.name), 0, "dropping removes the lock file");
	EXPECT_INT(claim(f->h, "b", 10, &items), 1, "the claim a stopped runner left is free at once");
	queue_items_free(items, 1);
}

/* A runner that died without a claim is named by no row: the next runner to start removes its
 * file. */
static void test_hold_removes_dead_runners_files(void **state)
{
	struct unit_store *f = *state;
	struct child_runner c;
	struct queue_owner o;

	child_runner_start(&c, f->home, 0);
	EXPECT_INT(c.claimed, 0, "nothing to claim");
	child_runner_kill(&c);
	EXPECT_INT(lock_file_exists(f->home, c.name), 1, "a killed runner leaves its file");
	assert_int_equal(queue_owner_hold(f->h, &o), 0);
	EXPECT_INT(lock_file_exists(f->home, c.name), 0, "the next runner removed it");
	EXPECT_INT(lock_file_exists(f->home, o.name), 1, "and has its own");
	queue_owner_drop(&o);
}

/* Owners whose life this host cannot see keep their claims for the whole lease, as before. */
static void test_unverifiable_owners_wait_for_their_lease(void **state)
{
	struct unit_store *f = *state;
	struct queue_item **items;
	char host[64], older[128], other_boot[128], path[256];
	const struct {
		const char *owner, *what;
	} cases[] = {
		{"elsewhere.example.org:4242:0123456789abcdef", "a runner on another host"},
		{older, "an older runner's name, which has no lock"},
		{other_boot, "a lock file from another boot"},
	};
	FILE *fp;
	size_t i;

	assert_int_equal(gethostname(host, sizeof host), 0);
	host[sizeof host - 1] = '\0';
	snprintf(older, sizeof older, "%s:4242:0123abcd", host);
	snprintf(other_boot, sizeof other_boot, "%s:4242:fedcba9876543210", host);
	/* A free lock written under another boot: another machine of the same name on a shared
	 * disk, or this one before a restart; which of the two cannot be told. */
	snprintf(path, sizeof path, "%s/%s", f->home, QUEUE_OWNER_DIR);
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/%s/fedcba9876543210", f->home, QUEUE_OWNER_DIR);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%s\n00000000-0000-0000-0000-000000000000\n", other_boot);
	fclose(fp);
	for (i = 0; i < 3; i++) {
		add_msg(f->h, (int)i + 1, NULL, one);
		claim_one(f->h, cases[i].owner);
	}
	for (i = 0; i < 3; i++)
		EXPECT_INT(queue_owner_check(f->h, cases[i].owner, 1), QUEUE_OWNER_UNKNOWN, cases[i].what);
	EXPECT_INT(claim(f->h, "next", 10, &items), 0, "within the lease");
	queue_items_free(items, 0);
	EXPECT_INT(next_due(f->h), T0 + 300, "due when the lease ends");
	set_now(T0 + 300);
	EXPECT_INT(claim(f->h, "next", 10, &items), 0, "at the lease's last second");
	queue_items_free(items, 0);
	set_now(T0 + 301);
	EXPECT_INT(claim(f->h, "next", 10, &items), 3, "after the lease");
	queue_items_free(items, 3);
	snprintf(path, sizeof path, "%s/%s/fedcba9876543210", f->home, QUEUE_OWNER_DIR);
	EXPECT_INT(access(path, F_OK), 0, "another boot's file is left alone");
}

/* A run with --all: every queued message through the run's server is due now; failed ones stay
 * failed. */
static void test_due_now_leaves_failed_alone(void **state)
{
	struct unit_store *f = *state;
	struct queue_entry_in in = {.spool_name = "0123456789abcdef0123456789abcdef", .recipients = one,
				    .not_before = T0 + 600};
	struct queue_item **items, *it;
	long long later, pinned, failed = add_msg(f->h, 1, NULL, one);
	struct queue_rcpt_result rr = {"bob@example.net", QUEUE_RCPT_PENDING, "451 later"};
	struct queue_result r = {.id = failed, .owner = "a", .outcome = "deferred", .rcpts = &rr, .nrcpts = 1};
	struct retry_policy none = {60, 60, 0, 0};
	enum queue_state st;

	r.policy = &none;
	claim_one(f->h, "a");
	EXPECT_INT(queue_finish(f->h, &r, &st), 0, "an attempt past the give-up time");
	EXPECT_INT(st, QUEUE_FAILED, "given up");
	assert_int_equal(queue_add(f->h, &in, &later), 0);
	in.spool_name = "fedcba9876543210fedcba9876543210";
	in.server = "other";
	assert_int_equal(queue_add(f->h, &in, &pinned), 0);
	EXPECT_INT(claim(f->h, "a", 10, &items), 0, "nothing due before");
	queue_items_free(items, 0);

	EXPECT_INT(queue_due_now(f->h, "other", 0), 0, "queue_due_now for one server");
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "due now: the message through that server");
	EXPECT_INT(items[0]->id, pinned, "the message pinned to it");
	queue_items_free(items, 1);
	EXPECT_INT(queue_due_now(f->h, NULL, 0), 0, "queue_due_now for all");
	EXPECT_INT(claim(f->h, "a", 10, &items), 1, "due now: the other queued message");
	EXPECT_INT(items[0]->id, later, "the one queued for later");
	queue_items_free(items, 1);
	assert_int_equal(queue_get(f->h, failed, &it), 0);
	EXPECT_INT(it->state, QUEUE_FAILED, "the failed message stays failed");
	queue_item_free(it);
}

/* A run for one message (`queue run --id`, Retry in the UI): only that message is made due and
 * claimed, however many others are due or waiting. */
static void test_id_filter_claims_only_that_message(void **state)
{
	struct unit_store *f = *state;
	struct queue_entry_in in = {.spool_name = "0123456789abcdef0123456789abcdef", .recipients = one,
				    .not_before = T0 + 600};
	long long due = add_msg(f->h, 1, NULL, one), waiting;
	struct queue_item **items;
	size_t n = 0;

	assert_int_equal(queue_add(f->h, &in, &waiting), 0);
	EXPECT_INT(queue_due_now(f->h, NULL, waiting), 0, "queue_due_now for one message");
	if (queue_claim(f->h, "a", 300, NULL, waiting, 10, &items, &n) != 0)
		fail_msg("queue_claim: %s", outbox_errmsg(f->h));
	EXPECT_INT(n, 1, "claimed with an id filter");
	EXPECT_INT(items[0]->id, waiting, "the message asked for, not the older one that was due");
	queue_items_free(items, n);
	EXPECT_INT(claim(f->h, "b", 10, &items), 1, "the other message is still there for any run");
	EXPECT_INT(items[0]->id, due, "the one that was due all along");
	queue_items_free(items, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_add_then_claim),
		T(test_add_refuses_bad_input),
		T(test_not_before_delays_the_first_attempt),
		T(test_lease_holds_then_expires),
		T(test_release_makes_it_claimable),
		T(test_partial_recipients),
		T(test_retry_schedule_until_failed),
		T(test_finish_by_non_owner_conflicts),
		T(test_uncertain_is_kept_and_shown),
		T(test_retry_makes_failed_due),
		T(test_remove_soft_and_purge),
		T(test_removed_while_claimed_conflicts),
		T(test_claim_by_server),
		T(test_concurrent_claims_never_overlap),
		T(test_remove_then_undo),
		T(test_undo_restores_failed_as_failed),
		T(test_interrupted_send_is_reclaimed_as_uncertain),
		T(test_finish_group),
		T(test_recorder_records_in_order),
		T(test_recorder_calls_in_turn),
		T(test_migrates_from_version_3),
		T(test_migrates_from_version_8_dsn),
		T(test_dead_runners_claims_are_taken_over_at_once),
		T(test_live_runner_in_this_process_keeps_its_claims),
		T(test_hold_removes_dead_runners_files),
		T(test_unverifiable_owners_wait_for_their_lease),
		T(test_due_now_leaves_failed_alone),
		T(test_id_filter_claims_only_that_message),
	};
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
