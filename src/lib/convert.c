/* convert.c: re-encodes the parts of a spooled message that a server cannot take as they are, with
 * GMime 3 doing the MIME parsing and the encoding; contents are read from the spool file, not memory. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "convert.h"
#include "handle_internal.h"
#include "message.h"

#define SCAN_CHUNK (64 * 1024)

/* GMime (with GLib and GIO under it) is loaded with dlopen the first time a message needs
 * converting, and started then: linked, it would add to the start of every plain send. Only the
 * symbols used here, resolved once for the whole process; GMime's type macros call functions by
 * name, so types are checked through these too. */
static struct {
	void *handle;
	void (*init)(void);
	GType (*part_type)(void);
	GType (*message_part_type)(void);
	gboolean (*type_is_a)(GTypeInstance *, GType);
	void (*unref)(gpointer);
	GMimeStream *(*stream_fs_new)(int);
	int (*stream_reset)(GMimeStream *);
	ssize_t (*stream_read)(GMimeStream *, char *, size_t);
	gboolean (*stream_eos)(GMimeStream *);
	int (*stream_flush)(GMimeStream *);
	GMimeStream *(*stream_filter_new)(GMimeStream *);
	int (*stream_filter_add)(GMimeStreamFilter *, GMimeFilter *);
	GMimeFilter *(*dos2unix_new)(gboolean);
	GMimeFilter *(*unix2dos_new)(gboolean);
	GMimeParser *(*parser_new)(GMimeStream *);
	void (*parser_persist)(GMimeParser *, gboolean);
	GMimeMessage *(*parser_message)(GMimeParser *, GMimeParserOptions *);
	void (*message_foreach)(GMimeMessage *, GMimeObjectForeachFunc, gpointer);
	GMimeMessage *(*message_part_message)(GMimeMessagePart *);
	GMimeContentType *(*content_type)(GMimeObject *);
	gboolean (*content_type_is)(GMimeContentType *, const char *, const char *);
	const char *(*content_type_param)(GMimeContentType *, const char *);
	void (*set_content_type_param)(GMimeObject *, const char *, const char *);
	const char *(*get_header)(GMimeObject *, const char *);
	void (*set_header)(GMimeObject *, const char *, const char *, const char *);
	GMimeDataWrapper *(*part_content)(GMimePart *);
	void (*set_part_content)(GMimePart *, GMimeDataWrapper *);
	void (*set_part_encoding)(GMimePart *, GMimeContentEncoding);
	GMimeStream *(*wrapper_stream)(GMimeDataWrapper *);
	GMimeContentEncoding (*wrapper_encoding)(GMimeDataWrapper *);
	GMimeDataWrapper *(*wrapper_new)(GMimeStream *, GMimeContentEncoding);
	GMimeFormatOptions *(*format_new)(void);
	void (*format_newline)(GMimeFormatOptions *, GMimeNewLineFormat);
	void (*format_free)(GMimeFormatOptions *);
	ssize_t (*write_object)(GMimeObject *, GMimeFormatOptions *, GMimeStream *);
	GMimeHeaderList *(*header_list)(GMimeObject *);
	int (*header_count)(GMimeHeaderList *);
	GMimeHeader *(*header_at)(GMimeHeaderList *, int);
	const char *(*header_name)(GMimeHeader *);
	const char *(*header_raw)(GMimeHeader *);
	const char *(*header_value)(GMimeHeader *);
	void (*header_set_value)(GMimeHeader *, GMimeFormatOptions *, const char *, const char *);
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

#define CONVERT_SYM(field, name) (*(void **)&lib.field = dlsym(handle, name)) != NULL

static void convert_load(void)
{
	void *handle = dlopen("libgmime-3.0.so.0", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	if (CONVERT_SYM(init, "g_mime_init") && CONVERT_SYM(part_type, "g_mime_part_get_type") &&
	    CONVERT_SYM(message_part_type, "g_mime_message_part_get_type") &&
	    CONVERT_SYM(type_is_a, "g_type_check_instance_is_a") && CONVERT_SYM(unref, "g_object_unref") &&
	    CONVERT_SYM(stream_fs_new, "g_mime_stream_fs_new") && CONVERT_SYM(stream_reset, "g_mime_stream_reset") &&
	    CONVERT_SYM(stream_read, "g_mime_stream_read") && CONVERT_SYM(stream_eos, "g_mime_stream_eos") &&
	    CONVERT_SYM(stream_flush, "g_mime_stream_flush") &&
	    CONVERT_SYM(stream_filter_new, "g_mime_stream_filter_new") &&
	    CONVERT_SYM(stream_filter_add, "g_mime_stream_filter_add") &&
	    CONVERT_SYM(dos2unix_new, "g_mime_filter_dos2unix_new") &&
	    CONVERT_SYM(unix2dos_new, "g_mime_filter_unix2dos_new") &&
	    CONVERT_SYM(parser_new, "g_mime_parser_new_with_stream") &&
	    CONVERT_SYM(parser_persist, "g_mime_parser_set_persist_stream") &&
	    CONVERT_SYM(parser_message, "g_mime_parser_construct_message") &&
	    CONVERT_SYM(message_foreach, "g_mime_message_foreach") &&
	    CONVERT_SYM(message_part_message, "g_mime_message_part_get_message") &&
	    CONVERT_SYM(content_type, "g_mime_object_get_content_type") &&
	    CONVERT_SYM(content_type_is, "g_mime_content_type_is_type") &&
	    CONVERT_SYM(content_type_param, "g_mime_content_type_get_parameter") &&
	    CONVERT_SYM(set_content_type_param, "g_mime_object_set_content_type_parameter") &&
	    CONVERT_SYM(get_header, "g_mime_object_get_header") && CONVERT_SYM(set_header, "g_mime_object_set_header") &&
	    CONVERT_SYM(part_content, "g_mime_part_get_content") &&
	    CONVERT_SYM(set_part_content, "g_mime_part_set_content") &&
	    CONVERT_SYM(set_part_encoding, "g_mime_part_set_content_encoding") &&
	    CONVERT_SYM(wrapper_stream, "g_mime_data_wrapper_get_stream") &&
	    CONVERT_SYM(wrapper_encoding, "g_mime_data_wrapper_get_encoding") &&
	    CONVERT_SYM(wrapper_new, "g_mime_data_wrapper_new_with_stream") &&
	    CONVERT_SYM(format_new, "g_mime_format_options_new") &&
	    CONVERT_SYM(format_newline, "g_mime_format_options_set_newline_format") &&
	    CONVERT_SYM(format_free, "g_mime_format_options_free") &&
	    CONVERT_SYM(write_object, "g_mime_object_write_to_stream") &&
	    CONVERT_SYM(header_list, "g_mime_object_get_header_list") &&
	    CONVERT_SYM(header_count, "g_mime_header_list_get_count") &&
	    CONVERT_SYM(header_at, "g_mime_header_list_get_header_at") &&
	    CONVERT_SYM(header_name, "g_mime_header_get_name") &&
	    CONVERT_SYM(header_raw, "g_mime_header_get_raw_value") &&
	    CONVERT_SYM(header_value, "g_mime_header_get_value") &&
	    CONVERT_SYM(header_set_value, "g_mime_header_set_value")) {
		/* Once, here, before any thread converts. */
		lib.init();
		lib.handle = handle;
	}
}

static int convert_is(gpointer obj, GType type)
{
	return obj != NULL && lib.type_is_a((GTypeInstance *)obj, type);
}

/* What a part's content (as it is on the wire) holds. */
struct convert_scan {
	int long_line, eight_bit, utf8; /* utf8: every 8-bit sequence is well-formed UTF-8 */
	size_t line_len;
	int utf8_more; /* continuation octets still expected */
};

static void convert_scan_bytes(struct convert_scan *s, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '\n' || c == '\r')
			s->line_len = 0;
		else if (++s->line_len > MESSAGE_MAX_LINE)
			s->long_line = 1;
		if (c < 0x80) {
			if (s->utf8_more)
				s->utf8 = 0;
			s->utf8_more = 0;
			continue;
		}
		s->eight_bit = 1;
		if (s->utf8_more) {
			if ((c & 0xc0) == 0x80) {
				s->utf8_more--;
			} else {
				s->utf8 = 0;
				s->utf8_more = 0;
			}
		} else if (c >= 0xc2 && c <= 0xdf) {
			s->utf8_more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			s->utf8_more = 2;
		} else if (c >= 0xf0 && c <= 0xf4) {
			s->utf8_more = 3;
		} else {
			s->utf8 = 0;
		}
	}
}

