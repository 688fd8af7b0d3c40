/* text_check.h - whole-line checks on rendered text (metrics exposition,
 * status and explain output) for the unit tests: a line must stand alone,
 * so a changed or extra word around it fails. */
#ifndef MEMTUNED_TEST_TEXT_CHECK_H
#define MEMTUNED_TEST_TEXT_CHECK_H

#include <stdbool.h>
#include <string.h>

/* Is `line` one whole line of text (the last may lack its newline)? */
static inline bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

#define ck_line(text, line) \
	ck_assert_msg(has_line(text, line), "missing line: %s\nin:\n%s", \
	    line, text)

#endif
