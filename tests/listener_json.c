/* listener_json: one listener's object out of a qtune JSON document. */
#include "listener_json.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

char *listener_json(const char *doc, uint16_t port)
{
	char needle[32];
	const char *at, *end;

	snprintf(needle, sizeof(needle), "\"port\":%u,", port);
	at = strstr(doc, needle);
	cr_assert(at, "no listener on %u in %s", port, doc);
	/* "advice" is a listener's last member: an object or null. */
	end = strstr(at, "\"advice\":");
	end = end ? strchr(end, '}') : NULL;
	return strndup(at, end ? (size_t)(end - at + 1) : strlen(at));
}
