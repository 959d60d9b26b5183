/* autoconfig.c: a Thunderbird autoconfig document read through expat (loaded with dlopen on first
 * use) into setup candidates: strictly, with caps, and with no DTD, so a hostile server gets words. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <expat.h>

#include "autoconfig.h"
#include "autoconfig_values.h"
#include "buf.h"
#include "handle_internal.h"
#include "setup_address.h"
#include "validate.h"

static struct {
	void *handle;
	XML_Parser (*parser_create)(const XML_Char *);
	void (*parser_free)(XML_Parser);
	void (*set_user_data)(XML_Parser, void *);
	void (*set_element_handler)(XML_Parser, XML_StartElementHandler, XML_EndElementHandler);
	void (*set_character_data_handler)(XML_Parser, XML_CharacterDataHandler);
	void (*set_start_doctype_decl_handler)(XML_Parser, XML_StartDoctypeDeclHandler);
	void (*set_entity_decl_handler)(XML_Parser, XML_EntityDeclHandler);
	enum XML_Status (*stop_parser)(XML_Parser, XML_Bool);
	enum XML_Status (*parse)(XML_Parser, const char *, int, int);
	enum XML_Error (*get_error_code)(XML_Parser);
	const XML_LChar *(*error_string)(enum XML_Error);
	XML_Size (*current_line)(XML_Parser);
} xp;
static pthread_once_t xp_once = PTHREAD_ONCE_INIT;

#define XML_SYM(field, name) (*(void **)&xp.field = dlsym(handle, name)) != NULL

static void autoconfig_load(void)
{
	void *handle = dlopen("libexpat.so.1", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	if (XML_SYM(parser_create, "XML_ParserCreate") && XML_SYM(parser_free, "XML_ParserFree") &&
	    XML_SYM(set_user_data, "XML_SetUserData") &&
	    XML_SYM(set_element_handler, "XML_SetElementHandler") &&
	    XML_SYM(set_character_data_handler, "XML_SetCharacterDataHandler") &&
	    XML_SYM(set_start_doctype_decl_handler, "XML_SetStartDoctypeDeclHandler") &&
	    XML_SYM(set_entity_decl_handler, "XML_SetEntityDeclHandler") &&
	    XML_SYM(stop_parser, "XML_StopParser") && XML_SYM(parse, "XML_Parse") &&
	    XML_SYM(get_error_code, "XML_GetErrorCode") && XML_SYM(error_string, "XML_ErrorString") &&
	    XML_SYM(current_line, "XML_GetCurrentLineNumber"))
		xp.handle = handle;
}

int autoconfig_ready(outbox *h)
{
	pthread_once(&xp_once, autoconfig_load);
	if (xp.handle == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "reading autoconfig documents needs expat: install libexpat1 (Debian); "
				   "libexpat.so.1 could not be loaded");
	return 0;
}

/* What an element means depends on its parent; anything not listed here is read past. */
enum ac_element {
	AC_OTHER,
	AC_ROOT,     /* clientConfig */
	AC_PROVIDER, /* clientConfig/emailProvider */
	AC_DOMAIN,   /* emailProvider/domain */
	AC_DISPLAY,  /* emailProvider/displayName */
	AC_SERVER,   /* emailProvider/outgoingServer type="smtp" */
	AC_HOSTNAME, /* outgoingServer/... */
	AC_PORT,
	AC_SOCKET,
	AC_AUTH,
	AC_USERNAME,
	AC_OAUTH,    /* clientConfig/oAuth2 */
	AC_ISSUER,   /* oAuth2/... */
	AC_AUTHURL
};

/* The text-valued elements, by their parent; field names as the error messages give them. */
static const struct {
	enum ac_element parent, self;
	const char *name, *field;
} ac_children[] = {
	{AC_PROVIDER, AC_DOMAIN, "domain", "emailProvider/domain"},
	{AC_PROVIDER, AC_DISPLAY, "displayName", "emailProvider/displayName"},
	{AC_SERVER, AC_HOSTNAME, "hostname", "outgoingServer/hostname"},
	{AC_SERVER, AC_PORT, "port", "outgoingServer/port"},
	{AC_SERVER, AC_SOCKET, "socketType", "outgoingServer/socketType"},
	{AC_SERVER, AC_AUTH, "authentication", "outgoingServer/authentication"},
	{AC_SERVER, AC_USERNAME, "username", "outgoingServer/username"},
	{AC_OAUTH, AC_ISSUER, "issuer", "oAuth2/issuer"},
	{AC_OAUTH, AC_AUTHURL, "authURL", "oAuth2/authURL"},
};
#define AC_CHILDREN (sizeof ac_children / sizeof ac_children[0])