struct convert_walk {
	unsigned what;
	int parts;
	int failed; /* reading a part's content failed */
};

static void convert_part(GMimeObject *parent, GMimeObject *obj, gpointer data);

/* Re-encode one leaf part when its content has what the walk converts. */
static void convert_leaf(struct convert_walk *walk, GMimePart *part)
{
	GMimeDataWrapper *content = lib.part_content(part), *wrapped;
	GMimeContentType *type = lib.content_type((GMimeObject *)part);
	GMimeContentEncoding from, to;
	GMimeStream *stream, *filtered;
	GMimeFilter *dos2unix;
	struct convert_scan scan = {0, 0, 1, 0, 0};
	unsigned char chunk[4096];
	ssize_t n;
	int text;

	if (content == NULL || (stream = lib.wrapper_stream(content)) == NULL)
		return;
	if (lib.stream_reset(stream) < 0) {
		walk->failed = 1;
		return;
	}
	/* A bounded stream answers a read at its end with -1: only -1 before the end is an error. */
	while ((n = lib.stream_read(stream, (char *)chunk, sizeof chunk)) > 0)
		convert_scan_bytes(&scan, chunk, (size_t)n);
	if ((n < 0 && !lib.stream_eos(stream)) || lib.stream_reset(stream) < 0) {
		walk->failed = 1;
		return;
	}
	if (!((scan.long_line && (walk->what & CONVERT_LONG_LINES)) || (scan.eight_bit && (walk->what & CONVERT_8BIT))))
		return;
	from = lib.wrapper_encoding(content);
	text = type == NULL || lib.content_type_is(type, "text", "*");
	/* Quoted-printable keeps text readable; what was quoted-printable already (and still has a
	 * long line) and anything not text goes as base64, which never depends on line ends. */
	to = text && from != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
								       : GMIME_CONTENT_ENCODING_BASE64;
	if (to == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
		/* The spool holds CRLF line ends; the encoder must see a text's line breaks as LF to write
		 * them as hard breaks (not "=0D"), and the output goes back to CRLF. The filter reads the
		 * spool file as the part is written: nothing is held. */
		filtered = lib.stream_filter_new(stream);
		dos2unix = lib.dos2unix_new(FALSE);
		lib.stream_filter_add((GMimeStreamFilter *)filtered, dos2unix);
		lib.unref(dos2unix);
		wrapped = lib.wrapper_new(filtered, from);
		lib.unref(filtered);
		lib.set_part_content(part, wrapped);
		lib.unref(wrapped);
	}
	/* 8-bit text of a message that never named its charset: say what it is where that is known. */
	if (text && scan.eight_bit && (type == NULL || lib.content_type_param(type, "charset") == NULL))
		lib.set_content_type_param((GMimeObject *)part, "charset",
							 scan.utf8 && !scan.utf8_more ? "utf-8" : "unknown-8bit");
	lib.set_part_encoding(part, to);
	walk->parts++;
}

