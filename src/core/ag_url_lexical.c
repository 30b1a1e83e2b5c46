/*
 * ag_url_lexical.c
 *	  Lexical phishing risk of a URL that no indicator list knows.
 *
 * Each feature that fires contributes a weight w in (0,1); the score is
 * 1 - prod(1 - w) ("noisy OR"), so one strong sign (a userinfo trick, an
 * IP-literal host, a look-alike IDN, a brand name outside the brand's own
 * domain) is enough, while weak ones (an abused TLD, a login keyword, a
 * random-looking name) only count together.  Weights are set by hand from
 * what each feature means, then checked against the corpus with
 * `make bench-quality`, which prints how often each fires on benign and
 * phishing URLs (see bench/bench_quality.c).  One sign is learned: a
 * model of what phishing hosts and paths look like (ag_url_model.c),
 * asked last, and never about a brand's own domain.
 */
#include "ag_url.h"

#include <string.h>

#include "ag_normalize.h"
#include "ag_url_int.h"
#include "ag_url_model.h"
#include "ag_validate.h"
#include "ag_wordset.h"

/* Brands phishing pages impersonate, as they appear in host names. */
static const char brands[] =
	"paypal,apple,appleid,icloud,itunes,microsoft,office365,outlook,hotmail,"
	"onedrive,sharepoint,microsoftonline,gmail,google,youtube,amazon,netflix,"
	"facebook,instagram,whatsapp,linkedin,twitter,dropbox,docusign,adobe,"
	"wellsfargo,bankofamerica,citibank,hsbc,barclays,santander,natwest,"
	"lloyds,bradesco,bancolombia,metamask,coinbase,binance,blockchain,trezor,"
	"ebay,fedex,usps,royalmail,spotify,yahoo,verizon,mufg,smbc,mizuho,"
	"rakuten,sbisec,monex,jabank,japanpost,yucho,saison,docomo,softbank,"
	"amex,americanexpress,mastercard,sagawa,mercari,paypay,roblox,discord,"
	"telegram,tiktok,alibaba,aliexpress,sberbank,tinkoff,sparkasse,"
	"commerzbank,postbank,rabobank,abnamro,creditagricole,laposte,ameli,"
	"impots,correos,nubank,mercadopago,mercadolibre,interac,desjardins,"
	"scotiabank,commbank,westpac,auspost,hmrc,steamcommunity,chase,itau,"
	"caixa,dhl,aeon,orico,epos,kraken,ledger,steam,instagram,wechat,webmail,"
	"matsui,resona,jcb,vpass,nomura,daiwa,kuroneko,";

/* Brands short or common enough to need a whole token ("purchase"). */
static const char token_brands[] =
	"chase,itau,caixa,dhl,aeon,orico,epos,kraken,ledger,steam,amex,smbc,"
	"mufg,usps,ebay,hsbc,apple,monex,jcb,daiwa,";

/* Main labels owned by the brands above (their official domains). */
static const char brand_owned[] =
	"paypal,paypal-objects,apple,icloud,microsoft,microsoftonline,office,"
	"office365,live,outlook,hotmail,sharepoint,onedrive,msn,bing,azure,"
	"windows,skype,xbox,google,gmail,youtube,googleapis,googleusercontent,"
	"googlecode,googlesource,googleblog,"
	"gstatic,blogger,blogspot,appspot,amazon,amazonaws,primevideo,audible,"
	"netflix,facebook,fb,fbcdn,instagram,whatsapp,meta,messenger,linkedin,"
	"twitter,dropbox,dropboxusercontent,docusign,adobe,chase,wellsfargo,"
	"bankofamerica,citi,citibank,hsbc,barclays,santander,natwest,lloydsbank,"
	"itau,bradesco,caixa,bancolombia,metamask,coinbase,binance,blockchain,"
	"kraken,ledger,trezor,steampowered,steamcommunity,ebay,dhl,fedex,usps,"
	"royalmail,spotify,yahoo,aol,verizon,mufg,smbc,mizuhobank,mizuho,rakuten,"
	"aeon,sbisec,monex,jabank,japanpost,jp-bank,saisoncard,orico,eposcard,"
	"docomo,softbank,americanexpress,amex,mastercard,visa,sagawa-exp,yamato,"
	"kuronekoyamato,mercari,paypay,roblox,discord,telegram,tiktok,alibaba,"
	"aliexpress,sberbank,tinkoff,sparkasse,commerzbank,postbank,rabobank,"
	"abnamro,credit-agricole,laposte,ameli,impots,correos,nubank,"
	"mercadopago,mercadolibre,interac,desjardins,scotiabank,commbank,"
	"westpac,auspost,hmrc,wechat,qq,matsui,resona,jcb,vpass,nomura,daiwa,";

/* Brands distinctive enough that one typo away still means them. */
static const char typo_brands[] =
	"paypal,netflix,microsoft,outlook,office365,facebook,instagram,whatsapp,"
	"linkedin,dropbox,docusign,coinbase,binance,metamask,blockchain,google,"
	"icloud,hotmail,onedrive,sharepoint,wellsfargo,bankofamerica,"
	"americanexpress,mastercard,spotify,rakuten,mercari,appleid,";