/* Whether the element's own text is read (a leaf such as hostname), as opposed to a container. */
static int ac_has_text(enum ac_element e)
{
	return e != AC_OTHER && e != AC_ROOT && e != AC_PROVIDER && e != AC_SERVER && e != AC_OAUTH;
}

static const char *ac_field(enum ac_element e)
{
	size_t i;

	for (i = 0; i < AC_CHILDREN; i++)
		if (ac_children[i].self == e)
			return ac_children[i].field;
	return "clientConfig";
}

/* One outgoingServer as written, before it is judged (only a matching provider's are). */
struct ac_server {
	char *value[AC_USERNAME + 1]; /* by element: hostname, port, socketType, username */
	unsigned auth;                /* AUTOCONFIG_AUTH_* bits of its authentication elements */
};

struct ac_state {
	outbox *h;
	XML_Parser parser;
	const struct autoconfig_query *q;
	char domain[256]; /* in setup_address.c's form */
	int rc; /* the first failure; the parse stops there */
	enum ac_element stack[AUTOCONFIG_MAX_DEPTH];
	int depth;
	long elements;
	struct buf text; /* the character data of the text-valued element being read */
	/* The provider being read. */
	int matches;
	char display[128];
	struct ac_server servers[AUTOCONFIG_MAX_SERVERS];
	int nservers;
	/* What matching providers offer, judged, waiting for the oAuth2 element (it may come last). */
	struct setup_candidate found[AUTOCONFIG_MAX_SERVERS];
	unsigned found_auth[AUTOCONFIG_MAX_SERVERS];
	int nfound;
	char issuer[AUTOCONFIG_MAX_TEXT + 1], authurl[AUTOCONFIG_MAX_TEXT + 1];
};

static void ac_stop(struct ac_state *st, int rc)
{
	if (st->rc == 0)
		st->rc = rc;
	xp.stop_parser(st->parser, XML_FALSE);
}

static void ac_servers_clear(struct ac_state *st)
{
	int i;
	size_t k;

	for (i = 0; i < st->nservers; i++)
		for (k = 0; k < sizeof st->servers[i].value / sizeof st->servers[i].value[0]; k++)
			free(st->servers[i].value[k]);
	memset(st->servers, 0, sizeof st->servers);
	st->nservers = 0;
}

static const char *ac_attr(const XML_Char **attrs, const char *name)
{
	for (; attrs[0] != NULL; attrs += 2)
		if (strcmp(attrs[0], name) == 0)
			return attrs[1];
	return NULL;
}

/* What `name` under `parent` is; 0, or a failure that ends the parse. */
static int ac_classify(struct ac_state *st, enum ac_element parent, const char *name,
		       const XML_Char **attrs, enum ac_element *self)
{
	char shown[80];
	size_t i;

	*self = AC_OTHER;
	if (st->depth == 0) {
		const char *version = ac_attr(attrs, "version");

		validate_display(shown, sizeof shown, name, strlen(name));
		if (strcmp(name, "clientConfig") != 0)
			return outbox_fail(st->h, OUTBOX_EPROTOCOL, NULL,
					   "not an autoconfig document: the root element is <%s>, "
					   "want <clientConfig>", shown);
		/* 1.x only: a new major version may mean something else by the same elements. */
		if (version != NULL && strncmp(version, "1.", 2) != 0) {
			validate_display(shown, sizeof shown, version, strlen(version));
			return outbox_fail(st->h, OUTBOX_EPROTOCOL, "clientConfig",
					   "version \"%s\" is not one outbox reads (1.1)", shown);
		}
		*self = AC_ROOT;
		return 0;
	}
	if (parent == AC_ROOT && strcmp(name, "emailProvider") == 0) {
		*self = AC_PROVIDER;
	} else if (parent == AC_ROOT && strcmp(name, "oAuth2") == 0) {
		*self = AC_OAUTH;
	} else if (parent == AC_PROVIDER && strcmp(name, "outgoingServer") == 0) {
		const char *type = ac_attr(attrs, "type");

		if (type != NULL && strcmp(type, "smtp") == 0)
			*self = AC_SERVER;
	} else {
		for (i = 0; i < AC_CHILDREN; i++)
			if (ac_children[i].parent == parent && strcmp(ac_children[i].name, name) == 0)
				*self = ac_children[i].self;
	}
	return 0;
}

