/* test_message.c: message_prepare as a table of inputs and the exact wire bytes each becomes, every
 * case fed whole and in 1- and 3-byte reads; then limits, streaming memory, errors, dot-stuffing. */
#ifndef _GNU_SOURCE /* memfd_create; the Makefile may define it already */
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handle_internal.h"
#include "message.h"
#include "unit.h"

#define NOW 1795926600LL /* Sun, 29 Nov 2026 04:30:00 UTC */
#define DATE "Date: Sun, 29 Nov 2026 04:30:00 +0000\r\n"
#define MID "Message-ID: <ID>\r\n" /* the generated id, replaced by ID before comparing */
#define ADDED DATE MID
#define ME "me@example.org" /* the from_address of F cases; no input names it */

enum { T = 1, D = 2, F = 4 }; /* -t, a "." line ends input, From: to add */

struct mcase {
	const char *name;
	const char *in;
	size_t in_len;         /* 0: strlen(in) */
	unsigned flags;
	const char *from_name; /* with F */
	int rc;
	const char *want;      /* the output; for a refusal, part of the message */
	const char *rcpts;     /* with T: the recipients joined by ' ' */
	const char *from;      /* info->from, NULL when there must be none */
	const char *msgid;     /* info->message_id when the input has one */
	int eight, utf8;       /* has_8bit, needs_smtputf8 */
};

