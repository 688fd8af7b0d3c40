/* fuzz_escape.c - mt_escape_mem, which every guest string goes through
 * before a log line or a terminal. The first byte picks the size of the
 * output buffer (0..255), the rest is the text. Promises checked: nothing
 * is written past dstlen; the output is terminated within it; it holds no
 * byte below 0x20 and no 0x7f; it is valid UTF-8 with no C1 control; the
 * return is the length of the whole escape, which a buffer that size
 * holds in full; a cut output is a prefix of the full one; and the full
 * one reads back to the input. */
#include "fuzz.h"
#include "util.h"

#define GUARD 16

/* Undo the escape: "\\" and "\xNN", anything else as it is. */
static size_t
unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		FUZZ_CHECK(i + 1 < n);
		if (s[i + 1] == '\\') {
			out[o++] = '\\';
			i++;
			continue;
		}
		FUZZ_CHECK(s[i + 1] == 'x' && i + 3 < n);
		out[o++] = (char)strtol((char[]){ s[i + 2], s[i + 3], 0 },
		    NULL, 16);
		i += 3;
	}
	return o;
}

/* Only the well-formed UTF-8 mt_escape lets through: 2..4 byte forms, no
 * C1 control (U+0080..U+009F, two bytes C2 80..C2 9F). */
static void
check_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = s[i] < 0x80 ? 1 : s[i] >= 0xf0 ? 4 :
		    s[i] >= 0xe0 ? 3 : 2;

		FUZZ_CHECK(s[i] < 0x80 || (s[i] >= 0xc2 && s[i] <= 0xf4));
		FUZZ_CHECK(i + len <= n);
		for (size_t k = 1; k < len; k++)
			FUZZ_CHECK((s[i + k] & 0xc0) == 0x80);
		FUZZ_CHECK(!(s[i] == 0xc2 && s[i + 1] <= 0x9f));
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *src = (const char *)data + 1;
	size_t dstlen, srclen, need, out_len;
	char *dst, *full, *back;

	if (size < 1)
		return 0;
	dstlen = data[0];
	srclen = size - 1;
	dst = malloc(dstlen + GUARD);
	full = malloc(MT_ESCAPE_SIZE(srclen));
	back = malloc(srclen + 1);
	if (dst == NULL || full == NULL || back == NULL)
		abort();
	memset(dst, 'G', dstlen + GUARD);

	need = mt_escape_mem(dst, dstlen, src, srclen);
	for (size_t i = dstlen; i < dstlen + GUARD; i++)
		FUZZ_CHECK(dst[i] == 'G');
	FUZZ_CHECK(need <= srclen * 4);
	FUZZ_CHECK(mt_escape_mem(full, MT_ESCAPE_SIZE(srclen), src,
	    srclen) == need);
	FUZZ_CHECK(strlen(full) == need);
	if (dstlen > 0) {
		FUZZ_CHECK(memchr(dst, '\0', dstlen) != NULL);
		out_len = strlen(dst);
		FUZZ_CHECK(out_len < dstlen);
		FUZZ_CHECK(memcmp(dst, full, out_len) == 0);
		FUZZ_CHECK(need >= dstlen || out_len == need);
		/* never cut inside an escape or a character */
		check_utf8((const unsigned char *)dst, out_len);
		(void)unescape(dst, out_len, back);
	}
	for (size_t i = 0; i < need; i++) {
		unsigned char c = (unsigned char)full[i];

		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
	}
	check_utf8((const unsigned char *)full, need);
	FUZZ_CHECK(unescape(full, need, back) == srclen);
	FUZZ_CHECK(memcmp(back, src, srclen) == 0);
	free(dst);
	free(full);
	free(back);
	return 0;
}
