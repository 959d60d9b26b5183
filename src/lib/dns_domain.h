/* dns_domain.h: the registered domain of a host ("example.co.uk" for "mx1.mail.example.co.uk"),
 * by the Public Suffix List through libpsl (loaded with dlopen on first use), else a small rule. */
#ifndef OUTBOX_DNS_DOMAIN_H
#define OUTBOX_DNS_DOMAIN_H

#include <stddef.h>

/* The registered domain of `host` (ASCII, any case, no trailing dot) into out, lowercased: by
 * libpsl's newest list (the system's file or its built-in copy) when libpsl.so.5 loads, else by
 * dns_domain_rule. Returns 0, or -1 when host is itself a public suffix or has one label (then
 * out is ""). Thread-safe. */
int dns_domain_registered(const char *host, char *out, size_t size);

/* The rule used without libpsl: the last two labels, or the last three when the top-level
 * domain has two letters (a country) and the label before it is one of the generic second
 * levels countries register under (co, com, net, org, gov, edu, ac, ne, or, go, ltd, plc):
 * "mail.example.co.uk" -> "example.co.uk", "mx.example.de" -> "example.de". Same results. */
int dns_domain_rule(const char *host, char *out, size_t size);

#endif
