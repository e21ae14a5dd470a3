/*
 * Fuzz target: proxy URLs and NO_PROXY as the proxy check reads them from
 * a service's environment (netcheck/proxy.c).  The first byte picks:
 *
 *   0  a URL: proxy_url_parse(), proxy_basic_auth(), and proxy_redact()
 *      at full and at cut sizes.  A password that parses as one must never
 *      be printed: whatever of it shows in the redacted text must also
 *      be in the part of the URL that is not the userinfo.
 *   1  "NO_PROXY\nHOST": no_proxy_match() with a port from the input.
 *   2  eight lines as the eight proxy variables: proxy_env_read().
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../netcheck/httpmsg.c"
#include "../../netcheck/proxy.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
has(const char *hay, size_t n, const char *needle, size_t nl)
{
	return memmem(hay, n, needle, nl) != NULL;
}

static void
url(const char *s, size_t cut)
{
	static char out[PROXY_URL_MAX + 16], small[64];
	static char safe[PROXY_NO_PROXY_MAX + 512];
	char b64[PROXY_BASIC_MAX];
	struct proxy_url u;
	struct url_parts p;
	size_t len, slen, outlen;
	int r;

	len = proxy_redact(s, out, sizeof(out));
	outlen = strlen(out);
	assert(outlen == (len < sizeof(out) ? len : sizeof(out) - 1));
	/* A cut copy is a prefix of the whole one, NUL-terminated. */
	cut = cut % sizeof(small) + 1;
	slen = proxy_redact(s, small, cut);
	assert(slen == len && strlen(small) < cut);
	assert(strncmp(small, out, strlen(small)) == 0);

	r = proxy_basic_auth(s, b64, sizeof(b64));
	assert(r == -EINVAL || (r >= 0 && (size_t)r < sizeof(b64)));
	if (r > 0)
		assert(strlen(b64) == (size_t)r);
	if (parse_url(s, &u, &p) < 0)
		return;
	assert(memchr(u.host, 0, sizeof(u.host)) && u.host[0]);
	assert(memchr(u.user, 0, sizeof(u.user)));
	if (u.has_userinfo && p.userinfo) {
		const char *colon = memchr(p.userinfo, ':', p.userinfo_len);
		/* From the "@" on, which is printed. */
		const char *after = p.userinfo + p.userinfo_len;
		size_t before = (size_t)(p.userinfo - s), pl;

		if (!colon)
			return;
		pl = p.userinfo_len - (size_t)(colon + 1 - p.userinfo);
		if (pl == 0 || !has(out, outlen, colon + 1, pl))
			return;
		/*
		 * Shown: then it must also be in the URL with its userinfo
		 * replaced by "***" (the password may be "*", or be spelt
		 * by the host), else the redaction let it through.
		 */
		snprintf(safe, sizeof(safe), "%.*s***%s", (int)before, s,
		    after);
		assert(has(safe, strlen(safe), colon + 1, pl));
	}
}

static const char *vars[8];
static const char *const names[8] = { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
	"https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy" };

static const char *
fake_getenv(const char *name)
{
	int i;

	for (i = 0; i < 8; i++)
		if (strcmp(name, names[i]) == 0)
			return vars[i];
	return NULL;
}

static void
env(char *s)
{
	struct proxy_env_view v;
	int i, r;

	for (i = 0; i < 8; i++) {
		char *nl = strchr(s, '\n');

		/* A line "-" is an unset variable. */
		vars[i] =
		    strcmp(s, "-") == 0 || (nl && nl == s + 1 && *s == '-')
		    ? NULL
		    : s;
		if (!nl) {
			for (i++; i < 8; i++)
				vars[i] = NULL;
			break;
		}
		*nl = 0;
		s = nl + 1;
	}
	r = proxy_env_read(fake_getenv, &v);
	assert(r == -EINVAL || (r >= 0 && r <= 8));
	if (r >= 0 && v.mismatch)
		assert(v.mismatch_name != NULL);
	if (r >= 0 && v.https_proxy)
		assert(v.https_from && v.https_proxy[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[PROXY_NO_PROXY_MAX + 512];
	char *nl;
	uint16_t port;

	if (size < 3)
		return 0;
	if (size - 3 >= sizeof(s))
		size = sizeof(s) + 2;
	memcpy(s, data + 3, size - 3);
	s[size - 3] = 0;
	port = (uint16_t)(data[1] << 8 | data[2]);
	switch (data[0] % 3) {
	case 0:
		url(s, port);
		break;
	case 1:
		nl = strchr(s, '\n');
		if (nl) {
			*nl = 0;
			(void)no_proxy_match(s, nl + 1, port);
			(void)no_proxy_match(s, nl + 1, 0);
		} else
			(void)no_proxy_match(s, "localhost", port);
		break;
	default:
		env(s);
		break;
	}
	return 0;
}
