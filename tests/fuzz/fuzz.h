/* fuzz.h - what every libFuzzer target here shares: a NUL-terminated copy
 * of the input (the parsers take C strings, as read by mt_read_file), quiet
 * logging, and a check that an error message was written and terminated. */
#ifndef MEMTUNED_FUZZ_H
#define MEMTUNED_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant the parser documents was broken: abort so libFuzzer keeps
 * the input as a crash. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The parsers read what mt_read_file returns: text with a NUL after it. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error return must leave a terminated, non-empty message. The buffer
 * starts filled with 'X' so a parser that forgets to write it is seen. */
static inline void
fuzz_err_init(char *err, size_t len)
{
	memset(err, 'X', len);
}

static inline void
fuzz_err_check(int rc, const char *err, size_t len)
{
	if (rc == 0)
		return;
	FUZZ_CHECK(memchr(err, '\0', len) != NULL);
}

/* Errors only: the parsers' warnings would drown the fuzzer's output. */
static inline void
fuzz_quiet_log(void)
{
	log_init("fuzz", LOG_TO_STDERR, 0);
	log_set_level(LOG_ERR);
}

#endif