static const struct mcase cases[] = {
	/* line ends */
	{.name = "LF", .in = "Subject: hi\n\nbody\n", .want = ADDED "Subject: hi\r\n\r\nbody\r\n"},
	{.name = "bare CR", .in = "Subject: hi\r\rbody\r", .want = ADDED "Subject: hi\r\n\r\nbody\r\n"},
	{.name = "CRLF", .in = "Subject: hi\r\n\r\nbody\r\n", .want = ADDED "Subject: hi\r\n\r\nbody\r\n"},
	{.name = "mixed", .in = "Subject: hi\r\n\nl1\rl2\n\rl3\r\n",
	 .want = ADDED "Subject: hi\r\n\r\nl1\r\nl2\r\n\r\nl3\r\n"},
	{.name = "CR CR LF is two line ends", .in = "Subject: hi\n\na\r\r\nb\n",
	 .want = ADDED "Subject: hi\r\n\r\na\r\n\r\nb\r\n"},
	{.name = "LF CR is two line ends", .in = "Subject: hi\n\na\n\rb\n",
	 .want = ADDED "Subject: hi\r\n\r\na\r\n\r\nb\r\n"},
	{.name = "no final line end", .in = "Subject: hi\n\nbody", .want = ADDED "Subject: hi\r\n\r\nbody\r\n"},
	{.name = "final bare CR", .in = "Subject: hi\n\nbody\r", .want = ADDED "Subject: hi\r\n\r\nbody\r\n"},
	/* where the headers end */
	{.name = "headers only", .in = "Subject: hi", .want = ADDED "Subject: hi\r\n"},
	{.name = "no headers", .in = "hello world\nsecond\n", .want = ADDED "\r\nhello world\r\nsecond\r\n"},
	/* The mbox separator git format-patch writes is dropped, as Postfix drops it: the headers
	 * after it stay headers, with or without -t. */
	{.name = "mbox From_ line dropped", .in = "From bob Sat Jan  3\nSubject: x\n",
	 .want = ADDED "Subject: x\r\n"},
	{.name = "mbox From_ line dropped with -t", .flags = T,
	 .in = "From 1a2b3c Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nTo: b@example.org\n\npatch\n",
	 .want = ADDED "From: A <a@example.org>\r\nTo: b@example.org\r\n\r\npatch\r\n", .rcpts = "b@example.org",
	 .from = "a@example.org"},
	{.name = "From_ only on the first line", .in = "Subject: x\n\nFrom here on\n",
	 .want = ADDED "Subject: x\r\n\r\nFrom here on\r\n"},
	{.name = "From_ line alone is an empty message", .in = "From bob Sat Jan  3\n", .rc = OUTBOX_EINVALID,
	 .want = "empty"},
	{.name = "empty first line", .in = "\nbody\n", .want = ADDED "\r\nbody\r\n"},
	{.name = "continuation as first line", .in = " indented\n", .want = ADDED "\r\n indented\r\n"},
	{.name = "a non-header line starts the body", .in = "Subject: a\nnot a header\nmore\n",
	 .want = ADDED "Subject: a\r\n\r\nnot a header\r\nmore\r\n"},
	{.name = "folded header", .in = "Subject: a\n\tb\n c\n\nx\n",
	 .want = ADDED "Subject: a\r\n\tb\r\n c\r\n\r\nx\r\n"},
	{.name = "space before the colon", .in = "Subject : a\n\nx\n", .want = ADDED "Subject : a\r\n\r\nx\r\n"},
	/* sendmail's "." */
	{.name = "dot ends input", .in = "Subject: a\n\nbody\n.\nignored\n", .flags = D,
	 .want = ADDED "Subject: a\r\n\r\nbody\r\n"},
	{.name = "dot is content with -i", .in = "Subject: a\n\nbody\n.\nignored\n",
	 .want = ADDED "Subject: a\r\n\r\nbody\r\n.\r\nignored\r\n"},
	{.name = "dot CRLF ends input", .in = "Subject: a\r\n\r\nbody\r\n.\r\nignored", .flags = D,
	 .want = ADDED "Subject: a\r\n\r\nbody\r\n"},
	{.name = "dot CR ends input", .in = "Subject: a\r\rbody\r.\rignored", .flags = D,
	 .want = ADDED "Subject: a\r\n\r\nbody\r\n"},
	{.name = "dot at the end without line end", .in = "\nbody\n.", .flags = D, .want = ADDED "\r\nbody\r\n"},
	{.name = "dot at the end with -i", .in = "\nbody\n.", .want = ADDED "\r\nbody\r\n.\r\n"},
	{.name = "dot in the headers", .in = "Subject: a\n.\nrest\n", .flags = D, .want = ADDED "Subject: a\r\n"},
	{.name = "leading dots kept", .in = "\n..\n.x\n. \nx.\n", .flags = D,
	 .want = ADDED "\r\n..\r\n.x\r\n. \r\nx.\r\n"},
	/* refusals */
	{.name = "empty", .in = "", .rc = OUTBOX_EINVALID, .want = "message: the message is empty"},
	{.name = "only a dot", .in = ".\nrest", .flags = D, .rc = OUTBOX_EINVALID, .want = "the message is empty"},
	{.name = "NUL in the body", .in = "Subject: a\n\nab\0c\n", .in_len = 17, .rc = OUTBOX_EINVALID,
	 .want = "message: line 3 contains a NUL byte"},
	{.name = "NUL in a header", .in = "Sub\0ject: a\n", .in_len = 12, .rc = OUTBOX_EINVALID,
	 .want = "line 1 contains a NUL byte"},
	/* Date, Message-ID, From */
	{.name = "Date and Message-ID kept",
	 .in = "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <known@example.net>\n\nx\n",
	 .want = "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <known@example.net>\r\n\r\nx\r\n",
	 .msgid = "known@example.net"},
	{.name = "names in any case", .in = "date: x\nMESSAGE-ID:  < a@b > (c)\n\nx\n",
	 .want = "date: x\r\nMESSAGE-ID:  < a@b > (c)\r\n\r\nx\r\n", .msgid = "a@b"},
	{.name = "empty Message-ID replaced", .in = "Message-ID:\nmessage-id: <>\nSubject: a\n\nx\n",
	 .want = ADDED "Subject: a\r\n\r\nx\r\n"},
	{.name = "first Message-ID with an id counts", .in = "Message-ID: \nMessage-ID: id@b\nDate: x\n\nx\n",
	 .want = "Message-ID: id@b\r\nDate: x\r\n\r\nx\r\n", .msgid = "id@b"},
	{.name = "only Date present", .in = "Date: x\n\nx\n", .want = MID "Date: x\r\n\r\nx\r\n"},
	{.name = "From added", .in = "Subject: s\n\nx\n", .flags = F, .from_name = "Ann Smith",
	 .want = "From: Ann Smith <" ME ">\r\n" ADDED "Subject: s\r\n\r\nx\r\n", .from = ME},
	{.name = "From added without a name", .in = "Subject: s\n\nx\n", .flags = F,
	 .want = "From: " ME "\r\n" ADDED "Subject: s\r\n\r\nx\r\n", .from = ME},
	{.name = "From name with specials is quoted", .in = "\nx\n", .flags = F,
	 .from_name = "Smith, Ann \"Q\" A.",
	 .want = "From: \"Smith, Ann \\\"Q\\\" A.\" <" ME ">\r\n" ADDED "\r\nx\r\n", .from = ME},
	{.name = "From name in UTF-8 is encoded", .in = "\nx\n", .flags = F, .from_name = "Zoë",
	 .want = "From: =?UTF-8?B?Wm/Dqw==?= <" ME ">\r\n" ADDED "\r\nx\r\n", .from = ME},
	/* 23 two-byte characters: 44 octets fit a word (45 would cut one in half), 2 go on. */
	{.name = "long UTF-8 name in several words", .in = "\nx\n", .flags = F,
	 .from_name = "ééééééééééééééééééééééé",
	 .want = "From: =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=\r\n"
		 " =?UTF-8?B?w6k=?= <" ME ">\r\n" ADDED "\r\nx\r\n",
	 .from = ME},
	{.name = "From kept when present", .in = "From: Bob <bob@example.net>\n\nx\n", .flags = F,
	 .from_name = "Ann", .want = ADDED "From: Bob <bob@example.net>\r\n\r\nx\r\n", .from = "bob@example.net"},
	{.name = "From address found", .in = "From: \"Bob, B\" <bob@example.net> (work)\n\nx\n",
	 .want = ADDED "From: \"Bob, B\" <bob@example.net> (work)\r\n\r\nx\r\n", .from = "bob@example.net"},
	/* -t */
	{.name = "-t To Cc Bcc",
	 .in = "To: a@example.org, B <b@example.org>\nCc: \"Smith, C\" <c@example.org>, d@example.org (Dee, D)\n"
	       "Bcc: e@example.org,\n f@example.org\nSubject: s\n\nbody\n",
	 .flags = T,
	 .want = ADDED "To: a@example.org, B <b@example.org>\r\n"
		       "Cc: \"Smith, C\" <c@example.org>, d@example.org (Dee, D)\r\nSubject: s\r\n\r\nbody\r\n",
	 .rcpts = "a@example.org b@example.org c@example.org d@example.org e@example.org f@example.org"},
	/* Bcc goes with or without -t, as Postfix and msmtp remove it. */
	{.name = "Bcc removed without -t", .in = "To: a@example.org\nBcc: e@example.org,\n f@example.org\n\nx\n",
	 .want = ADDED "To: a@example.org\r\n\r\nx\r\n"},
	{.name = "Resent-Bcc removed without -t",
	 .in = "To: a@example.org\nResent-To: r@example.org\nResent-Bcc: h@example.org\n\nx\n",
	 .want = ADDED "To: a@example.org\r\nResent-To: r@example.org\r\n\r\nx\r\n"},
	{.name = "-t Bcc last before the body", .in = "To: a@example.org\nBcc: b@example.org,\n\tc@example.org\n\nx\n",
	 .flags = T, .want = ADDED "To: a@example.org\r\n\r\nx\r\n",
	 .rcpts = "a@example.org b@example.org c@example.org"},
	{.name = "-t groups", .flags = T,
	 .in = "To: undisclosed-recipients:;\nCc: Team: a@example.org, \"B\" <b@example.org>;, c@example.org\n\nx\n",
	 .want = ADDED "To: undisclosed-recipients:;\r\n"
		       "Cc: Team: a@example.org, \"B\" <b@example.org>;, c@example.org\r\n\r\nx\r\n",
	 .rcpts = "a@example.org b@example.org c@example.org"},
	{.name = "-t only an empty group", .flags = T, .in = "To: undisclosed-recipients:;\n\nx\n",
	 .want = ADDED "To: undisclosed-recipients:;\r\n\r\nx\r\n", .rcpts = ""},
	{.name = "-t duplicates", .flags = T,
	 .in = "To: a@example.org, A@EXAMPLE.ORG\nCc: <a@example.org>, b@example.org, a@Example.org\n",
	 .want = ADDED "To: a@example.org, A@EXAMPLE.ORG\r\nCc: <a@example.org>, b@example.org, a@Example.org\r\n",
	 .rcpts = "a@example.org b@example.org"},
	{.name = "-t Resent-* only", .flags = T,
	 .in = "To: old@example.org\nBcc: oldbcc@example.org\nResent-To: new@example.org\n"
	       "Resent-Bcc: hidden@example.org,\n\thidden2@example.org\n\nx\n",
	 .want = ADDED "To: old@example.org\r\nResent-To: new@example.org\r\n\r\nx\r\n",
	 .rcpts = "new@example.org hidden@example.org hidden2@example.org"},
	{.name = "-t encoded words", .flags = T,
	 .in = "To: =?UTF-8?Q?Ann,_S?= <ann@example.org>, =?UTF-8?B?Wm/Dqw==?= <zoe@example.org>\n",
	 .want = ADDED "To: =?UTF-8?Q?Ann,_S?= <ann@example.org>, =?UTF-8?B?Wm/Dqw==?= <zoe@example.org>\r\n",
	 .rcpts = "ann@example.org zoe@example.org"},
	{.name = "-t routes, comments, quotes", .flags = T,
	 .in = "To: <@relay.example,@r2.example:a@example.org>, (c) b@example.org (x, y),\n"
	       " \"q,\\\"r\" <c@example.org>, \"d e\"@example.org, f @ example.org\n",
	 .want = ADDED "To: <@relay.example,@r2.example:a@example.org>, (c) b@example.org (x, y),\r\n"
		       " \"q,\\\"r\" <c@example.org>, \"d e\"@example.org, f @ example.org\r\n",
	 .rcpts = "a@example.org b@example.org c@example.org \"d e\"@example.org f@example.org"},
	{.name = "-t header names in any case", .flags = T,
	 .in = "TO: a@example.org\nbcc: b@example.org\nBCC: c@example.org\ncc: d@example.org\n\nx\n",
	 .want = ADDED "TO: a@example.org\r\ncc: d@example.org\r\n\r\nx\r\n",
	 .rcpts = "a@example.org b@example.org c@example.org d@example.org"},
	{.name = "-t From is no recipient", .flags = T, .in = "From: f@example.org\nSubject: s\n\nx\n",
	 .want = ADDED "From: f@example.org\r\nSubject: s\r\n\r\nx\r\n", .rcpts = "", .from = "f@example.org"},
	{.name = "-t a local name is kept for delivery to expand through its alias", .flags = T,
	 .in = "To: root\n\nx\n", .want = ADDED "To: root\r\n\r\nx\r\n", .rcpts = "root"},
	{.name = "-t address without domain that is no local name", .flags = T, .in = "To: bob.\n\nx\n",
	 .rc = OUTBOX_EINVALID, .want = "message: in the To header: \"bob.\""},
	{.name = "-t display name without brackets", .flags = T, .in = "Cc: a@example.org, Ann Smith\n",
	 .rc = OUTBOX_EINVALID, .want = "in the Cc header: \"Ann Smith\""},
	/* 8-bit */
	{.name = "UTF-8 in Subject", .in = "Subject: Grüße\n\nx\n", .want = ADDED "Subject: Grüße\r\n\r\nx\r\n",
	 .eight = 1, .utf8 = 1},
	{.name = "8-bit in the body only", .in = "Subject: a\n\nGrüße\n", .want = ADDED "Subject: a\r\n\r\nGrüße\r\n",
	 .eight = 1},
	{.name = "UTF-8 address in Bcc with -t", .flags = T, .in = "Bcc: zoë@example.org\n\nx\n",
	 .want = ADDED "\r\nx\r\n", .rcpts = "zoë@example.org", .eight = 1, .utf8 = 1},
};

