/* SPDX-License-Identifier: MIT */
/* json.c: what every JSON reader of the project checks before it hands a
 * document to a parser. yajl's tree builder and everything that walks or
 * frees its trees recurse once per level of nesting, so a document nested a
 * million levels deep (a few MB of '[') would overflow the stack: the
 * document is refused first, as Go's encoding/json does ("exceeded max
 * depth"). */
#include "fc-util.h"

int fc_json_check_depth(const char *json, size_t len, unsigned max_depth, const char *what,
                        struct fc_error **err)
{
	unsigned depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = json[i];
		if (in_string) {
			if (c == '\\')
				i++; /* the escaped character cannot end the string */
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			break;
		case '[':
		case '{':
			if (++depth > max_depth)
				return fc_error_relay(
				    err, E2BIG,
				    "%s: exceeded max depth: nested deeper than %u levels "
				    "at byte %zu",
				    what ? what : "JSON document", max_depth, i);
			break;
		case ']':
		case '}':
			if (depth)
				depth--;
			break;
		default:
			break;
		}
	}
	return 0;
}