/* Words of the login step itself: strong in a path. */
static const char login_keywords[] =
	"login,log-in,signin,sign-in,logon,signon,verify,verification,webscr,"
	"password,passwd,unlock,suspended,authenticate,authentication,"
	"myaccount,reactivate,credential,validate,";

/* Words of credential-harvesting pages (host names). */
static const char keywords[] =
	"login,log-in,signin,sign-in,logon,signon,verify,verification,validate,"
	"secure,security,account,update,confirm,banking,password,passwd,unlock,"
	"suspend,suspended,recover,recovery,billing,authenticate,authentication,"
	"webscr,wallet,myaccount,authorize,reactivate,restore,limited,unusual,"
	"credential,ssn,payment,refund,invoice,customer,support,helpdesk,"
	"service,alert,notice,auth,session,identity,kyc,2fa,otp,bonus,reward,"
	"claim,prize,airdrop,seed,";

/* Free hosting and user-content platforms: "tenant.platform". */
static const char hosting[] =
	"000webhostapp.com,firebaseapp.com,web.app,appspot.com,herokuapp.com,"
	"github.io,gitlab.io,netlify.app,vercel.app,pages.dev,workers.dev,r2.dev,"
	"glitch.me,repl.co,replit.app,wixsite.com,weebly.com,wordpress.com,"
	"square.site,godaddysites.com,webflow.io,myshopify.com,azurewebsites.net,"
	"web.core.windows.net,blob.core.windows.net,s3.amazonaws.com,"
	"cloudfront.net,ngrok.io,ngrok-free.app,duckdns.org,ddns.net,no-ip.org,"
	"hopto.org,zapto.org,sytes.net,mybluehost.me,yolasite.com,jimdosite.com,"
	"strikingly.com,carrd.co,surge.sh,onrender.com,fly.dev,"
	"firebasestorage.googleapis.com,storage.googleapis.com,translate.goog,"
	"ipfs.dweb.link,ipfs.io,on-fleek.app,blogspot.com,sharepoint.com,"
	"formstack.com,typeform.com,jotform.com,forms.office.com,docs.google.com,"
	"framer.app,framer.website,notion.site,gitbook.io,csb.app,replit.dev,"
	"cloudaccess.host,wixstudio.io,mystrikingly.com,webnode.page,"
	"sites.google.com,drive.google.com,1drv.ms,forms.gle,";

/* "paypal.com.evil.example": a registrable-domain suffix inside the host */
static const char domain_words[] = "com,net,org,co,gov,edu,";

/* URL shorteners: the destination is hidden. */
static const char shorteners[] =
	"bit.ly,tinyurl.com,goo.gl,t.co,ow.ly,is.gd,buff.ly,rebrand.ly,cutt.ly,"
	"shorturl.at,rb.gy,tiny.cc,s.id,t.ly,bit.do,v.gd,lnkd.in,htl.li,x.co,"
	"shorte.st,adf.ly,bl.ink,tr.im,soo.gd,clck.ru,u.to,cli.gs,linktr.ee,"
	"qrco.de,tiny.one,shorturl.asia,urlz.fr,";

static AgWordSet token_brand_set = AG_WORDSET(token_brands);
static AgWordSet brand_set = AG_WORDSET_TOKENS(brands, &token_brand_set);
static AgWordSet brand_owned_set = AG_WORDSET(brand_owned);
static AgWordSet login_keyword_set = AG_WORDSET(login_keywords);
static AgWordSet keyword_set = AG_WORDSET(keywords);
static AgWordSet hosting_set = AG_WORDSET(hosting);
static AgWordSet shortener_set = AG_WORDSET(shorteners);

/*
 * Names reserved for documentation (RFC 2606, RFC 6761): example.com,
 * .net and .org and the TLDs .example, .invalid and .localhost.  No one
 * can register them, so no one can phish from them, and answers that
 * explain URLs are full of them ("https://user:pass@example.com:8080/").
 * .test is left to tests of this detector.
 */
static const char reserved_names[] =
	"example.com,example.net,example.org,example,invalid,localhost,";
static AgWordSet reserved_name_set = AG_WORDSET(reserved_names);
static AgWordSet domain_word_set = AG_WORDSET(domain_words);

