/* outbox_replies.c: a queued message's replies split per server: an attempt's reply names each
 * server it tried in turn, and the Outbox view shows each server's latest words on a line. */
#include <stdio.h>
#include <string.h>

#include "tui.h"

/* The length of the server name `p` starts with when ": " follows it and it names a saved server
 * or `also` (the attempt's own), else 0: a reply's own words may hold a colon too. */
static int outbox_replies_server_at(struct tui *t, const char *p, const char *also)
{
	const char *colon = strstr(p, ": ");
	outbox_server *s = NULL;
	char name[128];
	int len, known;

	if (colon == NULL || colon == p || colon - p >= (long)sizeof name || memchr(p, ' ', (size_t)(colon - p)))
		return 0;
	len = (int)(colon - p);
	snprintf(name, sizeof name, "%.*s", len, p);
	known = (also && strcmp(name, also) == 0) || outbox_server_load(t->h, name, &s) == 0;
	outbox_server_free(s);
	return known ? len : 0;
}

/* Keep `server`'s words as its latest, moved after those of the servers tried before it; the
 * oldest goes when there are `max` already. */
static void outbox_replies_add(struct outbox_reply_part *parts, size_t *n, size_t max, const char *server,
			       int server_len, const char *words, int words_len)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (parts[i].server_len == server_len && strncmp(parts[i].server, server, (size_t)server_len) == 0)
			break;
	if (i == *n && *n == max)
		i = 0;
	if (i < *n) {
		memmove(&parts[i], &parts[i + 1], (*n - i - 1) * sizeof parts[0]);
		(*n)--;
	}
	parts[(*n)++] = (struct outbox_reply_part){server, words, server_len, words_len};
}

/* Each server's latest reply, oldest attempt first: an attempt's reply names each server it
 * tried in turn ("main: 421 ...; backup: connection refused"); a reply naming none is the
 * attempt's own server's. */
size_t outbox_replies_split(struct tui *t, const outbox_queue_message *m, struct outbox_reply_part *parts,
			    size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	for (size_t i = 0; m && i < m->nlog; i++) {
		const char *p = m->log[i].reply ? m->log[i].reply : "", *server = m->log[i].server;
		int len = outbox_replies_server_at(t, p, server);
		if (len == 0) {
			if (server && *server && *p)
				outbox_replies_add(parts, &n, max, server, (int)strlen(server), p, (int)strlen(p));
			continue;
		}
		while (len > 0) {
			const char *words = p + len + 2, *end = words, *next = NULL;
			int next_len = 0;
			/* This server's words end where "; " and another server's name begin. */
			while ((end = strstr(end, "; ")) != NULL) {
				if ((next_len = outbox_replies_server_at(t, end + 2, server)) > 0) {
					next = end + 2;
					break;
				}
				end += 2;
			}
			if (end == NULL)
				end = words + strlen(words);
			outbox_replies_add(parts, &n, max, p, len, words, (int)(end - words));
			p = next;
			len = next ? next_len : 0;
		}
	}
	return n;
}
