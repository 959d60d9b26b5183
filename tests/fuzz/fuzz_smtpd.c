/* fuzz_smtpd.c: libFuzzer target for the `sendmail -bs` engine. The input is what a client sends;
 * it is fed whole and again in pieces, and both runs must give the same replies and data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"
#include "fuzz.h"

#define MAX_RCPT 5

struct trace {
	uint64_t hash; /* of every reply and data byte, in order, with a mark where a message ends */
	size_t messages, replies;
};

static void mix(struct trace *t, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		t->hash = (t->hash ^ (unsigned char)s[i]) * 1099511628211ULL;
}

/* Every reply is whole lines "ddd-" or "ddd ", the last with a space, each ending in CRLF,
 * printable ASCII between (the hostname, set here, is too), and fits its buffer. */
static void check_reply(const struct smtpd *s)
{
	size_t i = 0;
	int last = 0;

	CHECK(s->reply_len >= 6 && s->reply_len < SMTPD_MAX_REPLY);
	CHECK(s->reply[s->reply_len - 2] == '\r' && s->reply[s->reply_len - 1] == '\n');
	while (i < s->reply_len) {
		CHECK(!last);
		CHECK(s->reply[i] >= '2' && s->reply[i] <= '5');
		CHECK(s->reply[i + 1] >= '0' && s->reply[i + 1] <= '9' && s->reply[i + 2] >= '0' && s->reply[i + 2] <= '9');
		CHECK(s->reply[i + 3] == ' ' || s->reply[i + 3] == '-');
		last = s->reply[i + 3] == ' ';
		for (i += 4; s->reply[i] != '\r'; i++)
			CHECK((unsigned char)s->reply[i] >= 0x20 && (unsigned char)s->reply[i] < 0x7f);
		CHECK(s->reply[i + 1] == '\n');
		i += 2;
	}
	CHECK(last);
}

/* Each DSN value is "" (not given) or what dsn.c's own checks give back unchanged. */
static int dsn_check_values(const struct dsn_request *d)
{
	char canon[sizeof d->notify > sizeof d->ret ? sizeof d->notify : sizeof d->ret];

	if (*d->notify && (dsn_notify_canonical(d->notify, canon, sizeof canon) < 0 || strcmp(canon, d->notify)))
		return 0;
	if (*d->ret && (dsn_ret_canonical(d->ret, canon, sizeof canon) < 0 || strcmp(canon, d->ret)))
		return 0;
	return *d->envid == '\0' || dsn_envid_problem(d->envid) == NULL;
}

static void run(const char *in, size_t len, size_t piece, struct trace *t)
{
	struct smtpd_config cfg = {"fuzz.test", MAX_RCPT, NULL, NULL};
	struct smtpd s;
	size_t off = 0;
	int quit = 0;

	memset(t, 0, sizeof *t);
	smtpd_init(&s, &cfg);
	smtpd_greeting(&s);
	check_reply(&s);
	while (off < len && !quit) {
		size_t end = off + piece < len ? off + piece : len;

		while (off < end && !quit) {
			enum smtpd_event ev;
			size_t used = smtpd_feed(&s, in + off, end - off, &ev);

			CHECK(used <= end - off);
			off += used;
			switch (ev) {
			case SMTPD_MORE:
				CHECK(off == end);
				break;
			case SMTPD_DATA:
				/* Unstuffing only removes bytes: data is the input's, or the CR held back. */
				CHECK(s.data_len > 0);
				CHECK((s.data >= in && s.data + s.data_len <= in + len) ||
				      (s.data_len == 1 && s.data[0] == '\r'));
				mix(t, s.data, s.data_len);
				break;
			case SMTPD_MESSAGE:
				CHECK(s.nrecipients >= 1 && s.nrecipients <= MAX_RCPT);
				CHECK(s.sender != NULL && s.recipients[s.nrecipients] == NULL);
				/* The DSN values handed on are ones the send path takes (dsn.c decides). */
				CHECK(dsn_check_values(&s.dsn));
				t->messages++;
				mix(t, "\0", 1);
				smtpd_delivered(&s, 250, "2.0.0", "Ok\r\n\x1b");
				check_reply(&s);
				mix(t, s.reply, s.reply_len);
				break;
			case SMTPD_QUIT:
				quit = 1;
				/* fall through */
			case SMTPD_REPLY:
				check_reply(&s);
				t->replies++;
				mix(t, s.reply, s.reply_len);
				break;
			}
			/* Nothing taken only when a held-back CR comes out. */
			CHECK(used > 0 || ev == SMTPD_DATA);
		}
	}
	smtpd_eof(&s);
	smtpd_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole, pieces;
	const char *in = (const char *)data;

	run(in, size, size ? size : 1, &whole);
	run(in, size, 1 + size % 13, &pieces);
	CHECK(whole.hash == pieces.hash && whole.messages == pieces.messages && whole.replies == pieces.replies);
	return 0;
}