static void XMLCALL ac_start(void *ctx, const XML_Char *name, const XML_Char **attrs)
{
	struct ac_state *st = ctx;
	enum ac_element parent = st->depth ? st->stack[st->depth - 1] : AC_OTHER, self;
	int rc;

	if (st->rc != 0)
		return;
	if (++st->elements > AUTOCONFIG_MAX_ELEMENTS) {
		ac_stop(st, outbox_fail(st->h, OUTBOX_EPROTOCOL, NULL,
					"the autoconfig document has more than %d elements: refused",
					AUTOCONFIG_MAX_ELEMENTS));
		return;
	}
	if (st->depth == AUTOCONFIG_MAX_DEPTH) {
		ac_stop(st, outbox_fail(st->h, OUTBOX_EPROTOCOL, NULL,
					"the autoconfig document nests elements more than %d deep: "
					"refused", AUTOCONFIG_MAX_DEPTH));
		return;
	}
	if ((rc = ac_classify(st, parent, name, attrs, &self)) < 0) {
		ac_stop(st, rc);
		return;
	}
	if (self == AC_PROVIDER) {
		ac_servers_clear(st);
		st->matches = 0;
		st->display[0] = '\0';
	} else if (self == AC_SERVER) {
		if (st->nservers == AUTOCONFIG_MAX_SERVERS) {
			ac_stop(st, outbox_fail(st->h, OUTBOX_EPROTOCOL, "emailProvider",
						"more than %d SMTP outgoingServer elements: refused",
						AUTOCONFIG_MAX_SERVERS));
			return;
		}
		st->nservers++;
	}
	if (ac_has_text(self))
		buf_reset(&st->text);
	st->stack[st->depth++] = self;
}

static void XMLCALL ac_chars(void *ctx, const XML_Char *s, int len)
{
	struct ac_state *st = ctx;
	enum ac_element top;

	if (st->rc != 0 || st->depth == 0)
		return;
	top = st->stack[st->depth - 1];
	if (!ac_has_text(top))
		return;
	if (buf_append(&st->text, s, (size_t)len) < 0)
		ac_stop(st, outbox_fail(st->h, OUTBOX_EPROTOCOL, ac_field(top),
					"longer than %d bytes: refused", AUTOCONFIG_MAX_TEXT));
}

/* The element's text without the white space around it (a pretty-printed file has some). */
static char *ac_text(struct ac_state *st)
{
	char *s = st->text.data ? st->text.data : (char *)"";
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		s[--n] = '\0';
	return s;
}

/* Whether the document's <domain> names the domain asked about, in whichever form it is written
 * (case, a final dot, U-labels or A-labels): both in setup_address.c's form. */
static int ac_domain_equal(const char *text, const char *domain)
{
	char ascii[256], why[160];

	return setup_address_ascii(text, ascii, sizeof ascii, why, sizeof why) == 0 && strcmp(ascii, domain) == 0;
}

/* A text-valued element ended: keep what it said where its parent can use it. */
static int ac_keep(struct ac_state *st, enum ac_element self, const char *text)
{
	struct ac_server *srv = st->nservers ? &st->servers[st->nservers - 1] : NULL;

	switch (self) {
	case AC_DOMAIN:
		st->matches |= ac_domain_equal(text, st->domain);
		return 0;
	case AC_DISPLAY:
		if (st->display[0] == '\0')
			validate_display(st->display, sizeof st->display, text, strlen(text));
		return 0;
	case AC_AUTH:
		srv->auth |= autoconfig_auth_bit(text);
		return 0;
	case AC_HOSTNAME:
	case AC_PORT:
	case AC_SOCKET:
	case AC_USERNAME:
		if (srv->value[self] != NULL)
			return outbox_fail(st->h, OUTBOX_EPROTOCOL, "outgoingServer",
					   "more than one <%s> in one server: refused",
					   strrchr(ac_field(self), '/') + 1);
		if ((srv->value[self] = strdup(text)) == NULL)
			return outbox_fail(st->h, OUTBOX_ENOMEM, NULL, "out of memory");
		return 0;
	case AC_ISSUER:
		if (st->issuer[0] == '\0')
			snprintf(st->issuer, sizeof st->issuer, "%s", text);
		return 0;
	case AC_AUTHURL:
		if (st->authurl[0] == '\0')
			snprintf(st->authurl, sizeof st->authurl, "%s", text);
		return 0;
	default:
		return 0;
	}
}

/* A matching provider ended: judge each of its servers into a candidate. */
static int ac_provider_done(struct ac_state *st)
{
	int i, rc;

	for (i = 0; i < st->nservers; i++) {
		struct setup_candidate *c = &st->found[st->nfound];
		struct ac_server *srv = &st->servers[i];
		struct autoconfig_server_text t = {srv->value[AC_HOSTNAME], srv->value[AC_PORT],
						   srv->value[AC_SOCKET], srv->value[AC_USERNAME]};

		if (st->nfound == AUTOCONFIG_MAX_SERVERS)
			return outbox_fail(st->h, OUTBOX_EPROTOCOL, NULL,
					   "more than %d SMTP servers for %s: refused",
					   AUTOCONFIG_MAX_SERVERS, st->domain);
		memset(c, 0, sizeof *c);
		if ((rc = autoconfig_server_judge(st->h, &t, st->q->address, c)) < 0)
			return rc;
		c->source = st->q->source;
		snprintf(c->origin, sizeof c->origin, "%s", st->q->origin ? st->q->origin : "");
		memcpy(c->display_name, st->display, sizeof c->display_name);
		c->rank = st->nfound;
		st->found_auth[st->nfound++] = srv->auth;
	}
	return 0;
}