/* ---- running message_prepare ---- */

struct run {
	outbox h;
	int rc;
	struct message_info info;
	char *out;
	size_t out_len;
};

static int memfd_with(const char *data, size_t len)
{
	int fd = memfd_create("message-in", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* A child sends the input in `piece`-byte packets; SOCK_SEQPACKET makes each read() return
 * exactly one, so the chunk boundaries message_prepare sees are known, not left to timing. */
static pid_t feed_in_pieces(const char *data, size_t len, size_t piece, int *fd)
{
	int sv[2];
	size_t i, n;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		for (i = 0; i < len; i += n) {
			n = len - i < piece ? len - i : piece;
			/* The reader may stop early (a "." line); then the rest is not wanted. */
			if (send(sv[1], data + i, n, MSG_NOSIGNAL) != (ssize_t)n)
				break;
		}
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static char *slurp(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *p = malloc((size_t)size + 1);

	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)size, 0), size);
	p[size] = '\0';
	*len = (size_t)size;
	return p;
}

static void run_message(struct run *r, const char *in, size_t len, size_t piece,
			const struct message_options *opt)
{
	int in_fd, out_fd = memfd_create("message-out", MFD_CLOEXEC);
	pid_t pid = -1;

	assert_true(out_fd >= 0);
	memset(r, 0, sizeof *r);
	if (piece == 0)
		in_fd = memfd_with(in, len);
	else
		pid = feed_in_pieces(in, len, piece, &in_fd);
	r->rc = message_prepare(&r->h, in_fd, out_fd, opt, &r->info);
	close(in_fd);
	if (pid > 0)
		assert_int_equal(waitpid(pid, NULL, 0), pid);
	r->out = slurp(out_fd, &r->out_len);
	close(out_fd);
}