static const struct
{
	const char *reason;
	double		weight;
}			features[] = {
#define F_USERINFO_DOMAIN 0
	{"userinfo trick: a domain before '@' hides the real host", 0.90},
#define F_USERINFO 1
	{"userinfo before '@' in the URL", 0.45},
#define F_IP_OBFUSCATED 2
	{"IP-literal host in decimal/octal/hex form", 0.90},
#define F_IP_HOST 3
	{"IP-literal host", 0.60},
#define F_IDN_BRAND 4
	{"internationalised host imitating a brand", 0.95},
#define F_MIXED_SCRIPT 5
	{"host label mixes scripts (look-alike letters)", 0.80},
#define F_CONFUSABLE 6
	{"host label made of Latin look-alike letters", 0.80},
#define F_TYPO_BRAND 7
	{"host imitates a brand (look-alike characters or one typo)", 0.45},
#define F_BRAND_SUBDOMAIN 8
	{"brand name in a subdomain of another domain", 0.55},
#define F_BRAND_MAIN 9
	{"brand name inside another registrable domain", 0.40},
#define F_EMBEDDED_DOMAIN 10
	{"a domain name (.com, .net...) inside the host", 0.45},
#define F_BRAND_PATH 11
	{"brand name in the path of an unrelated site", 0.20},
#define F_KEYWORD_HOST 12
	{"credential keyword in the host name", 0.40},
#define F_KEYWORD_PATH 13
	{"credential keywords in the path", 0.20},
#define F_ABUSED_TLD 14
	{"TLD much abused for phishing", 0.35},
#define F_RANDOM_LABEL 15
	{"random-looking (unpronounceable) host label", 0.35},
#define F_HYPHENS 16
	{"many hyphens in the host", 0.25},
#define F_DEEP_SUBDOMAINS 17
	{"many subdomain levels", 0.25},
#define F_LONG_HOST 18
	{"very long host name", 0.20},
#define F_FREE_HOSTING 19
	{"free hosting or user-content platform", 0.30},
#define F_SHORTENER 20
	{"URL shortener hides the destination", 0.40},
#define F_EMAIL_IN_URL 21
	{"e-mail address inside the URL", 0.50},
#define F_EMBEDDED_URL 22
	{"another URL inside the path or query", 0.20},
#define F_PORT 23
	{"non-standard port", 0.25},
#define F_DEFANGED 24
	{"written defanged, as threat reports do", 0.30},
#define F_BRAND_PATH_LOGIN 25
	{"brand name and credential keywords in the path of an unrelated site", 0.50},
#define F_CMS_FOLDER_PAGE 26
	{"page inside a CMS system folder (wp-includes, wp-admin, .well-known)", 0.45},
#define F_KEYWORD_PATH_ONE 27
	{"credential keyword in the path", 0.25},
#define F_FAKE_WWW 28
	{"host label imitates a www. prefix (www-brand, wwwbrand)", 0.40},
#define F_ASSET_FOLDER_LOGIN 29
	{"login page inside a site's image, upload or script folder", 0.40},
#define F_URL_MODEL 30
	{"host and path resemble phishing URLs (learned model)", AG_URL_MODEL_SIGN_WEIGHT},
#define F_URL_MODEL_WEAK 31
	{"host and path somewhat resemble phishing URLs (learned model)", AG_URL_MODEL_WEAK_SIGN_WEIGHT},
};
#define NFEATURES (int) (sizeof(features) / sizeof(features[0]))

/* Labels of an ASCII host. */
typedef struct HostLabels
{
	const char *s[64];
	size_t		len[64];
	int			n;
	int			main;			/* index of the registrable-ish label, -1 none */
	int			hosted;			/* main label is a tenant of a hosting platform */
} HostLabels;

/*
 * The domain of the set that host is (unless subdomains_only) or is a
 * subdomain of, the first in list order when several are; NULL if none.
 */
static const char *
HostInDomainList(const char *host, AgWordSet *set, int subdomains_only)
{
	size_t		hl = strlen(host);
	int			best = -1;
	size_t		len;

	for (const char *s = host;;)
	{
		if (s != host || !subdomains_only)
		{
			int			k = AgWordSetFind(set, s, hl - (size_t) (s - host));

			if (k >= 0 && (best < 0 || k < best))
				best = k;
		}
		s = strchr(s, '.');
		if (s == NULL)
			break;
		s++;
	}
	return best < 0 ? NULL : AgWordSetWord(set, best, &len);
}

