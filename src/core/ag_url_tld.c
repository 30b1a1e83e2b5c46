/*
 * ag_url_tld.c
 *	  The compact built-in list of top-level domains used to tell a bare
 *	  "host.tld" from "file.txt", and the TLDs most abused for phishing.
 *
 * Not the whole root zone: every ccTLD, the legacy gTLDs and the new gTLDs
 * that carry real traffic or abuse.  A host written with a scheme or
 * "www." needs no TLD from this list.
 */
#include "ag_url_int.h"

#include "ag_wordset.h"

/* Every two-letter country code TLD in the root zone. */
static const char cc_tlds[] =
	"ac,ad,ae,af,ag,ai,al,am,ao,aq,ar,as,at,au,aw,ax,az,ba,bb,bd,be,bf,bg,bh,"
	"bi,bj,bm,bn,bo,bq,br,bs,bt,bw,by,bz,ca,cc,cd,cf,cg,ch,ci,ck,cl,cm,cn,co,"
	"cr,cu,cv,cw,cx,cy,cz,de,dj,dk,dm,do,dz,ec,ee,eg,er,es,et,eu,fi,fj,fk,fm,"
	"fo,fr,ga,gd,ge,gf,gg,gh,gi,gl,gm,gn,gp,gq,gr,gs,gt,gu,gw,gy,hk,hm,hn,hr,"
	"ht,hu,id,ie,il,im,in,io,iq,ir,is,it,je,jm,jo,jp,ke,kg,kh,ki,km,kn,kp,kr,"
	"kw,ky,kz,la,lb,lc,li,lk,lr,ls,lt,lu,lv,ly,ma,mc,md,me,mg,mh,mk,ml,mm,mn,"
	"mo,mp,mq,mr,ms,mt,mu,mv,mw,mx,my,mz,na,nc,ne,nf,ng,ni,nl,no,np,nr,nu,nz,"
	"om,pa,pe,pf,pg,ph,pk,pl,pm,pn,pr,ps,pt,pw,py,qa,re,ro,rs,ru,rw,sa,sb,sc,"
	"sd,se,sg,sh,si,sk,sl,sm,sn,so,sr,ss,st,su,sv,sx,sy,sz,tc,td,tf,tg,th,tj,"
	"tk,tl,tm,tn,to,tr,tt,tv,tw,tz,ua,ug,uk,us,uy,uz,va,vc,ve,vg,vi,vn,vu,wf,"
	"ws,ye,yt,za,zm,zw,";

/* Legacy and widely used new generic TLDs. */
static const char g_tlds[] =
	"com,net,org,edu,gov,mil,int,info,biz,name,pro,mobi,asia,tel,aero,coop,"
	"jobs,travel,cat,museum,xxx,post,"
	"app,dev,page,xyz,top,site,online,club,shop,store,live,life,world,tech,"
	"space,website,fun,icu,cyou,buzz,sbs,cfd,bond,rest,lol,vip,work,click,"
	"link,today,email,blog,cloud,news,one,win,bid,loan,men,date,racing,"
	"review,stream,download,trade,party,science,gdn,ink,love,ren,monster,"
	"best,fit,bar,quest,skin,hair,beauty,boats,homes,lat,mom,pics,support,"
	"services,solutions,systems,center,company,agency,digital,network,host,"
	"art,design,media,group,team,global,plus,kim,wang,xin,tokyo,moe,ltd,"
	"inc,llc,run,zip,mov,help,guru,expert,business,finance,financial,bank,"
	"money,cash,credit,loans,insure,capital,exchange,market,markets,trading,"
	"security,secure,login,account,accountant,gives,bet,casino,poker,games,"
	"game,play,video,photo,photos,pictures,studio,academy,school,education,"
	"university,institute,land,city,town,wiki,cool,social,chat,community,"
	"family,life,live,house,estate,properties,realty,codes,software,tools,"
	"domains,hosting,server,cafe,restaurant,pizza,coffee,wine,beer,shoes,"
	"fashion,clothing,jewelry,watch,health,care,clinic,dental,doctor,fitness,"
	"yoga,bio,eco,green,energy,solar,earth,ninja,rocks,wtf,fail,pw,rip,sale,"
	"deals,discount,gift,gifts,toys,baby,kids,autos,auto,car,cars,bike,tours,"
	"holiday,vacations,flights,hotel,events,tickets,gay,sex,porn,adult,dating,"
	"berlin,london,paris,nyc,amsterdam,barcelona,wales,scot,bzh,eus,gal,quebec,"
	"africa,arab,lgbt,ooo,ovh,google,amazon,apple,microsoft,"
	"gle,goog,cam,qpon,press,army,navy,band,technology,fyi,uno,fans,makeup,"
	"yachts,motorcycles,mba,";