static void run_free(struct run *r)
{
	message_info_free(&r->info);
	free(r->out);
}

/* Bytes as a C string literal would show them, so a got/want about line ends can be read. */
static const char *shown(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c == '\r' ? 'r' : 'n');
		else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* The generated Message-ID is random: check its form, then call it ID in the output. */
static void replace_generated_id(struct run *r, const char *what)
{
	const char *id = r->info.message_id, *at;
	char *hit;
	size_t i, idlen;

	assert_non_null(id);
	at = strchr(id, '@');
	if (at == NULL || at - id != 32 || strcmp(at + 1, "example.org") != 0)
		fail_msg("%s: generated Message-ID \"%s\", want 32 hex digits @example.org", what, id);
	for (i = 0; i < 32; i++) {
		if (strchr("0123456789abcdef", id[i]) == NULL)
			fail_msg("%s: generated Message-ID \"%s\" is not hex", what, id);
	}
	idlen = strlen(id);
	hit = strstr(r->out, id);
	assert_non_null(hit);
	memcpy(hit, "ID", 2);
	memmove(hit + 2, hit + idlen, r->out_len - (size_t)(hit - r->out) - idlen + 1);
	r->out_len -= idlen - 2;
}

static const char *joined(char *const *v, char *buf, size_t size)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; v[i]; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? " " : "", v[i]);
	return buf;
}

static void base_options(struct message_options *o, unsigned flags, const char *from_name)
{
	memset(o, 0, sizeof *o);
	o->extract_recipients = !!(flags & T);
	o->dot_ends_input = !!(flags & D);
	o->from_address = flags & F ? ME : NULL;
	o->from_name = from_name;
	o->domain = "example.org";
	o->now = NOW;
}

