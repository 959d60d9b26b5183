/* autoconfig_fetch.c: one autoconfig lookup over HTTPS (http.c), from the URL to the report: what
 * the answer means for `outbox setup` (found, not offered, no answer, failed) is decided here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig.h"
#include "autoconfig_fetch.h"
#include "autoconfig_redirect.h"
#include "handle_internal.h"
#include "net.h"
#include "setup_address.h"
#include "validate.h"

/* The domain a source asks about: the address's, or an MX host's registered domain, in the one
 * form setup_address.c gives (lower case as ISPDB entries are named, A-labels as DNS has them). */
static int fetch_domain(outbox *h, const struct autoconfig_fetch *f, enum setup_source source,
			const char *domain, char *out, size_t size)
{
	const char *name;
	char why[160];
	int rc;

	if (f->address == NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "address", "is required");
	if ((rc = validate_address(h, "address", f->address)) < 0)
		return rc;
	if (source == SETUP_SOURCE_MX && domain == NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "domain",
				   "an MX lookup needs the MX host's registered domain");
	/* The address's own domain is the caller's value ("address"); an MX host's is DNS's ("domain"). */
	name = domain ? domain : strrchr(f->address, '@') + 1;
	if (*name == '[' || net_ip_literal(name, NULL) || strchr(name, ':') != NULL)
		return outbox_fail(h, OUTBOX_EINVALID, domain ? "domain" : "address",
				   "%.100s is an address, not a domain: it has no autoconfig", name);
	if (domain == NULL)
		return setup_address_domain(h, "address", f->address, out, size, NULL);
	if ((rc = validate_host(h, "domain", domain)) < 0)
		return rc;
	if ((rc = setup_address_ascii(domain, out, size, why, sizeof why)) == OUTBOX_ENOMEM)
		return outbox_fail(h, rc, NULL, "out of memory");
	if (rc < 0)
		return outbox_fail(h, rc, "domain", "%.300s: %s", domain, why);
	return 0;
}

/* BASE for the ISPDB, checked: https:// (http:// only to loopback), no query or fragment. */
static int fetch_ispdb_base(outbox *h, const struct autoconfig_fetch *f, const char **base)
{
	int rc;

	*base = f->ispdb ? f->ispdb : AUTOCONFIG_ISPDB_DEFAULT;
	if ((rc = http_url_check(h, "ispdb", *base)) < 0)
		return rc;
	if (strpbrk(*base, "?#") != NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "ispdb",
				   "%.200s has a query or fragment: give the base the domain is appended to",
				   *base);
	return 0;
}