/*
 * Known TLDs that are also file extensions (.py .sh .md .rs .pl .zip
 * .mov), code members (obj.info, window.top, user.id, self.name, x.app) or
 * English words glued to a sentence ("do.it").
 */
static const char ambiguous_tlds[] =
	"ai,am,as,at,be,by,cc,do,id,in,is,it,me,md,mk,ml,mo,my,no,pl,pm,ps,py,rs,"
	"sc,sh,so,tf,to,us,ms,cx,im,la,ci,cd,cv,st,sv,tv,"
	"info,name,app,top,link,site,store,email,date,host,dev,page,zip,mov,run,"
	"one,live,news,work,click,win,review,stream,download,party,game,play,"
	"video,watch,tools,codes,software,server,events,chat,support,center,group,"
	"team,life,world,today,space,cloud,services,help,fit,bar,bid,men,bio,ink,"
	"rest,fun,cool,rocks,fail,sale,gift,care,art,design,media,network,finance,"
	"money,cash,credit,market,trading,security,secure,login,account,exchange,"
	"press,band,fans,uno,army,navy,";

/* TLDs with the highest phishing-abuse rates in public reports. */
static const char abused_tlds[] =
	"top,xyz,cyou,buzz,sbs,cfd,bond,icu,rest,lol,monster,quest,shop,club,"
	"online,site,live,vip,work,click,link,fun,space,website,store,tk,ml,ga,cf,"
	"gq,pw,rip,cn,win,bid,loan,men,date,racing,review,stream,download,trade,"
	"party,science,gdn,ink,ren,best,fit,bar,skin,hair,beauty,boats,homes,lat,"
	"mom,pics,support,help,zip,mov,cam,su,ws,today,email,asia,wang,xin,"
	"kim,ltd,me,info,";

/* Second-level labels under which ccTLD registries sell names. */
static const char second_level[] =
	"co,com,net,org,gov,edu,ac,ne,or,go,gob,gouv,nom,ltd,plc,mil,sch,biz,"
	"info,gen,firm,ind,res,web,nic,lg,ed,ad,gr,mi,tm,";

static AgWordSet cc_tld_set = AG_WORDSET(cc_tlds);
static AgWordSet g_tld_set = AG_WORDSET(g_tlds);
static AgWordSet ambiguous_tld_set = AG_WORDSET(ambiguous_tlds);
static AgWordSet abused_tld_set = AG_WORDSET(abused_tlds);
static AgWordSet second_level_set = AG_WORDSET(second_level);

AgTldKind
AgUrlTldKind(const char *tld, size_t len)
{
	if (AgWordSetFind(len == 2 ? &cc_tld_set : &g_tld_set, tld, len) < 0)
		return AG_TLD_UNKNOWN;
	return AgWordSetFind(&ambiguous_tld_set, tld, len) >= 0 ? AG_TLD_AMBIGUOUS : AG_TLD_KNOWN;
}

int
AgUrlTldAbused(const char *tld, size_t len)
{
	return AgWordSetFind(&abused_tld_set, tld, len) >= 0;
}

int
AgUrlIsSecondLevelSuffix(const char *label, size_t len)
{
	return AgWordSetFind(&second_level_set, label, len) >= 0;
}