static void check_case(const struct mcase *c, size_t piece)
{
	struct message_options o;
	struct run r;
	char what[200], got[4096], want[4096], list[1024];
	size_t in_len = c->in_len ? c->in_len : strlen(c->in);
	const char *from;

	snprintf(what, sizeof what, "%s (read in %zu-byte pieces)", c->name, piece);
	base_options(&o, c->flags, c->from_name);
	run_message(&r, c->in, in_len, piece, &o);
	EXPECT_INT(r.rc, c->rc, what);
	if (c->rc != 0) {
		EXPECT_STR(outbox_errfield(&r.h), "message", what);
		EXPECT_CONTAINS(outbox_errmsg(&r.h), c->want, what);
		run_free(&r);
		return;
	}
	EXPECT_INT(r.info.size, r.out_len, what);
	EXPECT_INT(r.info.added_date, strstr(c->want, DATE) != NULL, what);
	EXPECT_INT(r.info.added_message_id, strstr(c->want, MID) != NULL, what);
	EXPECT_INT(r.info.added_from, strstr(c->want, ME) != NULL, what);
	if (r.info.added_message_id)
		replace_generated_id(&r, what);
	else if (c->msgid != NULL)
		EXPECT_STR(r.info.message_id, c->msgid, what);
	else if (r.info.message_id != NULL)
		fail_msg("%s: message_id \"%s\", want none", what, r.info.message_id);
	if (r.out_len != strlen(c->want) || memcmp(r.out, c->want, r.out_len) != 0)
		fail_msg("%s:\n got \"%s\"\nwant \"%s\"", what, shown(r.out, r.out_len, got, sizeof got),
			 shown(c->want, strlen(c->want), want, sizeof want));
	if (c->flags & T) {
		assert_non_null(r.info.recipients);
		EXPECT_STR(joined(r.info.recipients, list, sizeof list), c->rcpts, what);
	} else if (r.info.recipients != NULL) {
		fail_msg("%s: recipients without -t", what);
	}
	from = c->from;
	if (from != NULL)
		EXPECT_STR(r.info.from, from, what);
	else if (r.info.from != NULL)
		fail_msg("%s: from \"%s\", want none", what, r.info.from);
	EXPECT_INT(r.info.has_8bit, c->eight, what);
	EXPECT_INT(r.info.needs_smtputf8, c->utf8, what);
	run_free(&r);
}

static void test_cases(void **state __attribute__((unused)))
{
	static const size_t pieces[] = {0, 1, 3};
	size_t i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (j = 0; j < sizeof pieces / sizeof pieces[0]; j++)
			check_case(&cases[i], pieces[j]);
	}
}

/* ---- limits ---- */

static char *repeated(char c, size_t n, const char *head, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *p = malloc(hl + n + tl + 1);

	assert_non_null(p);
	memcpy(p, head, hl);
	memset(p + hl, c, n);
	memcpy(p + hl + n, tail, tl + 1);
	return p;
}

static void test_line_limit(void **state __attribute__((unused)))
{
	struct message_options o;
	struct run r;
	char *in;

	base_options(&o, 0, NULL);
	in = repeated('x', 998, "Subject: a\n\n", "\nend\n");
	run_message(&r, in, strlen(in), 0, &o);
	EXPECT_INT(r.rc, 0, "a 998-octet line");
	run_free(&r);
	free(in);

	in = repeated('x', 999, "Subject: a\n\n", "\r\nend\n");
	run_message(&r, in, strlen(in), 1, &o);
	EXPECT_INT(r.rc, 0, "a 999-octet body line is kept, fed an octet at a time");
	EXPECT_INT(r.info.long_lines, 1, "long_lines after a 999-octet line");
	free(in);
	in = repeated('x', 999, "\r\n", "\r\nend\r\n");
	EXPECT_CONTAINS(r.out, in, "the 999-octet line, whole in the spool");
	run_free(&r);
	free(in);

	/* A body line far over the limit streams through: it is not held. */
	in = repeated('y', 300000, "Subject: a\n\n", "\n");
	run_message(&r, in, strlen(in), 7000, &o);
	EXPECT_INT(r.rc, 0, "a 300 KB body line");
	EXPECT_INT(r.info.long_lines, 1, "long_lines after a 300 KB line");
	EXPECT_INT(r.out_len > 300000 && r.out[r.out_len - 3] == 'y', 1, "the 300 KB line ends the spool");
	run_free(&r);
	free(in);

	/* A long first line that is no header field starts the body, and streams like one. */
	in = repeated('<', 2000000, "", "\nend\n");
	run_message(&r, in, strlen(in), 65536, &o);
	EXPECT_STR(r.rc == 0 ? "" : outbox_errmsg(&r.h), "", "a 2 MB first line without headers");
	EXPECT_INT(r.info.long_lines, 1, "long_lines after a 2 MB first line");
	EXPECT_INT(r.out_len > 2000000 && strstr(r.out, "\r\n\r\n<<<<") != NULL, 1,
		   "the line follows the added headers and the empty line");
	run_free(&r);
	free(in);

	/* A header line without a space to fold it at cannot be made legal. */
	in = repeated('x', 200000, "X-Long: ", "");
	run_message(&r, in, strlen(in), 0, &o);
	EXPECT_INT(r.rc, OUTBOX_EINVALID, "a 200 KB header line without a space");
	EXPECT_STR(outbox_errmsg(&r.h),
		   "message: the X-Long header has a line over 998 octets without a space to fold it at: "
		   "shorten it or encode it (RFC 2047)", "a 200 KB header line without a space");
	run_free(&r);
	free(in);

	/* Past the header section's cap the octets are only counted, so the whole length is reported. */
	in = repeated('x', 2000000, "X-Long: ", "");
	run_message(&r, in, strlen(in), 0, &o);
	EXPECT_CONTAINS(outbox_errmsg(&r.h), "line 1 is 2000008 octets long", "a 2 MB header line");
	run_free(&r);
	free(in);
}