static void XMLCALL ac_end(void *ctx, const XML_Char *name)
{
	struct ac_state *st = ctx;
	enum ac_element self;
	int rc = 0;

	(void)name;
	if (st->rc != 0 || st->depth == 0)
		return;
	self = st->stack[--st->depth];
	if (self == AC_PROVIDER) {
		if (st->matches)
			rc = ac_provider_done(st);
		ac_servers_clear(st);
	} else if (ac_has_text(self)) {
		/* Text inside an element nested in this one was never added: only its own counts. */
		rc = ac_keep(st, self, ac_text(st));
		buf_reset(&st->text);
	}
	if (rc < 0)
		ac_stop(st, rc);
}

/* Entities come only from a DTD: with none allowed, no expansion, local or external, can happen. */
static void XMLCALL ac_doctype(void *ctx, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int internal_subset)
{
	struct ac_state *st = ctx;

	(void)name, (void)sysid, (void)pubid, (void)internal_subset;
	ac_stop(st, outbox_fail(st->h, OUTBOX_EPROTOCOL, NULL,
				"the autoconfig document has a DOCTYPE: refused (no DTD or entity is "
				"read)"));
}

static void XMLCALL ac_entity(void *ctx, const XML_Char *name, int is_param, const XML_Char *value,
			      int len, const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	ac_doctype(ctx, name, sysid, pubid, 1);
}

static int ac_run(struct ac_state *st, const char *doc, size_t len)
{
	enum XML_Status status;

	if ((st->parser = xp.parser_create(NULL)) == NULL)
		return outbox_fail(st->h, OUTBOX_ENOMEM, NULL, "out of memory");
	xp.set_user_data(st->parser, st);
	xp.set_element_handler(st->parser, ac_start, ac_end);
	xp.set_character_data_handler(st->parser, ac_chars);
	xp.set_start_doctype_decl_handler(st->parser, ac_doctype);
	xp.set_entity_decl_handler(st->parser, ac_entity);
	status = xp.parse(st->parser, doc, (int)len, 1);
	if (st->rc == 0 && status != XML_STATUS_OK) {
		const char *why = xp.error_string(xp.get_error_code(st->parser));

		st->rc = outbox_fail(st->h, OUTBOX_EPROTOCOL, NULL,
				     "the autoconfig document is not well-formed XML: %s at line %lu",
				     why ? why : "error", (unsigned long)xp.current_line(st->parser));
	}
	xp.parser_free(st->parser);
	return st->rc;
}

int autoconfig_parse(outbox *h, const struct autoconfig_query *q, const char *doc, size_t len,
		     struct setup_candidates *out)
{
	struct ac_state *st;
	const char *at = q->address ? strrchr(q->address, '@') : NULL;
	const char *preset;
	char why[160];
	size_t n0 = out->n;
	int rc, i;

	if (at == NULL || at == q->address || at[1] == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "address", "an address (user@domain) is required");
	if ((rc = autoconfig_ready(h)) < 0)
		return rc;
	if (len > AUTOCONFIG_MAX_BYTES)
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "the autoconfig document is larger than %d KiB: refused",
				   AUTOCONFIG_MAX_BYTES / 1024);
	if ((st = calloc(1, sizeof *st)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	st->h = h;
	st->q = q;
	rc = q->domain ? setup_address_ascii(q->domain, st->domain, sizeof st->domain, why, sizeof why)
		       : setup_address_domain(h, "address", q->address, st->domain, sizeof st->domain, NULL);
	if (rc < 0) {
		if (q->domain)
			outbox_fail(h, rc, "domain", "%.300s: %s", q->domain, why);
		free(st);
		return rc;
	}
	buf_init(&st->text, AUTOCONFIG_MAX_TEXT);
	rc = ac_run(st, doc, len);
	preset = autoconfig_oauth_preset(st->issuer, st->authurl);
	for (i = 0; rc == 0 && i < st->nfound; i++) {
		autoconfig_auth_choose(&st->found[i], st->found_auth[i], preset, q->oauth_usable);
		rc = setup_candidates_add(h, out, &st->found[i]);
	}
	/* All or nothing: a document refused halfway leaves the list as it was. */
	if (rc < 0)
		out->n = n0;
	ac_servers_clear(st);
	buf_free(&st->text);
	free(st);
	return rc;
}