/* A message/rfc822 part may not be encoded itself (RFC 2046 5.2.1): its own parts are. */
static void convert_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct convert_walk *walk = data;
	GMimeMessage *inner;

	(void)parent;
	if (convert_is(obj, lib.message_part_type())) {
		inner = lib.message_part_message((GMimeMessagePart *)obj);
		if (inner != NULL)
			lib.message_foreach(inner, convert_part, walk);
	} else if (convert_is(obj, lib.part_type())) {
		convert_leaf(walk, (GMimePart *)obj);
	}
}

static int convert_is_8bit(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* The headers whose UTF-8 has an ASCII form: address fields (domains as A-labels, display names as
 * encoded words) and unstructured text (encoded words, RFC 2047). Message-ID and the like have none. */
static int convert_header_encodable(const char *name)
{
	static const char *const names[] = {"From",	     "To",	       "Cc",	      "Bcc",
					    "Reply-To",	     "Sender",	       "Resent-From", "Resent-To",
					    "Resent-Cc",     "Resent-Bcc",     "Resent-Sender",
					    "Resent-Reply-To", "Subject",      "Comments"};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Rewrite the message's own UTF-8 headers that have an ASCII form, each by GMime's formatter for
 * its kind: an address field's mailboxes get their domains as A-labels (a UTF-8 local part stays,
 * having no other form), its names and unstructured text become encoded words. Other headers are
 * left byte for byte. Returns whether 8-bit remains in a header: only SMTPUTF8 carries that. */
static int convert_headers(GMimeObject *msg, unsigned what, int *rewritten)
{
	GMimeHeaderList *list = lib.header_list(msg);
	GMimeHeader *header;
	char *value;
	int i, n = lib.header_count(list), left = 0;

	for (i = 0; i < n; i++) {
		header = lib.header_at(list, i);
		if (!convert_is_8bit(lib.header_raw(header)))
			continue;
		if ((what & CONVERT_HEADERS) && convert_header_encodable(lib.header_name(header)) &&
		    (value = strdup(lib.header_value(header))) != NULL) {
			lib.header_set_value(header, NULL, value, "utf-8");
			free(value);
			(*rewritten)++;
		}
		left |= convert_is_8bit(lib.header_raw(header));
	}
	return left;
}

static int convert_end_line(outbox *h, int fd, off_t *at)
{
	char tail[2] = {0, 0};
	off_t from = *at >= 2 ? *at - 2 : 0;

	if (pread(fd, tail + (*at >= 2 ? 0 : 1), (size_t)(*at - from), from) != *at - from)
		return outbox_fail(h, OUTBOX_EIO, NULL, "reading the converted message failed: %s", strerror(errno));
	if (tail[0] == '\r' && tail[1] == '\n')
		return 0;
	if (tail[1] == '\n' || tail[1] == '\r')
		(*at)--; /* the bare line end becomes a CRLF */
	if (pwrite(fd, "\r\n", 2, *at) != 2)
		return outbox_fail(h, OUTBOX_EIO, NULL, "writing the converted message failed: %s", strerror(errno));
	*at += 2;
	return 0;
}

/* Read back what was written: its size, whether a line is still too long, whether 8-bit remains. */
static int convert_check(outbox *h, int fd, struct convert_result *res)
{
	struct convert_scan scan = {0, 0, 1, 0, 0};
	unsigned char *chunk = malloc(SCAN_CHUNK);
	off_t at = 0;
	ssize_t n;
	int rc;

	if (chunk == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	while ((n = pread(fd, chunk, SCAN_CHUNK, at)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(chunk);
			return outbox_fail(h, OUTBOX_EIO, NULL, "reading the converted message failed: %s",
					   strerror(errno));
		}
		convert_scan_bytes(&scan, chunk, (size_t)n);
		at += n;
	}
	free(chunk);
	/* GMime ends the message as its last part or epilogue ended, at times with a bare LF; the
	 * spool's wire form (and SMTP's end of data) wants a CRLF there. */
	if (at > 0 && (rc = convert_end_line(h, fd, &at)) < 0)
		return rc;
	res->size = at;
	res->has_8bit = scan.eight_bit;
	if (scan.long_line)
		return outbox_fail(h, OUTBOX_EINVALID, "message",
				   "a line over %d octets is outside any part's content (a header of a part?) and "
				   "cannot be encoded: wrap it",
				   MESSAGE_MAX_LINE);
	return 0;
}

int convert_message(outbox *h, int in_fd, int out_fd, unsigned what, struct convert_result *res)
{
	struct convert_walk walk = {what, 0, 0};
	GMimeStream *in = NULL, *out = NULL, *file = NULL;
	GMimeFilter *crlf;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GMimeFormatOptions *format = NULL;
	int in_copy = -1, out_copy = -1, rc = 0;

	memset(res, 0, sizeof *res);
	pthread_once(&lib_once, convert_load);
	if (lib.handle == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "re-encoding the message for this server needs GMime: install libgmime-3.0-0 "
				   "(Debian); libgmime-3.0.so.0 could not be loaded");
	/* GMime's streams own their descriptors: they get copies, and the caller keeps its own. */
	if (lseek(in_fd, 0, SEEK_SET) != 0 || (in_copy = dup(in_fd)) < 0 || (out_copy = dup(out_fd)) < 0) {
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot read the message to convert it: %s", strerror(errno));
		goto out;
	}
	in = lib.stream_fs_new(in_copy);
	in_copy = -1;
	parser = lib.parser_new(in);
	/* On a seekable stream the parts' contents stay in the file; only their bounds are kept. */
	lib.parser_persist(parser, TRUE);
	if ((msg = lib.parser_message(parser, NULL)) == NULL) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "message", "the message cannot be read as MIME to convert it");
		goto out;
	}
	lib.message_foreach(msg, convert_part, &walk);
	if (walk.failed) {
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "reading a part of the message to convert it failed");
		goto out;
	}
	res->parts = walk.parts;
	res->header_8bit = convert_headers((GMimeObject *)msg, what, &res->headers);
	/* A message without MIME headers has become a MIME message by its new encoding. */
	if (walk.parts > 0 && lib.get_header((GMimeObject *)msg, "MIME-Version") == NULL)
		lib.set_header((GMimeObject *)msg, "MIME-Version", "1.0", NULL);
	/* GMime writes a multipart's preamble and epilogue (and an odd structure's text) with the line
	 * ends it read them with, at times bare LF: everything goes out through a filter to CRLF. */
	file = lib.stream_fs_new(out_copy);
	out_copy = -1;
	out = lib.stream_filter_new(file);
	crlf = lib.unix2dos_new(FALSE);
	lib.stream_filter_add((GMimeStreamFilter *)out, crlf);
	lib.unref(crlf);
	format = lib.format_new();
	lib.format_newline(format, GMIME_NEWLINE_FORMAT_DOS);
	if (lib.write_object((GMimeObject *)msg, format, out) < 0 || lib.stream_flush(out) < 0 ||
	    lib.stream_flush(file) < 0) {
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "writing the converted message failed: %s", strerror(errno));
		goto out;
	}
	rc = convert_check(h, out_fd, res);
out:
	if (format)
		lib.format_free(format);
	if (msg)
		lib.unref(msg);
	if (parser)
		lib.unref(parser);
	if (in)
		lib.unref(in);
	if (out)
		lib.unref(out);
	if (file)
		lib.unref(file);
	if (in_copy >= 0)
		close(in_copy);
	if (out_copy >= 0)
		close(out_copy);
	return rc;
}