/* A header line over 998 octets is folded at its spaces; unfolding gives it back. */
static void test_header_fold(void **state __attribute__((unused)))
{
	struct message_options o;
	struct run r;
	char *in, *field, *got, *line, *end, *save = NULL;
	size_t i, len;

	base_options(&o, 0, NULL);
	field = malloc(16 + 3000 * 5);
	assert_non_null(field);
	memcpy(field, "X-Words:", 8);
	for (i = 0, len = 8; i < 3000; i++, len += 5)
		memcpy(field + len, i % 7 ? " word" : "\tlong", 5);
	field[len] = '\0';
	in = malloc(len + 16);
	assert_non_null(in);
	memcpy(in, field, len);
	memcpy(in + len, "\n\nbody\n", 7);
	run_message(&r, in, len + 7, 0, &o);
	EXPECT_STR(r.rc == 0 ? "" : outbox_errmsg(&r.h), "", "a 15,000-octet header line with spaces");
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strlen(line) > 999)
			fail_msg("a line of %zu octets after folding, want at most 998 and its CR", strlen(line) - 1);
	run_free(&r);
	run_message(&r, in, len + 7, 0, &o);
	/* Unfold: take out each CRLF that a space or tab follows. */
	got = strstr(r.out, "X-Words:");
	assert_non_null(got);
	end = strstr(got, "\r\n\r\n");
	assert_non_null(end);
	*end = '\0';
	for (i = 0, line = got; *line; line++) {
		if (line[0] == '\r' && line[1] == '\n' && (line[2] == ' ' || line[2] == '\t'))
			line++;
		else
			got[i++] = *line;
	}
	got[i] = '\0';
	if (strcmp(got, field) != 0)
		fail_msg("unfolded field differs from the original (got %zu octets, want %zu)", strlen(got), len);
	run_free(&r);
	free(in);
	free(field);
}

static void test_header_limit(void **state __attribute__((unused)))
{
	struct message_options o;
	struct run r;
	struct buf in = BUF_INIT;
	int i;

	base_options(&o, 0, NULL);
	for (i = 0; i < 1100; i++)
		assert_int_equal(buf_printf(&in, "X-Pad-%d: %0980d\n", i, 0), 0);
	run_message(&r, in.data, in.len, 0, &o);
	EXPECT_INT(r.rc, OUTBOX_EINVALID, "1.1 MB of headers");
	EXPECT_CONTAINS(outbox_errmsg(&r.h),
			"message: the header section passes 1024 KiB at line 1057; is the empty line",
			"1.1 MB of headers");
	run_free(&r);
	buf_free(&in);
}

/* -t with 20,000 recipients, each named again in other case: one pass keeps the first mention of
 * each, in order. Equal but for case is one recipient, in the local part as in the domain. */
static void test_many_recipients_dedupe(void **state __attribute__((unused)))
{
	enum { N = 20000, PER_LINE = 40 };
	struct message_options o;
	struct run r;
	struct buf in = BUF_INIT;
	char want[64];
	size_t n = 0;
	int i, pass;

	base_options(&o, T, NULL);
	for (pass = 0; pass < 2; pass++) {
		assert_int_equal(buf_puts(&in, pass ? "Cc: " : "To: "), 0);
		for (i = 0; i < N; i++)
			assert_int_equal(buf_printf(&in, pass ? "U%d@D%d.Example%s" : "u%d@d%d.example%s", i, i % 7,
						    i == N - 1 ? "\n" : (i + 1) % PER_LINE ? ", " : ",\n "), 0);
	}
	assert_int_equal(buf_puts(&in, "Bcc: u0@d0.example, U1@d1.EXAMPLE\n\nbody\n"), 0);
	run_message(&r, in.data, in.len, 0, &o);
	EXPECT_INT(r.rc, 0, "a header of 40,002 addresses");
	while (r.info.recipients && r.info.recipients[n])
		n++;
	EXPECT_INT((long long)n, N, "recipients left after removing duplicates");
	for (i = 0; i < N && (size_t)i < n; i++) {
		snprintf(want, sizeof want, "u%d@d%d.example", i, i % 7);
		if (strcmp(r.info.recipients[i], want) != 0)
			fail_msg("recipient %d: got \"%s\", want \"%s\" (the first mention, in order)", i,
				 r.info.recipients[i], want);
	}
	run_free(&r);
	buf_free(&in);
}

