/* test_helo.c: the EHLO name: which of the host name, its canonical name and the connection's
 * local address is given (a table of hosts as they come), and what --helo accepts and refuses. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "helo.h"
#include "unit.h"

static int setup_store(void **state)
{
	return unit_store_setup_with_secret_files(state, "helo");
}

static int teardown_store(void **state)
{
	return unit_store_close(*state);
}

static void test_choice(void **state)
{
	static const struct {
		const char *host, *canonical, *local, *want, *why;
	} cases[] = {
		{"mail.example.org", "", "192.0.2.7", "mail.example.org", "a host name with a dot is used as it is"},
		{"vm", "vm.example.org", "192.0.2.7", "vm.example.org", "the short name's canonical name"},
		{"vm", "vm", "192.0.2.7", "[192.0.2.7]", "no domain anywhere: the local address literal"},
		{"vm", "vm", "2001:db8::5", "[IPv6:2001:db8::5]", "an IPv6 literal carries its tag"},
		{"vm", "vm", "::ffff:192.0.2.9", "[192.0.2.9]", "an IPv4 peer over an IPv6 socket"},
		{"vm", "localhost.localdomain", "127.0.0.1", "[127.0.0.1]", "localhost is no name for a host"},
		{"localhost.localdomain", "", "127.0.0.1", "[127.0.0.1]", "not even as the host name"},
		{"vm", "", NULL, "vm", "without an address, the short name"},
		{"", "", NULL, "localhost", "nothing at all"},
		{"my_host.example", "", "192.0.2.7", "[192.0.2.7]", "a name no DNS could have is passed over"},
		{"-vm.example.org", "", "192.0.2.7", "[192.0.2.7]", "a label cannot start with a hyphen"},
		{"vm.", "", "192.0.2.7", "[192.0.2.7]", "an empty last label"},
		{"h\xc3\xb6st.example.org", "", "192.0.2.7", "[192.0.2.7]", "EHLO takes ASCII only"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss;
		char got[300];
		memset(&ss, 0, sizeof ss);
		if (cases[i].local && strchr(cases[i].local, ':')) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, cases[i].local, &in6->sin6_addr), 1);
		} else if (cases[i].local) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, cases[i].local, &in->sin_addr), 1);
		}
		helo_choose(cases[i].host, cases[i].canonical, cases[i].local ? (struct sockaddr *)&ss : NULL, got,
			    sizeof got);
		EXPECT_STR(got, cases[i].want, cases[i].why);
	}
}

static void test_setting_accepts_and_refuses(void **state)
{
	static const struct {
		const char *value, *want; /* want: NULL when accepted, else part of the message */
	} cases[] = {
		{"mail.example.org", NULL},
		{"vm", NULL},
		{"xn--bcher-kva.example", NULL},
		{"[192.0.2.1]", NULL},
		{"[IPv6:2001:db8::1]", NULL},
		{"", NULL},
		{"192.0.2.1", "helo: \"192.0.2.1\" is an IP address; write it as [192.0.2.1]"},
		{"2001:db8::1", "helo: \"2001:db8::1\" is an IPv6 address; write it as [IPv6:2001:db8::1]"},
		{"[2001:db8::1]", "without its tag; write it as [IPv6:2001:db8::1]"},
		{"[192.0.2]", "helo: \"[192.0.2]\" has an address literal that is neither IPv4 nor [IPv6:...]"},
		{"b\xc3\xbc" "cher.example", "is not ASCII; give the name's A-label (xn--) form"},
		{"a_b.example", "helo: \"a_b.example\" is not a valid domain"},
		{"mail example", "is not a valid domain"},
		{"mail.example.\r\nMAIL FROM:<x@y>", "helo:"},
		{"1.2.3", "is neither a domain nor an IPv4 address"},
	};
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new();
	size_t i;

	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HELO), "", "a new server's EHLO name is automatic");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = outbox_server_set(f->h, s, OUTBOX_SERVER_HELO, cases[i].value);
		if (cases[i].want == NULL) {
			if (rc != 0)
				fail_msg("helo \"%s\": got \"%s\", want it accepted", cases[i].value, outbox_errmsg(f->h));
			EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HELO), cases[i].value, "the value kept");
		} else {
			EXPECT_INT(rc, OUTBOX_EINVALID, cases[i].value);
			EXPECT_CONTAINS(outbox_errmsg(f->h), cases[i].want, cases[i].value);
		}
	}
	outbox_server_free(s);
}

static void test_saved_and_loaded(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new(), *back = NULL;
	const outbox_field *info = outbox_server_field_info(OUTBOX_SERVER_HELO);

	EXPECT_STR(info->key, "helo", "the field's key");
	EXPECT_INT(outbox_server_field_by_key("helo"), OUTBOX_SERVER_HELO, "found by key");
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_NAME, "relay"), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_HOST, "relay.example.org"), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_HELO, "box.example.org"), 0);
	assert_int_equal(outbox_server_save(f->h, s), 0);
	assert_int_equal(outbox_server_load(f->h, "relay", &back), 0);
	EXPECT_STR(outbox_server_get(back, OUTBOX_SERVER_HELO), "box.example.org", "helo after a save and load");
	outbox_server_free(back);
	outbox_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choice),
		cmocka_unit_test_setup_teardown(test_setting_accepts_and_refuses, setup_store, teardown_store),
		cmocka_unit_test_setup_teardown(test_saved_and_loaded, setup_store, teardown_store),
	};
	return cmocka_run_group_tests_name("helo", tests, NULL, NULL);
}