static void
SplitHost(const char *host, HostLabels *h)
{
	const char *p = host;

	memset(h, 0, sizeof(*h));
	h->main = -1;
	while (*p && h->n < 64)
	{
		const char *dot = strchr(p, '.');
		size_t		n = dot ? (size_t) (dot - p) : strlen(p);

		h->s[h->n] = p;
		h->len[h->n++] = n;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (h->n < 2)
		return;
	h->main = h->n - 2;
	if (h->n >= 3 && h->len[h->n - 1] == 2 &&
		AgUrlIsSecondLevelSuffix(h->s[h->n - 2], h->len[h->n - 2]))
		h->main = h->n - 3;
	/* the tenant of a hosting platform is what the page owner chose */
	const char *platform = HostInDomainList(host, &hosting_set, 1);

	if (platform)
	{
		int			plabels = 1;

		for (const char *c = platform; *c && *c != ','; c++)
			plabels += *c == '.';
		if (h->n - plabels - 1 >= 0)
		{
			h->main = h->n - plabels - 1;
			h->hosted = 1;
		}
	}
	else if (h->n >= 4 && h->len[h->n - 2] == 9 && memcmp(h->s[h->n - 2], "amazonaws", 9) == 0 &&
			 h->len[h->n - 1] == 3 && memcmp(h->s[h->n - 1], "com", 3) == 0)
	{
		/*
		 * Amazon S3 in a region: bucket.s3.eu-south-2.amazonaws.com,
		 * bucket.s3-website-us-east-1..., bucket.s3-website.eu-west-3...:
		 * too many regions for the list, one shape.
		 */
		for (int i = 1; i < h->n - 2; i++)
			if (h->len[i] >= 2 && memcmp(h->s[i], "s3", 2) == 0 &&
				(h->len[i] == 2 || h->s[i][2] == '-'))
			{
				h->main = i - 1;
				h->hosted = 1;
				break;
			}
	}
}

size_t
AgUrlMainLabel(const char *host, char *out, size_t outlen)
{
	HostLabels	h;
	size_t		n;

	SplitHost(host, &h);
	if (h.main < 0 || strspn(host, "0123456789.:") == strlen(host) || outlen == 0)
		return 0;
	n = h.len[h.main] < outlen - 1 ? h.len[h.main] : outlen - 1;
	memcpy(out, h.s[h.main], n);
	out[n] = '\0';
	return n;
}

/* Is word[0..n) in text[0..len)?  (Words of the lists: AgWordSetCountIn.) */
static int
ContainsWord(const char *text, size_t len, const char *word, size_t n)
{
	if (n == 0 || n > len)
		return 0;
	for (size_t i = 0; i + n <= len; i++)
		if (text[i] == word[0] && memcmp(text + i, word, n) == 0)
			return 1;
	return 0;
}

static int
IsVowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

/*
 * Consonant pairs that occur inside ordinary words of the languages
 * written in Latin letters (English, Romance, Germanic, Slavic and
 * Vietnamese transliterations); any other pair is hard to pronounce.
 */
static const char common_pairs[] =
	"bl,br,ch,ck,cl,cr,ct,dr,fl,fr,gh,gl,gn,gr,kl,kn,kr,ld,lf,lk,ll,lm,lp,ls,"
	"lt,mb,mm,mp,nc,nd,ng,nk,nn,ns,nt,ph,pl,pr,ps,pt,rb,rc,rd,rf,rg,rk,rl,rm,"
	"rn,rp,rr,rs,rt,sc,sh,sk,sl,sm,sn,sp,ss,st,sw,th,tr,ts,tt,tw,wh,wr,xt,ff,"
	"pp,dd,gg,bb,cc,zz,rv,lv,nf,nv,kh,zh,sz,cz,rz,dz,nh,lh,dj,hn,hr,hl,hm,ht,"
	"wn,ws,wl,ms,mt,ds,gs,ks,bs,cs,fs,lb,lc,ld,lg,ln,lr,mn,nb,nl,nm,nr,nz,pf,"
	"rh,sb,sd,sf,sg,sq,sv,tc,tl,tm,tn,tz,vr,wk,wt,xp,xc,bj,dv,gd,km,bt,ft,lz,";
static AgWordSet common_pair_set = AG_WORDSET(common_pairs);

/*
 * Abbreviations of the trade that names are made of and nobody pronounces
 * as words: "htmlpreview", "pptxml", "cdnjs" are not random for them.
 */
static const char tech_words[] =
	"html,xml,http,https,ftp,cdn,css,sql,pdf,ppt,xls,rss,smtp,imap,dns,ssl,"
	"tls,vpn,ssh,svn,cvs,npm,php,img,jpg,png,svg,gfx,pkg,cgi,";
static AgWordSet tech_word_set = AG_WORDSET(tech_words);

static int	LooksRandomLetters(const char *s, size_t n);

/*
 * A name nobody would choose to pronounce: "tcpknn", "jbaeszfj",
 * "d5f21q36e4fqc1qfg" -- what domain generators register in bulk.  Judged
 * without the trade's abbreviations it holds (tech_words), when five
 * letters or more are left.
 */
static int
LooksRandom(const char *s, size_t n)
{
	char		rest[64];
	size_t		r = 0;

	if (n >= sizeof(rest) || !AgWordSetCountIn(&tech_word_set, s, n, 0, 1))
		return LooksRandomLetters(s, n);
	for (size_t i = 0; i < n;)
	{
		size_t		w;

		for (w = 5; w >= 3; w--)
			if (i + w <= n && AgWordSetFind(&tech_word_set, s + i, w) >= 0)
				break;
		if (w >= 3)
		{
			rest[r++] = '-';	/* a break, as between words */
			i += w;
		}
		else
			rest[r++] = s[i++];
	}
	/* too little left to judge ("qdxdns", "mbftp"): judge the whole */
	size_t		letters = 0;

	for (size_t i = 0; i < r; i++)
		letters += rest[i] >= 'a' && rest[i] <= 'z';
	if (letters < 5)
		return LooksRandomLetters(s, n);
	return LooksRandomLetters(rest, r);
}

static int
LooksRandomLetters(const char *s, size_t n)
{
	int			letters = 0,
				vowels = 0,
				run = 0,
				maxrun = 0,
				switches = 0,
				rare = 0;

	if (n < 5 || memcmp(s, "xn--", 4) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
	{
		char		c = s[i];
		int			letter = c >= 'a' && c <= 'z';

		if (i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') != (c >= '0' && c <= '9')) &&
			c != '-' && s[i - 1] != '-')
			switches++;
		if (!letter)
		{
			run = 0;
			continue;
		}
		letters++;
		if (IsVowel(c))
		{
			vowels++;
			run = 0;
			continue;
		}
		if (++run > maxrun)
			maxrun = run;
		if (i > 0 && s[i - 1] >= 'a' && s[i - 1] <= 'z' && !IsVowel(s[i - 1]) &&
			AgWordSetFind(&common_pair_set, s + i - 1, 2) < 0)
			rare++;
		if (c == 'q' && (i + 1 == n || s[i + 1] != 'u'))
			rare++;
	}
	return (letters >= 5 && vowels == 0) || maxrun >= 5 || switches >= 5 ||
		(letters >= 8 && vowels * 5 < letters) ||
		(rare >= 2 && rare * 5 >= letters);
}

static int
IsLetter(char c)
{
	return c >= 'a' && c <= 'z';
}

/*
 * Whether label[i..i+w), one edit from brand b, is the brand misspelt
 * rather than part of another word.  An edit inside ("netflx", "paypa1")
 * says so even glued to other words ("netflxaccntsup7"); an edit at an end
 * only when that end is the end of a word (the label's, a hyphen, a
 * digit): "cloud" is "icloud" less its first letter, and "tcloud" one
 * letter off, but in "cloudflare" and "documentcloud" they are other words.
 */
static int
TypoWindowStandsAlone(const char *label, size_t n, size_t i, size_t w,
					  const char *b, size_t bl)
{
	int			left = i == 0 || !IsLetter(label[i - 1]);
	int			right = i + w == n || !IsLetter(label[i + w]);

	if (w < bl && ContainsWord(b, bl, label + i, w))
		return left && right;	/* the brand less a first or last letter */
	if (label[i] != b[0] && !left)
		return 0;
	if (label[i + w - 1] != b[bl - 1] && !right)
		return 0;
	return 1;
}

/* a[0..an) and b[0..bn) differ by at most one insertion, deletion or substitution. */
static int
WithinOneEdit(const char *a, size_t an, const char *b, size_t bn)
{
	size_t		i = 0,
				j = 0;
	int			edits = 0;

	if (an > bn + 1 || bn > an + 1)
		return 0;
	while (i < an && j < bn)
	{
		if (a[i] == b[j])
		{
			i++;
			j++;
			continue;
		}
		if (++edits > 1)
			return 0;
		if (an > bn)
			i++;
		else if (bn > an)
			j++;
		else
		{
			i++;
			j++;
		}
	}
	return edits + (int) (an - i) + (int) (bn - j) <= 1;
}

/* "netflx", "paypall", "arnazon": one typo away from a brand of 6+ letters. */
static int
TypoOfBrand(const char *label, size_t n)
{
	for (const char *p = typo_brands; *p;)
	{
		const char *comma = strchr(p, ',');
		size_t		bl = comma ? (size_t) (comma - p) : strlen(p);

		/*
		 * One edit leaves one half of the brand whole: without either half
		 * in the label, no part of it is one edit away.
		 */
		if (bl >= 6 && !ContainsWord(label, n, p, bl) &&
			(ContainsWord(label, n, p, bl / 2) ||
			 ContainsWord(label, n, p + bl / 2, bl - bl / 2)))
			for (size_t w = bl - 1; w <= bl + 1; w++)
				for (size_t i = 0; i + w <= n; i++)
					if (WithinOneEdit(label + i, w, p, bl) &&
						TypoWindowStandsAlone(label, n, i, w, p, bl))
						return 1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

/* Latin skeleton of a label: digits and letter pairs that pass for letters. */
static size_t
AsciiSkeleton(const char *s, size_t n, char *out, size_t outlen)
{
	size_t		o = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++)
	{
		char		c = s[i];

		if (c == 'r' && i + 1 < n && s[i + 1] == 'n')
		{
			c = 'm';
			i++;
		}
		else if (c == 'v' && i + 1 < n && s[i + 1] == 'v')
		{
			c = 'w';
			i++;
		}
		else if (c == '0')
			c = 'o';
		else if (c == '1')
			c = 'l';
		else if (c == '3')
			c = 'e';
		else if (c == '5')
			c = 's';
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

/* Latin skeleton of a Unicode host: look-alike letters mapped to Latin. */
static size_t
UnicodeSkeleton(const char *s, char *out, size_t outlen)
{
	size_t		o = 0,
				n = strlen(s);

	for (size_t i = 0; i < n && o + 1 < outlen;)
	{
		int32_t		cp;
		int			m = AgUtf8Decode((const unsigned char *) s + i, n - i, &cp);
		int32_t		l = cp < 0x80 ? cp : AgConfusableToLatin(cp);

		if (l == 0 && cp >= 0xC0 && cp <= 0x24F)
			l = 'a';			/* accented Latin: a letter, not a brand char */
		out[o++] = l ? (char) l : '?';
		i += m;
	}
	out[o] = '\0';
	return o;
}

/* s[0..len) ends with one of the NULL-terminated suffixes. */
static int
EndsWithAny(const char *s, size_t len, const char *const *suffixes)
{
	for (int k = 0; suffixes[k]; k++)
	{
		size_t		n = strlen(suffixes[k]);

		if (len >= n && memcmp(s + len - n, suffixes[k], n) == 0)
			return 1;
	}
	return 0;
}

/* Files a page loads (pictures, scripts, styles, fonts), not pages. */
static const char *const static_files[] = {".js", ".css", ".png", ".jpg", ".jpeg", ".gif",
	".svg", ".woff", ".woff2", ".ttf", ".ico", ".webp", ".mp4", ".txt", NULL};

/*
 * A login step inside a folder of pictures, uploads or scripts
 * ("/images/jpg/login.php", "/uploads/x/verify.html"): no site keeps its
 * sign-in there, but a kit dropped on a compromised site does.  path is
 * lowercase.
 */
static int
AssetFolderLoginPage(const char *path)
{
	static const char *const folders[] = {"/images/", "/img/", "/uploads/", "/upload/",
		"/css/", "/js/", "/assets/", "/media/", "/files/", "/tmp/", "/cache/", "/fonts/",
	"/vendor/", NULL};
	static const char *const documents[] = {".pdf", ".zip", ".doc", ".docx", ".xls", ".xlsx", NULL};
	size_t		end = strcspn(path, "?#");

	for (int i = 0; folders[i]; i++)
	{
		const char *f = strstr(path, folders[i]);

		if (f == NULL || (size_t) (f - path) >= end)
			continue;
		const char *rest = f + strlen(folders[i]);
		size_t		rlen = end - (size_t) (rest - path);

		if (EndsWithAny(rest, rlen, static_files) || EndsWithAny(rest, rlen, documents))
			return 0;			/* a picture, a script, a document */
		return AgWordSetCountIn(&login_keyword_set, rest, rlen, 0, 1) > 0;
	}
	return 0;
}

/*
 * A page (not a picture or script) inside a CMS's own folders or the ACME
 * folder: where kits land on a compromised site.
 */
static int
CmsFolderPage(const char *path)
{
	static const char *const folders[] = {"/wp-includes/", "/wp-admin/", "/wp-content/plugins/",
	"/wp-content/themes/", "/.well-known/", NULL};

	for (int i = 0; folders[i]; i++)
	{
		const char *f = strstr(path, folders[i]);

		if (f == NULL)
			continue;
		if (strncmp(f, "/.well-known/acme-challenge/", 28) == 0)
			continue;
		return !EndsWithAny(f, strcspn(f, "?"), static_files);
	}
	return 0;
}

static int
IsEmailLocalChar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		c == '-' || c == '+';
}

/* s[..end) ends in ".html", ".php" and the like: a page, not a domain. */
static int
EndsWithPageExtension(const char *s, const char *end)
{
	static const char *const pages[] = {".html", ".htm", ".php", ".asp", ".aspx", ".jsp", NULL};

	return EndsWithAny(s, (size_t) (end - s), pages);
}

/*
 * An e-mail address in the victim-tracking places of a URL: its query or
 * fragment (?email=..., #victim@example.com), or in the path glued to
 * other text of its segment ("/kkapes@example.com_PO4500/", "-info@gmx.de.html").
 * An address that is a path segment of its own is what mail archives and
 * bug trackers file messages and lists under (/bug-make@gnu.org/msg1658,
 * message ids), not a lure.
 */
static int
ContainsLureEmail(const char *s)
{
	const char *query = strpbrk(s, "?#");

	for (const char *at = strchr(s, '@'); at; at = strchr(at + 1, '@'))
	{
		const char *d = at + 1;
		const char *local = at;
		int			dots = 0,
					tld = 0;

		if (at == s || !IsEmailLocalChar(at[-1]))
			continue;
		while (local > s && IsEmailLocalChar(local[-1]))
			local--;
		while ((*d >= 'a' && *d <= 'z') || (*d >= '0' && *d <= '9') || *d == '-' || *d == '.')
		{
			if (*d == '.')
			{
				dots++;
				tld = 0;
			}
			else
				tld = (*d >= 'a' && *d <= 'z') ? tld + 1 : -100;
			d++;
		}
		if (dots == 0 || tld < 2)
			continue;
		if (query && at > query)
			return 1;
		/*
		 * In the path: glued to more of its segment, to a file name
		 * ("...-info@gmx.de.html"), or after more than an address can hold
		 * before its '@' (64 characters)?
		 */
		if ((local > s && local[-1] != '/') || (*d != '\0' && *d != '/' && *d != '?' && *d != '#') ||
			at - local > 64 || EndsWithPageExtension(at, d))
			return 1;
	}
	return 0;
}

static void
Fire(AgUrlRisk *r, int feature)
{
	double		w = features[feature].weight;
	int			k;

	if (r->nreasons == AG_URL_RISK_MAX_REASONS)
		return;
	/* keep reasons sorted by weight, strongest first */
	for (k = r->nreasons; k > 0 && r->weights[k - 1] < w; k--)
	{
		r->reasons[k] = r->reasons[k - 1];
		r->weights[k] = r->weights[k - 1];
	}
	r->reasons[k] = features[feature].reason;
	r->weights[k] = w;
	r->nreasons++;
	r->score = 1.0 - (1.0 - r->score) * (1.0 - w);
}

/* An IP-literal host (IPv6 in brackets) that is a routable address. */
static int
HostIsPublicIp(const char *host)
{
	size_t		n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		return AgPublicIpValid(host + 1, n - 2);
	return AgPublicIpValid(host, n);
}

/*
 * A label without its "www" marker: "www-wales" -> "wales", "www2old" ->
 * "old", "kogs-www" -> "kogs".  Institutions name hosts so
 * (www-cs.example.edu, www-old.example.edu); what is left is the name.
 */
static void
StripWww(const char **s, size_t *n)
{
	if (*n > 3 && memcmp(*s, "www", 3) == 0)
	{
		size_t		i = 3;

		while (i < *n && (*s)[i] >= '0' && (*s)[i] <= '9')
			i++;
		if (i < *n && (*s)[i] == '-')
			i++;
		*s += i;
		*n -= i;
	}
	if (*n > 4 && memcmp(*s + *n - 4, "-www", 4) == 0)
		*n -= 4;
}

static int	WwwMirrorLabel(const char *s, size_t n);

/*
 * Whether a label holding "www" imitates a www. prefix: the name glued to
 * it is a brand or holds a domain word ("www-paypal-com", "wwwamazon-co"),
 * or the label is the registered name itself ("www-secure-login.top").
 */
static int
FakeWwwLabel(const HostLabels *h, int i)
{
	const char *s = h->s[i];
	size_t		n = h->len[i];

	if (n <= 3 || WwwMirrorLabel(s, n))
		return 0;
	/* www as a part of the name: first, or next to a hyphen ("awwwards" is a word) */
	if (memcmp(s, "www", 3) != 0 && !ContainsWord(s, n, "-www", 4) && !ContainsWord(s, n, "www-", 4))
		return 0;
	if (i == h->main)
		return 1;
	StripWww(&s, &n);
	if (AgWordSetCountIn(&brand_set, s, n, 0, 1))
		return 1;
	for (size_t a = 0, b = 0; b <= n; b++)
		if (b == n || s[b] == '-')
		{
			if (b > a && AgWordSetFind(&domain_word_set, s + a, b - a) >= 0)
				return 1;
			a = b + 1;
		}
	return 0;
}

/* "www2", "www-106": a site's own numbered mirrors, not an imitation */
static int
WwwMirrorLabel(const char *s, size_t n)
{
	size_t		i = 3;

	if (n < 4 || memcmp(s, "www", 3) != 0)
		return 0;
	if (s[i] == '-')
		i++;
	return i < n && strspn(s + i, "0123456789") == n - i;
}

double
AgUrlLexicalRisk(const AgUrl *u, AgUrlRisk *r)
{
	return AgUrlLexicalRiskEx(u, r, AG_URL_MODEL_COMPUTE);
}

double
AgUrlLexicalRiskEx(const AgUrl *u, AgUrlRisk *r, AgUrlModelSign sign)
{
	HostLabels	h;
	const char *host = u->host;
	char		path[1024];
	size_t		plen = 0;
	int			brand_official = 0;

	memset(r, 0, sizeof(*r));
	if (HostInDomainList(host, &reserved_name_set, 0))
		return 0.0;

	/* path and query, lowercase and percent-decoded, for keywords */
	for (const char *p = u->path; *p && plen + 1 < sizeof(path); p++)
	{
		char		c = *p;

		if (c == '%' && p[1] && p[2])
		{
			int			hi = (p[1] | 0x20) <= '9' ? p[1] - '0' : (p[1] | 0x20) - 'a' + 10;
			int			lo = (p[2] | 0x20) <= '9' ? p[2] - '0' : (p[2] | 0x20) - 'a' + 10;

			if (hi >= 0 && hi < 16 && lo >= 0 && lo < 16)
			{
				c = (char) (hi * 16 + lo);
				p += 2;
			}
		}
		path[plen++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
	}
	path[plen] = '\0';

	if (u->flags & AG_URL_USERINFO)
		Fire(r, strchr(u->userinfo, '.') ? F_USERINFO_DOMAIN : F_USERINFO);
	if (u->flags & AG_URL_DEFANGED)
		Fire(r, F_DEFANGED);
	if (u->flags & AG_URL_PORT)
		Fire(r, F_PORT);
	if (ContainsLureEmail(path))
		Fire(r, F_EMAIL_IN_URL);
	if (strstr(path + 1, "http:") || strstr(path + 1, "https:") || strstr(path + 1, "www."))
		Fire(r, F_EMBEDDED_URL);
	if (u->flags & AG_URL_IP_HOST)
	{
		/* a page on a loopback or private address reaches no victim */
		if (u->flags & AG_URL_IP_OBFUSCATED)
			Fire(r, F_IP_OBFUSCATED);
		else if (HostIsPublicIp(host))
			Fire(r, F_IP_HOST);
		if (AgWordSetCountIn(&login_keyword_set, path, plen, 0, 1))
			Fire(r, F_KEYWORD_PATH_ONE);
		return r->score;
	}

	SplitHost(host, &h);
	if (h.main < 0)
		return r->score;
	const char *main = h.s[h.main];
	size_t		mlen = h.len[h.main];
	const char *tld = h.s[h.n - 1];
	size_t		tlen = h.len[h.n - 1];

	brand_official = !h.hosted && AgWordSetFind(&brand_owned_set, main, mlen) >= 0;

	/* look-alike hosts */
	if (u->flags & (AG_URL_IDN | AG_URL_PUNYCODE))
	{
		char		skel[512];
		size_t		sl = UnicodeSkeleton(u->host_unicode, skel, sizeof(skel));

		if (AgWordSetCountIn(&brand_set, skel, sl, 0, 1) &&
			!AgWordSetCountIn(&brand_set, host, strlen(host), 0, 1))
			Fire(r, F_IDN_BRAND);
		if (u->flags & AG_URL_MIXED_SCRIPT)
			Fire(r, F_MIXED_SCRIPT);
		else if (u->flags & AG_URL_CONFUSABLE)
			Fire(r, F_CONFUSABLE);
	}
	if (!brand_official)
	{
		char		skel[128];
		size_t		sl = AsciiSkeleton(main, mlen, skel, sizeof(skel));

		if (!AgWordSetCountIn(&brand_set, main, mlen, 0, 1) &&
			(AgWordSetCountIn(&brand_set, skel, sl, 0, 1) || TypoOfBrand(main, mlen)))
			Fire(r, F_TYPO_BRAND);
	}

	/* brand names where the brand does not live */
	int			path_keywords = AgWordSetCountIn(&login_keyword_set, path, plen, 0, 0);
	int			path_login_keywords = path_keywords;

	if (!brand_official)
	{
		size_t		sub_len = (size_t) (main - host);

		if (sub_len > 0 && AgWordSetCountIn(&brand_set, host, sub_len, 0, 1))
			Fire(r, F_BRAND_SUBDOMAIN);
		else if (AgWordSetCountIn(&brand_set, main, mlen, 0, 1) &&
				 AgWordSetFind(&brand_owned_set, main, mlen) < 0)
			Fire(r, F_BRAND_MAIN);
		else if (AgWordSetCountIn(&brand_set, path, plen, 1, 1))
		{
			Fire(r, path_keywords > 0 ? F_BRAND_PATH_LOGIN : F_BRAND_PATH);
			path_keywords = 0;
		}
	}
	/* "www-paypal-com.evil.example": the real www. is a label of its own */
	for (int i = 0; i <= h.main; i++)
		if (FakeWwwLabel(&h, i))
		{
			Fire(r, F_FAKE_WWW);
			break;
		}
	/* "paypal.com.evil.example", "amazon.co.jp.xyz.buzz" */
	for (int i = 0; i < h.main; i++)
		if (AgWordSetFind(&domain_word_set, h.s[i], h.len[i]) >= 0)
		{
			Fire(r, F_EMBEDDED_DOMAIN);
			break;
		}

	if (!brand_official)
	{
		if (AgWordSetCountIn(&keyword_set, host, (size_t) (tld - host), 0, 1))
			Fire(r, F_KEYWORD_HOST);
		if (path_keywords >= 2)
			Fire(r, F_KEYWORD_PATH);
		else if (path_keywords == 1)
			Fire(r, F_KEYWORD_PATH_ONE);
	}
	if (CmsFolderPage(path))
		Fire(r, F_CMS_FOLDER_PAGE);
	else if (path_login_keywords > 0 && AssetFolderLoginPage(path))
		Fire(r, F_ASSET_FOLDER_LOGIN);
	if (AgUrlTldAbused(tld, tlen))
		Fire(r, F_ABUSED_TLD);
	for (int i = 0; i <= h.main && !brand_official; i++)
	{
		const char *name = h.s[i];
		size_t		nlen = h.len[i];

		StripWww(&name, &nlen);
		if (!(nlen == 3 && memcmp(name, "www", 3) == 0) && LooksRandom(name, nlen))
		{
			Fire(r, F_RANDOM_LABEL);
			break;
		}
	}

	int			hyphens = 0;

	for (const char *p = host; *p; p++)
		hyphens += *p == '-';
	if (hyphens >= 3 && strstr(host, "xn--") == NULL)
		Fire(r, F_HYPHENS);
	if (h.main >= 3)
		Fire(r, F_DEEP_SUBDOMAINS);
	if (strlen(host) > 40)
		Fire(r, F_LONG_HOST);
	if (h.hosted || HostInDomainList(host, &hosting_set, 0))
		Fire(r, F_FREE_HOSTING);
	int			shortener = HostInDomainList(host, &shortener_set, 0) != NULL;

	if (shortener)
		Fire(r, F_SHORTENER);

	/*
	 * The model: not about what a brand's own domain serves, nor about a
	 * shortener's link, whose code says nothing of where it leads.
	 */
	if (!brand_official && !shortener)
	{
		if (sign == AG_URL_MODEL_COMPUTE)
			sign = AgUrlModelSignOf(AgUrlModelScore(u), AgUrlModelThreshold(),
									AgUrlModelWeakThreshold());
		if (sign == AG_URL_MODEL_STRONG)
			Fire(r, F_URL_MODEL);
		else if (sign == AG_URL_MODEL_WEAK)
			Fire(r, F_URL_MODEL_WEAK);
	}
	return r->score;
}