/* A CRLF cut by the real 64 KiB read boundary: the CR ends one read, the LF starts the next. */
static void test_crlf_across_reads(void **state __attribute__((unused)))
{
	struct message_options o;
	struct run r;
	struct buf in = BUF_INIT, want = BUF_INIT;
	char *tail;
	const size_t boundary = 64 * 1024;

	base_options(&o, 0, NULL);
	assert_int_equal(buf_puts(&in, "Subject: a\n\n"), 0);
	assert_int_equal(buf_puts(&want, ADDED "Subject: a\r\n\r\n"), 0);
	while (in.len + 100 < boundary - 1) {
		assert_int_equal(buf_printf(&in, "%098d\n", 0), 0);
		assert_int_equal(buf_printf(&want, "%098d\r\n", 0), 0);
	}
	tail = repeated('y', boundary - 1 - in.len, "", "");
	assert_int_equal(buf_printf(&in, "%s\r\nz\n", tail), 0);
	assert_int_equal(buf_printf(&want, "%s\r\nz\r\n", tail), 0);
	assert_int_equal(in.data[boundary - 1], '\r');
	run_message(&r, in.data, in.len, 0, &o);
	EXPECT_INT(r.rc, 0, "CRLF across reads");
	replace_generated_id(&r, "CRLF across reads");
	EXPECT_INT(r.out_len, want.len, "CRLF across reads: output length");
	assert_memory_equal(r.out, want.data, want.len);
	run_free(&r);
	free(tail);
	buf_free(&in);
	buf_free(&want);
}

/* ---- streaming ---- */

static long max_rss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* A 100 MB body from a pipe to /dev/null: memory must not follow the body's size. */
static void test_large_body_bounded_memory(void **state __attribute__((unused)))
{
	static const char head[] = "Subject: big\n\n";
	const long long lines = 100LL * 1024 * 1024 / 80;
	struct message_options o;
	struct message_info info;
	outbox h;
	int p[2], out;
	long before, after;
	long long i;
	pid_t pid;

	base_options(&o, T, NULL);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char block[80 * 819];
		close(p[0]);
		for (i = 0; i < 819; i++) {
			memset(block + i * 80, 'a' + (int)(i % 26), 79);
			block[i * 80 + 79] = '\n';
		}
		if (write(p[1], head, sizeof head - 1) < 0)
			_exit(1);
		for (i = 0; i < lines; i += 819) {
			size_t n = (size_t)(lines - i < 819 ? lines - i : 819) * 80, off = 0;
			while (off < n) {
				ssize_t w = write(p[1], block + off, n - off);
				if (w < 0)
					_exit(1);
				off += (size_t)w;
			}
		}
		_exit(0);
	}
	close(p[1]);
	out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(out >= 0);
	memset(&h, 0, sizeof h);
	before = max_rss_kib();
	EXPECT_INT(message_prepare(&h, p[0], out, &o, &info), 0, "100 MB body");
	after = max_rss_kib();
	close(p[0]);
	close(out);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	EXPECT_INT(info.size, (off_t)strlen(DATE) + 60 + 16 + lines * 81, "100 MB body: bytes written");
	if (after - before >= 16 * 1024)
		fail_msg("100 MB body: peak memory grew by %ld KiB, want under 16 MiB", after - before);
	message_info_free(&info);
}

/* ---- errors and options ---- */

static void test_io_errors(void **state __attribute__((unused)))
{
	struct message_options o;
	struct message_info info;
	outbox h;
	int in, out;

	base_options(&o, 0, NULL);
	memset(&h, 0, sizeof h);
	in = memfd_with("Subject: a\n\nx\n", 14);
	out = open("/dev/null", O_RDONLY | O_CLOEXEC);
	EXPECT_INT(message_prepare(&h, in, out, &o, &info), OUTBOX_EIO, "write to a read-only fd");
	EXPECT_STR(outbox_errmsg(&h), "writing the message to the spool failed: Bad file descriptor",
		   "write to a read-only fd");
	close(out);
	close(in);

	in = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	out = memfd_create("message-out", MFD_CLOEXEC);
	EXPECT_INT(message_prepare(&h, in, out, &o, &info), OUTBOX_EIO, "read a directory");
	EXPECT_STR(outbox_errmsg(&h), "reading the message failed: Is a directory", "read a directory");
	close(out);
	close(in);
}

static void test_bad_options(void **state __attribute__((unused)))
{
	const struct {
		const char *address, *name, *domain, *field;
	} bad[] = {
		{"no-at-sign", NULL, "example.org", "from"},
		{"a@example.org\r\nBcc: x@y.org", NULL, "example.org", "from"},
		{ME, "Ann\r\nBcc: x@y.org", "example.org", "name"},
		{ME, NULL, "bad host>", "domain"},
		{ME, NULL, "[192.0.2.1>]", "domain"},
	};
	struct message_options o;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		base_options(&o, 0, bad[i].name);
		o.from_address = bad[i].address;
		o.domain = bad[i].domain;
		run_message(&r, "\nx\n", 3, 0, &o);
		EXPECT_INT(r.rc, OUTBOX_EINVALID, bad[i].field);
		EXPECT_STR(outbox_errfield(&r.h), bad[i].field, bad[i].field);
		EXPECT_INT(r.out_len, 0, "nothing written after a refused option");
		run_free(&r);
	}
}