int autoconfig_fetch_url(outbox *h, const struct autoconfig_fetch *f, enum setup_source source,
			 const char *domain, struct buf *out)
{
	char dom[256];
	const char *base;
	int rc;

	if ((rc = fetch_domain(h, f, source, domain, dom, sizeof dom)) < 0)
		return rc;
	switch (source) {
	case SETUP_SOURCE_AUTOCONFIG:
		if (buf_printf(out, "https://autoconfig.%s/mail/config-v1.1.xml?emailaddress=", dom) < 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		return http_escape(h, out, f->address);
	case SETUP_SOURCE_WELL_KNOWN:
		rc = buf_printf(out, "https://%s/.well-known/autoconfig/mail/config-v1.1.xml", dom);
		break;
	case SETUP_SOURCE_ISPDB:
	case SETUP_SOURCE_MX:
		if ((rc = fetch_ispdb_base(h, f, &base)) < 0)
			return rc;
		rc = buf_printf(out, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", dom);
		break;
	default:
		return outbox_fail(h, OUTBOX_EINVALID, "source", "not an autoconfig source");
	}
	return rc < 0 ? outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory") : 0;
}

int autoconfig_fetch_stops_run(int rc, const char *field)
{
	/* ECONFIG comes only from this machine: libcurl or expat that cannot load, a CA file that
	 * cannot be read (http.c gives a server's bad answer a code of its own). The address and the
	 * ISPDB URL are the caller's, the same for every source; a domain DNS handed in is not. */
	return rc == OUTBOX_ENOMEM || rc == OUTBOX_ECONFIG ||
	       (rc == OUTBOX_EINVALID && field && (strcmp(field, "address") == 0 || strcmp(field, "ispdb") == 0));
}

static void report_set(struct setup_report *r, enum setup_outcome outcome, const char *detail)
{
	r->outcome = outcome;
	validate_display(r->detail, sizeof r->detail, detail, strlen(detail));
}

/* What a document that came back means, into the report; candidates appended when found. */
static int fetch_judge_document(outbox *scratch, const struct autoconfig_fetch *f,
				enum setup_source source, const char *domain, const char *url,
				const struct http_response *resp, struct setup_candidates *out,
				struct setup_report *r)
{
	struct autoconfig_query q = {f->address, domain, source, url, f->oauth_usable};
	size_t before = out->n, found;
	char words[300];
	int rc = autoconfig_parse(scratch, &q, resp->body.data, resp->body.len, out);

	if (rc == OUTBOX_ECONFIG || rc == OUTBOX_ENOMEM)
		return rc;
	if (rc < 0) {
		report_set(r, SETUP_FAILED, outbox_errmsg(scratch));
		return 0;
	}
	found = out->n - before;
	if (found == 0) {
		snprintf(words, sizeof words, "no SMTP server for %s in it", domain);
		report_set(r, SETUP_NOT_OFFERED, words);
	} else {
		snprintf(words, sizeof words, "%zu SMTP server%s%s%s%s", found, found == 1 ? "" : "s",
			 out->v[before].display_name[0] ? " (" : "", out->v[before].display_name,
			 out->v[before].display_name[0] ? ")" : "");
		report_set(r, SETUP_FOUND, words); /* the display name is rendered: this keeps it so */
	}
	return 0;
}

/* What an HTTP status means when it is neither 200 nor a redirect followed. */
static void fetch_judge_status(long status, struct setup_report *r)
{
	char words[96];

	if (status == 404 || status == 410) {
		snprintf(words, sizeof words, "HTTP %ld: none here", status);
		report_set(r, SETUP_NOT_OFFERED, words);
	} else if (status >= 300 && status < 400) {
		snprintf(words, sizeof words, "HTTP %ld: not a redirect to one document, not followed", status);
		report_set(r, SETUP_FAILED, words);
	} else {
		snprintf(words, sizeof words, "HTTP %ld: not an autoconfig document", status);
		report_set(r, SETUP_FAILED, words);
	}
}

/* Pin the host of the URL about to be asked: the caller's way, else the fixed pins. A name the
 * resolver does not know is "not offered" for the first URL (the domain has no such host) and
 * "failed" after a redirect (the provider sent us to a host that does not exist). */
static int fetch_pin(outbox *scratch, const struct autoconfig_fetch *f, const struct autoconfig_hops *hops,
		     struct http_request *req, struct setup_report *r)
{
	int rc;

	req->pins = f->pins;
	req->pin_count = f->pin_count;
	if (f->pin == NULL)
		return 0;
	req->pins = NULL;
	req->pin_count = 0;
	if ((rc = f->pin(f->pin_ctx, scratch, hops->url[hops->n - 1], &req->pins, &req->pin_count)) == 0 ||
	    rc == OUTBOX_ENOMEM)
		return rc;
	report_set(r, rc == OUTBOX_ETEMPFAIL ? SETUP_NO_ANSWER
		      : rc == OUTBOX_EUNAVAILABLE && hops->n == 1 ? SETUP_NOT_OFFERED : SETUP_FAILED,
		   outbox_errdetail(scratch));
	return 1;
}

/* Ask the URLs of `hops` in turn, each redirect judged by autoconfig_redirect_next, until an
 * answer that is not a redirect (in *resp, 0) or a failure: the report filled and 1, or a code
 * for every source. */
static int fetch_follow(outbox *scratch, const struct autoconfig_fetch *f, struct autoconfig_hops *hops,
			struct http_request *req, struct http_response *resp, struct setup_report *r)
{
	long long now;
	int rc;

	for (;;) {
		now = net_now_ms();
		if (f->deadline_ms > 0 && f->deadline_ms <= now) {
			report_set(r, SETUP_NO_ANSWER, hops->n == 1 ? "not asked: the deadline had passed"
								 : "the deadline passed before the redirect's "
								   "URL could be asked");
			return 1;
		}
		if ((rc = fetch_pin(scratch, f, hops, req, r)) != 0)
			return rc;
		/* The pin's lookup may have taken most of what was left: the request gets the rest. */
		now = net_now_ms();
		if (f->deadline_ms > 0 && f->deadline_ms <= now) {
			report_set(r, SETUP_NO_ANSWER, "the deadline passed while its host was looked up");
			return 1;
		}
		req->url = hops->url[hops->n - 1];
		req->timeout_ms = f->deadline_ms > 0 ? (long)(f->deadline_ms - now) : 0;
		if ((rc = http_perform(scratch, req, resp)) < 0 || !autoconfig_redirect_status(resp->status))
			return rc;
		if ((rc = autoconfig_redirect_next(scratch, hops, resp)) == OUTBOX_EPROTOCOL) {
			report_set(r, SETUP_FAILED, outbox_errdetail(scratch));
			return 1;
		}
		if (rc < 0)
			return rc;
		http_response_free(resp);
	}
}

int autoconfig_fetch(outbox *h, const struct autoconfig_fetch *f, enum setup_source source,
		     const char *domain, struct setup_candidates *out, struct setup_report *r)
{
	struct buf url = BUF_INIT;
	struct http_response resp;
	struct http_request req = {0};
	struct autoconfig_hops *hops = NULL;
	outbox scratch = {0};
	long long start = net_now_ms();
	char dom[256], words[96];
	int rc;

	memset(r, 0, sizeof *r);
	memset(&resp, 0, sizeof resp);
	r->source = source;
	if (domain) /* until the URL is built: a domain no URL can name is told by name */
		validate_display(r->what, sizeof r->what, domain, strlen(domain));
	/* Each lookup's own failures go to its report: threads never share an error slot. */
	if ((rc = fetch_domain(&scratch, f, source, domain, dom, sizeof dom)) < 0 ||
	    (rc = autoconfig_fetch_url(&scratch, f, source, dom, &url)) < 0 ||
	    (rc = autoconfig_ready(&scratch)) < 0)
		goto out;
	validate_display(r->what, sizeof r->what, url.data, url.len);
	if ((hops = malloc(sizeof *hops)) == NULL) {
		rc = outbox_fail(&scratch, OUTBOX_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = autoconfig_redirect_start(&scratch, hops, url.data)) < 0)
		goto out;
	req.ca_file = f->ca_file;
	req.verbose = f->verbose;
	req.accept = "application/xml, text/xml;q=0.9, */*;q=0.1";
	rc = fetch_follow(&scratch, f, hops, &req, &resp, r);
	if (hops->n > 1)
		validate_display(r->redirected_to, sizeof r->redirected_to, hops->url[hops->n - 1],
				 strlen(hops->url[hops->n - 1]));
	if (rc == 1) {
		rc = 0; /* the report says it */
	} else if (rc == 0 && resp.status == 200) {
		rc = fetch_judge_document(&scratch, f, source, dom, hops->url[hops->n - 1], &resp, out, r);
	} else if (rc == 0) {
		fetch_judge_status(resp.status, r);
	} else if (resp.timed_out) {
		snprintf(words, sizeof words, "no answer in %.1f s", (double)(net_now_ms() - start) / 1000);
		report_set(r, SETUP_NO_ANSWER, words);
		rc = 0;
	}
out:
	if (rc < 0 && !autoconfig_fetch_stops_run(rc, outbox_errfield(&scratch))) {
		/* Nothing there (no such host, nothing listening) or the answer cut off midway: no
		 * answer. Anything else this lookup met (a certificate refused, an answer that is no HTTP
		 * or too large, a domain no URL can name): this source failed, the others go on. */
		report_set(r, rc == OUTBOX_ETEMPFAIL ? SETUP_NO_ANSWER : SETUP_FAILED, outbox_errmsg(&scratch));
		rc = 0;
	} else if (rc < 0) {
		report_set(r, SETUP_FAILED, outbox_errmsg(&scratch));
		outbox_fail(h, rc, outbox_errfield(&scratch), "%s", outbox_errdetail(&scratch));
	}
	r->ms = net_now_ms() - start;
	http_response_free(&resp);
	buf_free(&url);
	free(hops);
	return rc;
}
