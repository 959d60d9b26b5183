/* http_location.c: the Location header picked out of an answer's header lines, bounded and checked,
 * for the redirects setup's lookups follow (autoconfig_redirect.c). Pure: a line in, a value out. */
#include <string.h>
#include <strings.h>

#include "http.h"

int http_location_value(const char *line, size_t len, char *out, size_t size)
{
	static const char name[] = "location:";
	size_t start = sizeof name - 1, end = len, i;

	if (len < start || strncasecmp(line, name, start) != 0 || memchr(line, '\0', start) != NULL)
		return 0;
	while (start < len && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && strchr(" \t\r\n", line[end - 1]) != NULL && line[end - 1] != '\0')
		end--;
	if (end == start || end - start >= size)
		return -1;
	/* A URI reference is printable ASCII without spaces (RFC 3986): anything else is a server's
	 * mistake or a trick, and is refused rather than guessed at. */
	for (i = start; i < end; i++)
		if ((unsigned char)line[i] <= 0x20 || (unsigned char)line[i] >= 0x7f)
			return -1;
	memcpy(out, line + start, end - start);
	out[end - start] = '\0';
	return 1;
}