static void test_date_zones(void **state __attribute__((unused)))
{
	const struct {
		const char *tz, *want;
	} zones[] = {
		{"UTC0", "Date: Sun, 29 Nov 2026 04:30:00 +0000\r\n"},
		{"XYZ-2:30", "Date: Sun, 29 Nov 2026 07:00:00 +0230\r\n"},
		{"XYZ+5", "Date: Sat, 28 Nov 2026 23:30:00 -0500\r\n"},
	};
	struct message_options o;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		setenv("TZ", zones[i].tz, 1);
		tzset();
		base_options(&o, 0, NULL);
		run_message(&r, "Message-ID: <a@b>\n\nx\n", 21, 0, &o);
		EXPECT_INT(r.rc, 0, zones[i].tz);
		if (strncmp(r.out, zones[i].want, strlen(zones[i].want)) != 0)
			fail_msg("TZ=%s: got \"%.40s\", want \"%.40s\"", zones[i].tz, r.out, zones[i].want);
		run_free(&r);
	}
	setenv("TZ", "UTC0", 1);
	tzset();
}

static void test_message_id_domain(void **state __attribute__((unused)))
{
	struct message_options o;
	struct run a, b;

	base_options(&o, 0, NULL);
	o.domain = NULL;
	run_message(&a, "\nx\n", 3, 0, &o);
	run_message(&b, "\nx\n", 3, 0, &o);
	EXPECT_INT(a.rc, 0, "Message-ID with no domain");
	EXPECT_CONTAINS(a.info.message_id, "@localhost", "Message-ID with no domain");
	if (strcmp(a.info.message_id, b.info.message_id) == 0)
		fail_msg("two generated Message-IDs are both \"%s\"", a.info.message_id);
	run_free(&a);
	run_free(&b);

	/* an account at an address literal gives a literal as the domain */
	o.domain = "[192.0.2.1]";
	run_message(&a, "\nx\n", 3, 0, &o);
	EXPECT_INT(a.rc, 0, "Message-ID at an address literal");
	EXPECT_CONTAINS(a.info.message_id, "@[192.0.2.1]", "Message-ID at an address literal");
	run_free(&a);
}

/* ---- dot-stuffing ---- */

static void test_dot_stuff(void **state __attribute__((unused)))
{
	const struct {
		const char *in, *want;
	} dcases[] = {
		{"", ""},
		{".\r\n", "..\r\n"},
		{"a\r\n.b\r\n..\r\n", "a\r\n..b\r\n...\r\n"},
		{"x.\r\n.", "x.\r\n.."},
		{"\r\n.\r\n.\r\n", "\r\n..\r\n..\r\n"},
		{"no dots\r\nat all\r\n", "no dots\r\nat all\r\n"},
	};
	struct buf out = BUF_INIT;
	size_t i, len, cut, k;
	int start;
	char what[128];

	for (i = 0; i < sizeof dcases / sizeof dcases[0]; i++) {
		len = strlen(dcases[i].in);
		/* every two-piece split, and then one byte at a time */
		for (cut = 0; cut <= len + 1; cut++) {
			buf_reset(&out);
			start = 1;
			snprintf(what, sizeof what, "dot-stuff case %zu cut at %zu", i, cut);
			if (cut <= len) {
				assert_int_equal(message_dot_stuff(dcases[i].in, cut, &start, &out), 0);
				assert_int_equal(message_dot_stuff(dcases[i].in + cut, len - cut, &start, &out), 0);
			} else {
				for (k = 0; k < len; k++)
					assert_int_equal(message_dot_stuff(dcases[i].in + k, 1, &start, &out), 0);
			}
			EXPECT_STR(out.data ? out.data : "", dcases[i].want, what);
		}
	}
	buf_free(&out);
}

static void test_dot_stuff_all_or_nothing(void **state __attribute__((unused)))
{
	struct buf out;
	int start = 1;

	buf_init(&out, 8);
	assert_int_equal(buf_puts(&out, "abc"), 0);
	EXPECT_INT(message_dot_stuff(".1\r\n.2\r\n", 8, &start, &out) < 0, 1, "over the cap");
	EXPECT_STR(out.data, "abc", "the buffer after a refused append");
	EXPECT_INT(start, 1, "at_line_start after a refused append");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_header_fold),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_many_recipients_dedupe),
		cmocka_unit_test(test_crlf_across_reads),
		cmocka_unit_test(test_large_body_bounded_memory),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_date_zones),
		cmocka_unit_test(test_message_id_domain),
		cmocka_unit_test(test_dot_stuff),
		cmocka_unit_test(test_dot_stuff_all_or_nothing),
	};

	/* Generated Date: headers are compared as text, so the zone is fixed. */
	setenv("TZ", "UTC0", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
