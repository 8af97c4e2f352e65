/* bench_engine.c - the detection engine end to end: build a generated
 * customer list, load it, scan ~100 MB of mixed Chinese/English mail text
 * with records planted in it, and compare with the bare candidate-shape
 * scan (the ceiling) and, optionally, with the naive design (every strong
 * value as a clear-text Hyperscan literal).  Not a test: prints numbers,
 * and checks only that the distinct records found are those planted.
 *
 * Build (from the top of the tree, after make -C build/plain):
 *
 *   gcc -O2 -Wall -Ibuild/plain -Isrc -o build/plain/bench_engine \
 *       test/bench/bench_engine.c build/plain/libcustos.a \
 *       $(pkg-config --cflags --libs gmime-3.0 glib-2.0 libhs libconfuse \
 *       hiredis libsodium libarchive libdeflate json-glib-1.0) -lpthread -lm
 *
 * Usage:
 *
 *   bench_engine [-n records] [--no-weak] [--naive] [--weak-pool K]
 *       [--text-mb M] [--reps R] [--dir D] [--keep] [--reuse D] [--cpu-time]
 *       [--header]
 *
 * --weak-pool K: names and companies drawn from K name/company values
 * (at most K distinct of each) instead of the full pools (100 surnames x
 * 152 given-name characters, 30 cities x 60 x 60 x 20 industries: at 1M
 * records about 1.4M distinct weak literals).  The weak literals are
 * compiled into one Hyperscan literal database at build time, whose
 * compile time grows steeply with their number; see doc/performance.md.
 *
 * Phases run in separate processes (fork) so that ru_maxrss is per phase:
 * the CSV generator, the build (listbuild_run: CSV read, canonicalise,
 * fingerprint, weak-literal compile, table write), load + scan, and the
 * naive compile + scan.  Each scan is timed --reps times (default 5), the
 * best is kept; the engine's passes and the ceiling's alternate, so that
 * a busy spell of a shared machine weighs on both alike.  MB/s are of
 * original text bytes (10^6 bytes).
 * --reuse D scans the list another run left in D (--keep) without writing
 * or building it again: for profiling the scan; give the same -n and weak
 * options as that run.  Its build columns are then zero.
 * --cpu-time times the scans with the process CPU clock instead of the
 * wall clock: steadier on a box shared with other work.
 *
 * The list: id C00000000.., name (Chinese, weak), mobile (strong, unique),
 * email (strong, unique), cn_id (strong, unique, valid check character),
 * company (Chinese, weak).  Values are a function of the row number and
 * the seed, so the text generator plants records without keeping the list
 * in memory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <hs.h>

#include "conf.h"
#include "engine.h"
#include "engine_int.h"
#include "findings.h"
#include "listbuild.h"
#include "table.h"
#include "textseg.h"

#define SEG_SIZE	(64 * 1024)
#define MSG_SEGS	16		/* segments per engine_scan call */
#define NAIVE_MAX	1000000UL	/* records: the naive compile beyond
					 * this takes too long to be useful */

static unsigned long	opt_n = 100000;
static bool		opt_weak = true, opt_naive, opt_keep, opt_header;
static bool		opt_cpu;		/* scans on the CPU clock */
static unsigned long	opt_text_mb = 100;
static unsigned long	opt_weak_pool;		/* 0: full pools */
static int		opt_reps = 5;
static const char	*opt_dir = "/tmp";
static const char	*opt_reuse;		/* a kept run's directory */
static const uint64_t	SEED = 0x637573746f73ULL;	/* "custos" */

static char dir[4096], csv_path[4200], conf_path[4200], db_path[4200];

/* ---------------------------------------------------------------- util */

static double
now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The clock scans are timed with: wall, or with --cpu-time this
 * process's CPU time, which other processes on a shared box disturb
 * less (they still share caches). */
static double
scan_clock(void)
{
	struct timespec ts;

	if (!opt_cpu)
		return now();
	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Hash of (row, salt): per-record choices. */
static uint64_t
rh(uint64_t i, uint64_t salt)
{
	return mix(SEED ^ mix(i * 0x9e3779b97f4a7c15ULL + salt));
}

struct rng {
	uint64_t s;
};

static uint64_t
rnext(struct rng *r)
{
	return mix(r->s += 0x9e3779b97f4a7c15ULL);
}

static uint64_t
rbelow(struct rng *r, uint64_t n)
{
	return rnext(r) % n;
}

static long
maxrss_kb(void)
{
	struct rusage ru;

	(void)getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static long
rss_now_kb(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;

	if (fp != NULL) {
		if (fscanf(fp, "%ld %ld", &size, &res) != 2)
			res = 0;
		(void)fclose(fp);
	}
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void
die(const char *what, const char *err)
{
	(void)fprintf(stderr, "bench_engine: %s: %s\n", what, err);
	exit(1);
}

/* ------------------------------------------------------------- records */

static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
	"马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
	"唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁",
	"潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
	"任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
	"石", "廖", "贾", "夏", "韦", "付", "方", "白", "邹", "孟", "熊", "秦",
	"邱", "江", "尹", "薛", "闫", "段", "雷", "侯", "龙", "史", "陶", "黎",
	"贺", "顾", "毛", "郝", "龚", "邵", "万", "钱", "严", "覃", "武", "戴",
	"莫", "孔", "向", "汤",
};
static const char *const given[] = {
	"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
	"杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华",
	"玉", "兰", "萍", "鹏", "辉", "玲", "建", "红", "飞", "鑫", "波", "斌",
	"宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "欢",
	"阳", "晨", "瑞", "博", "文", "雪", "琳", "婷", "倩", "颖", "晶", "莉",
	"梅", "燕", "璐", "琪", "蕾", "薇", "岚", "颜", "菲", "婕", "嘉", "怡",
	"佳", "欣", "悦", "思", "雨", "梦", "诗", "雅", "子", "涵", "轩", "睿",
	"铭", "泽", "昊", "然", "宏", "志", "国", "庆", "海", "峰", "东", "亮",
	"丹", "勋", "骏", "彬", "坤", "昕", "晓", "锋", "毅", "翔", "航", "嵘",
	"琦", "萱", "蓉", "妍", "珊", "瑶", "茜", "馨", "媛", "楠", "钰", "荣",
	"启", "立", "成", "新", "春", "秋", "冬", "继", "永", "德", "仁", "义",
	"礼", "智", "信", "忠", "孝", "松", "柏", "竹", "菊", "荷", "莲", "桃",
};
static const char *const cities[] = {
	"北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安",
	"重庆", "天津", "苏州", "长沙", "郑州", "青岛", "厦门", "宁波", "合肥",
	"福州", "济南", "大连", "沈阳", "昆明", "无锡", "东莞", "佛山", "珠海",
	"南昌", "贵阳", "南宁",
};
static const char *const cores[] = {
	"华", "盛", "鼎", "恒", "泰", "瑞", "祥", "丰", "源", "达", "通", "宏",
	"远", "兴", "隆", "嘉", "信", "诚", "博", "创", "智", "汇", "聚", "德",
	"康", "安", "新", "星", "辰", "海", "天", "宇", "金", "银", "正", "方",
	"中", "东", "南", "北", "明", "光", "科", "云", "峰", "锦", "润", "和",
	"立", "鑫", "腾", "飞", "龙", "凤", "美", "佳", "优", "品", "弘", "毅",
};
static const char *const industries[] = {
	"科技", "贸易", "网络", "信息技术", "电子", "实业", "建设", "物流",
	"医药", "食品", "文化传媒", "咨询", "投资", "教育科技", "机械",
	"环保", "新能源", "软件", "服装", "餐饮管理",
};
static const char *const pinyin[] = {
	"wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu",
	"zhou", "xu", "sun", "ma", "zhu", "hu", "guo", "he", "gao", "lin",
	"luo", "wei", "fang", "na", "min", "jing", "qiang", "lei", "jun",
	"yong", "jie", "tao", "ming", "chao", "xiu", "xia", "ping", "hua",
	"peng", "hui", "ling", "fei", "xin", "bo", "bin", "yu", "hao", "kai",
	"jian",
};
static const char *const domains[] = {
	"163.com", "126.com", "gmail.com", "sina.com", "sohu.com",
	"outlook.com", "hotmail.com", "yahoo.com.cn", "foxmail.com",
	"aliyun.com", "corp-mail.cn", "example.com.cn",
};
static const char *const regions[] = {
	"110101", "310104", "440305", "440106", "330106", "320102", "510104",
	"420102", "610113", "370102", "350203", "430104", "120101", "500103",
	"210102", "230102", "410105", "340104", "360102", "450103",
};
#define NEL(a)	(sizeof (a) / sizeof (a)[0])

struct record {
	char	id[16];
	char	name[16];
	char	mobile[12];
	char	email[64];
	char	cn_id[19];
	char	company[64];
};

/* Days since 1970-01-01 to y, m, d (Howard Hinnant's civil_from_days). */
static void
civil(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *
put_u(char *p, uint64_t v, int width)
{
	char t[24];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n < width)
		t[n++] = '0';
	while (n > 0)
		*p++ = t[--n];
	return p;
}

static char *
put_s(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* Record i: every strong value unique (bijections of i), weak values
 * from small pools (shared between records, as names are). */
static void
record_make(uint64_t i, struct record *r)
{
	static const int w[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
	    8, 4, 2 };
	static const char check[] = "10X98765432";
	uint64_t h = rh(i, 1), j, x;
	int y, m, d, k, sum;
	char *p;

	p = put_s(r->id, "C");
	*put_u(p, i, 8) = '\0';

	/* With a weak pool, names and companies come from its first
	 * entries only: at most opt_weak_pool distinct of each. */
	if (opt_weak_pool > 0)
		h = rh(rh(i, 1) % opt_weak_pool, 3);
	/* Surnames skewed towards the common ones. */
	k = (int)((h % 1000) * (h % 1000) / 1000000.0 * NEL(surnames));
	p = put_s(r->name, surnames[k]);
	p = put_s(p, given[(h >> 10) % NEL(given)]);
	if ((h >> 20) % 4 != 0)
		p = put_s(p, given[(h >> 24) % NEL(given)]);
	*p = '\0';

	h = rh(i, 1);
	/* 1[3-9] and 9 digits: i -> i * 3^18 mod 10^9 is a bijection. */
	p = r->mobile;
	*p++ = '1';
	*p++ = (char)('3' + (h >> 32) % 7);
	*put_u(p, (i * 387420489ULL + 123456789ULL) % 1000000000ULL, 9) =
	    '\0';

	/* x: a bijection of i on 32 bits. */
	x = ((i + 1) * 2654435761ULL) & 0xffffffffULL;
	p = r->email;
	if ((h >> 40) % 5 < 2) {		/* a QQ number */
		p = put_u(p, 10000 + x, 0);
		p = put_s(p, "@qq.com");
	} else {
		p = put_s(p, pinyin[(h >> 44) % NEL(pinyin)]);
		if ((h >> 50) % 2)
			*p++ = '.';
		p = put_s(p, pinyin[(h >> 52) % NEL(pinyin)]);
		p = put_u(p, x, 0);
		*p++ = '@';
		p = put_s(p, domains[(h >> 58) % NEL(domains)]);
	}
	*p = '\0';

	/* 20 regions x 20000 birth days x 1000 sequence numbers:
	 * i -> i * 3^18 mod 4e8 is a bijection. */
	j = (i * 387420489ULL + 7) % 400000000ULL;
	civil(-7305 + (long)((j / 1000) % 20000), &y, &m, &d);	/* 1950.. */
	p = put_s(r->cn_id, regions[j / 20000000]);
	p = put_u(p, (uint64_t)y, 4);
	p = put_u(p, (uint64_t)m, 2);
	p = put_u(p, (uint64_t)d, 2);
	p = put_u(p, j % 1000, 3);
	for (k = 0, sum = 0; k < 17; k++)
		sum += (r->cn_id[k] - '0') * w[k];
	*p++ = check[sum % 11];
	*p = '\0';

	h = opt_weak_pool > 0 ? rh(rh(i, 2) % opt_weak_pool, 4) : rh(i, 2);
	p = put_s(r->company, cities[h % NEL(cities)]);
	p = put_s(p, cores[(h >> 8) % NEL(cores)]);
	p = put_s(p, cores[(h >> 16) % NEL(cores)]);
	p = put_s(p, industries[(h >> 24) % NEL(industries)]);
	p = put_s(p, "有限公司");
	*p = '\0';
}

/* ---------------------------------------------------------------- CSV */

static void
write_csv(void)
{
	FILE *fp;
	char *buf, *p;
	size_t cap = 8 << 20;
	struct record r;
	uint64_t i;

	if ((fp = fopen(csv_path, "w")) == NULL)
		die(csv_path, strerror(errno));
	if ((buf = malloc(cap)) == NULL)
		die("csv", "out of memory");
	p = put_s(buf, "id,name,mobile,email,cn_id,company\n");
	for (i = 0; i < opt_n; i++) {
		record_make(i, &r);
		p = put_s(p, r.id); *p++ = ',';
		p = put_s(p, r.name); *p++ = ',';
		p = put_s(p, r.mobile); *p++ = ',';
		p = put_s(p, r.email); *p++ = ',';
		p = put_s(p, r.cn_id); *p++ = ',';
		p = put_s(p, r.company); *p++ = '\n';
		if ((size_t)(p - buf) > cap - 512) {
			if (fwrite(buf, 1, (size_t)(p - buf), fp) !=
			    (size_t)(p - buf))
				die(csv_path, strerror(errno));
			p = buf;
		}
	}
	if (fwrite(buf, 1, (size_t)(p - buf), fp) != (size_t)(p - buf) ||
	    fclose(fp) != 0)
		die(csv_path, strerror(errno));
	free(buf);
}

static void
write_conf(void)
{
	FILE *fp;

	if ((fp = fopen(conf_path, "w")) == NULL)
		die(conf_path, strerror(errno));
	(void)fprintf(fp,
	    "key_file = \"%s/list.key\"\n"
	    "database = \"%s/lists.db\"\n"
	    "list \"customers\" {\n"
	    "  file = \"%s\"\n"
	    "  field \"mobile\" { kind = \"mobile\" strength = \"strong\" }\n"
	    "  field \"email\" { kind = \"email\" strength = \"strong\" }\n"
	    "  field \"cn_id\" { kind = \"cn_id\" strength = \"strong\" }\n",
	    dir, dir, csv_path);
	if (opt_weak)
		(void)fprintf(fp,
		    "  field \"name\" { kind = \"name\" strength = \"weak\" }\n"
		    "  field \"company\" { kind = \"company\" "
		    "strength = \"weak\" }\n");
	(void)fprintf(fp, "}\n");
	if (fclose(fp) != 0)
		die(conf_path, strerror(errno));
}

/* ---------------------------------------------------------------- text */

static const char *const zh_phrases[] = {
	"本季度销售额同比增长", "请查收附件中的报价单", "会议纪要如下",
	"关于下周项目评审的安排", "烦请各位同事确认", "已按要求修改完毕",
	"财务部将于月底前完成对账", "如有疑问请随时联系", "感谢您的支持与配合",
	"我们计划在下个月上线新版本", "物流信息显示已经发货", "合同条款需要再次审核",
	"市场推广方案初稿", "请于周五前提交", "预算调整说明", "客户满意度调查结果",
	"系统维护通知", "此致敬礼", "祝工作顺利", "培训课程安排在三楼会议室",
	"采购申请已审批通过", "发票已经开具", "库存盘点结果", "人事变动通知",
	"年度总结报告", "请注意数据安全", "供应商评估表", "产品质量问题反馈",
	"售后服务流程优化", "办公用品领取登记",
};
static const char *const en_words[] = {
	"the", "quarterly", "report", "is", "attached", "please", "review",
	"and", "confirm", "by", "Friday", "we", "will", "ship", "order",
	"invoice", "meeting", "notes", "project", "update", "schedule",
	"budget", "team", "customer", "feedback", "thanks", "regards",
	"shipment", "delayed", "warehouse", "contract", "signed", "pending",
	"approval", "from", "finance", "department", "next", "week",
	"release", "version", "Best", "Hello", "all", "of", "for", "with",
	"sales", "target", "growth", "market", "analysis", "summary",
};

struct textbuf {
	char	*p, *end;
};

static void
tb_put(struct textbuf *t, const char *s)
{
	size_t n = strlen(s);

	memcpy(t->p, s, n);
	t->p += n;
}

static void
tb_u(struct textbuf *t, uint64_t v, int width)
{
	t->p = put_u(t->p, v, width);
}

/* A piece of filler: prose with at most one number in it (dates, prices,
 * order and tracking numbers, times, percentages), never a record. */
static void
filler(struct textbuf *t, struct rng *r)
{
	int k, n;

	switch (rbelow(r, 12)) {
	case 0: case 1: case 2: case 3:
		tb_put(t, zh_phrases[rbelow(r, NEL(zh_phrases))]);
		tb_put(t, rbelow(r, 3) ? "，" : "。");
		break;
	case 4: case 5: case 6:
		n = 4 + (int)rbelow(r, 10);
		for (k = 0; k < n; k++) {
			tb_put(t, en_words[rbelow(r, NEL(en_words))]);
			tb_put(t, " ");
		}
		t->p[-1] = '.';
		tb_put(t, " ");
		break;
	case 7:
		tb_put(t, "日期：");
		tb_u(t, 2020 + rbelow(r, 6), 0);
		tb_put(t, rbelow(r, 2) ? "-" : "年");
		tb_u(t, 1 + rbelow(r, 12), 2);
		tb_put(t, "-");
		tb_u(t, 1 + rbelow(r, 28), 2);
		tb_put(t, "，");
		break;
	case 8:
		tb_put(t, rbelow(r, 2) ? "金额 ¥" : "total USD ");
		tb_u(t, rbelow(r, 100), 0);
		tb_put(t, ",");
		tb_u(t, rbelow(r, 1000), 3);
		tb_put(t, ".");
		tb_u(t, rbelow(r, 100), 2);
		tb_put(t, " 元，");
		break;
	case 9:
		switch (rbelow(r, 3)) {
		case 0:
			tb_put(t, "订单号 SO");
			tb_u(t, 2024000000ULL + rbelow(r, 1000000), 0);
			tb_u(t, rbelow(r, 100000), 5);
			break;
		case 1:
			tb_put(t, "invoice INV-2024-");
			tb_u(t, rbelow(r, 1000000), 6);
			break;
		default:
			tb_put(t, "运单号：");
			tb_u(t, 773000000000000ULL + rbelow(r,
			    1000000000000ULL), 0);
			break;
		}
		tb_put(t, "，请核对。");
		break;
	case 10:
		tb_put(t, "at ");
		tb_u(t, rbelow(r, 24), 2);
		tb_put(t, ":");
		tb_u(t, rbelow(r, 60), 2);
		tb_put(t, " growth ");
		tb_u(t, rbelow(r, 100), 0);
		tb_put(t, ".");
		tb_u(t, rbelow(r, 10), 0);
		tb_put(t, "% ");
		break;
	default:
		tb_put(t, "\n");
		break;
	}
}

static void
put_fullwidth_digits(struct textbuf *t, const char *d)
{
	for (; *d != '\0'; d++) {
		*t->p++ = (char)0xef;
		*t->p++ = (char)0xbc;
		*t->p++ = (char)(0x90 + (*d - '0'));
	}
}

/* A planted record, written one of the ways mail writes it.  Returns the
 * record planted. */
static uint64_t
plant(struct textbuf *t, struct rng *r, unsigned long *kinds)
{
	uint64_t i = rbelow(r, opt_n);
	struct record rec;
	unsigned how = (unsigned)rbelow(r, 100);
	char *s;

	record_make(i, &rec);
	tb_put(t, " ");
	if (how < 25) {				/* plain */
		tb_put(t, rbelow(r, 2) ? "手机：" : "mobile ");
		tb_put(t, rec.mobile);
		kinds[0]++;
	} else if (how < 35) {			/* 138-0013-8000 */
		tb_put(t, "电话 ");
		memcpy(t->p, rec.mobile, 3); t->p += 3; *t->p++ = '-';
		memcpy(t->p, rec.mobile + 3, 4); t->p += 4; *t->p++ = '-';
		memcpy(t->p, rec.mobile + 7, 4); t->p += 4;
		kinds[1]++;
	} else if (how < 45) {			/* 138 0013 8000 */
		tb_put(t, "tel: ");
		memcpy(t->p, rec.mobile, 3); t->p += 3; *t->p++ = ' ';
		memcpy(t->p, rec.mobile + 3, 4); t->p += 4; *t->p++ = ' ';
		memcpy(t->p, rec.mobile + 7, 4); t->p += 4;
		kinds[2]++;
	} else if (how < 53) {			/* +86 */
		tb_put(t, "call +86 ");
		tb_put(t, rec.mobile);
		kinds[3]++;
	} else if (how < 58) {			/* full-width */
		tb_put(t, "联系电话");
		put_fullwidth_digits(t, rec.mobile);
		kinds[4]++;
	} else if (how < 78) {			/* e-mail, mixed case */
		tb_put(t, "邮箱 ");
		s = t->p;
		tb_put(t, rec.email);
		for (; s < t->p; s++)
			if (*s >= 'a' && *s <= 'z' && rbelow(r, 3) == 0)
				*s = (char)(*s - 'a' + 'A');
		kinds[5]++;
	} else if (how < 93) {			/* name next to its mobile */
		tb_put(t, "联系人：");
		tb_put(t, rec.name);
		tb_put(t, "，手机 ");
		tb_put(t, rec.mobile);
		kinds[6]++;
	} else {				/* ID number */
		tb_put(t, "身份证号：");
		tb_put(t, rec.cn_id);
		kinds[7]++;
	}
	tb_put(t, "。 ");
	return i;
}

struct corpus {
	struct textseg	**msgs;
	size_t		 nmsgs;
	size_t		 bytes;
	size_t		 planted;	/* occurrences */
	size_t		 distinct;	/* distinct records planted */
	unsigned long	 kinds[8];
	uint8_t		*bitmap;	/* records planted */
};

static void
corpus_make(struct corpus *c)
{
	size_t target = opt_text_mb * 1000000UL, nseg, s;
	struct rng r = { SEED ^ 0x7465787455ULL };
	char *seg = malloc(SEG_SIZE + 1024);
	struct textbuf t;
	size_t gap;

	memset(c, 0, sizeof *c);
	c->bitmap = calloc(opt_n / 8 + 1, 1);
	nseg = (target + SEG_SIZE - 1) / SEG_SIZE;
	c->nmsgs = (nseg + MSG_SEGS - 1) / MSG_SEGS;
	c->msgs = calloc(c->nmsgs, sizeof *c->msgs);
	if (seg == NULL || c->bitmap == NULL || c->msgs == NULL)
		die("text", "out of memory");
	gap = 1000 + rbelow(&r, 4000);
	for (s = 0; s < nseg; s++) {
		char *last = seg;
		struct textseg *m;
		uint64_t i;

		if ((m = c->msgs[s / MSG_SEGS]) == NULL &&
		    (m = c->msgs[s / MSG_SEGS] = textseg_new()) == NULL)
			die("text", "out of memory");
		t.p = seg;
		t.end = seg + SEG_SIZE;
		while (t.p < t.end - 256) {
			if ((size_t)(t.p - last) >= gap) {
				i = plant(&t, &r, c->kinds);
				c->planted++;
				if (!(c->bitmap[i / 8] & (1u << (i % 8)))) {
					c->bitmap[i / 8] |= (uint8_t)(1u <<
					    (i % 8));
					c->distinct++;
				}
				last = t.p;
				gap = 1000 + rbelow(&r, 4000);
			} else
				filler(&t, &r);
		}
		if (textseg_add(m, "body text/plain", "text/plain", "utf-8",
		    NULL, seg, (size_t)(t.p - seg)) == NULL)
			die("text", "out of memory");
		c->bytes += (size_t)(t.p - seg);
	}
	free(seg);
}

/* ------------------------------------------------------------ phases */

struct result {
	int	ok;
	double	csv_s, build_s, load_s;
	size_t	rows, bad_rows, records, strong, weak, table_bytes;
	long	rss_csv, rss_build, rss_base, rss_load, rss_scan;
	double	engine_mbs, ceiling_mbs, naive_mbs;
	size_t	text_bytes, planted, distinct, found, foreign;
	unsigned long kinds[8];
	/* naive */
	double	naive_compile_s;
	size_t	naive_db_bytes, naive_lits, naive_matches;
	long	naive_rss;
	int	naive_done;
	char	err[512];
};

/* Runs fn in a child; the child fills *res, which comes back by pipe. */
static void
in_child(void (*fn)(struct result *), struct result *res)
{
	int fd[2], status;
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	if (pipe(fd) != 0)
		die("pipe", strerror(errno));
	(void)fflush(NULL);
	if ((pid = fork()) < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		struct result r = *res;
		const char *p = (const char *)&r;
		size_t left = sizeof r;

		(void)close(fd[0]);
		fn(&r);
		while (left > 0 && (n = write(fd[1], p, left)) > 0) {
			p += n;
			left -= (size_t)n;
		}
		(void)fflush(NULL);
		_exit(0);
	}
	(void)close(fd[1]);
	while (got < sizeof *res &&
	    (n = read(fd[0], (char *)res + got, sizeof *res - got)) > 0)
		got += (size_t)n;
	(void)close(fd[0]);
	(void)waitpid(pid, &status, 0);
	if (got != sizeof *res || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("child", "a benchmark phase failed");
}

static void
phase_csv(struct result *res)
{
	double t0 = now();

	write_csv();
	res->csv_s = now() - t0;
	res->rss_csv = maxrss_kb();
}

static void
phase_build(struct result *res)
{
	struct listbuild_stats st;
	struct conf *c;
	char err[512];
	double t0;

	if ((c = conf_load(conf_path, err, sizeof err)) == NULL)
		die("conf", err);
	t0 = now();
	if (listbuild_run(c, false, &st, err, sizeof err) != 0)
		die("build", err);
	res->build_s = now() - t0;
	res->rss_build = maxrss_kb();
	res->rows = st.rows;
	res->bad_rows = st.bad_rows;
	res->records = st.records;
	res->strong = st.strong_values;
	res->weak = st.weak_values;
	res->table_bytes = st.table_bytes;
	conf_unref(c);
}

static int
on_nothing(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	(void)id; (void)from; (void)to; (void)flags; (void)arg;
	return 0;
}

static int
on_count(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *arg)
{
	(void)id; (void)from; (void)to; (void)flags;
	(*(size_t *)arg)++;
	return 0;
}

static double
mbs(size_t bytes, double s)
{
	return s > 0 ? (double)bytes / s / 1e6 : 0;
}

/* Scans every segment of the corpus with db; best of reps, MB/s. */
static double
hs_pass(const struct corpus *co, const hs_database_t *db,
    hs_scratch_t *scratch, match_event_handler cb, size_t *count, int reps)
{
	double best = 1e30, t0, dt;
	size_t m, s;
	int rep;

	for (rep = 0; rep < reps; rep++) {
		*count = 0;
		t0 = scan_clock();
		for (m = 0; m < co->nmsgs; m++)
			for (s = 0; s < co->msgs[m]->nseg; s++)
				if (hs_scan(db, co->msgs[m]->seg[s].text,
				    (unsigned)co->msgs[m]->seg[s].text_len, 0,
				    scratch, cb, count) != HS_SUCCESS)
					die("hs_scan", "failed");
		dt = scan_clock() - t0;
		if (dt < best)
			best = dt;
	}
	return mbs(co->bytes, best);
}

static void
phase_scan(struct result *res)
{
	struct corpus co;
	struct conf *c;
	struct engine *e;
	hs_scratch_t *scratch;
	uint8_t *found;
	struct findings *fs;
	char err[512];
	double t0, best = 1e30, dt, ceil;
	size_t m, k, n, dummy;
	int rep;

	res->rss_base = rss_now_kb();
	if ((c = conf_load(conf_path, err, sizeof err)) == NULL)
		die("conf", err);
	t0 = now();
	if ((e = engine_load(c, err, sizeof err)) == NULL)
		die("load", err);
	res->load_s = now() - t0;
	res->rss_load = maxrss_kb();

	corpus_make(&co);
	res->text_bytes = co.bytes;
	res->planted = co.planted;
	res->distinct = co.distinct;
	memcpy(res->kinds, co.kinds, sizeof res->kinds);
	if ((found = calloc(opt_n / 8 + 1, 1)) == NULL)
		die("scan", "out of memory");

	if ((fs = calloc(co.nmsgs, sizeof *fs)) == NULL)
		die("scan", "out of memory");
	if ((scratch = engine_scratch(e, err, sizeof err)) == NULL)
		die("scratch", err);
	res->ceiling_mbs = 0;
	for (rep = 0; rep < opt_reps; rep++) {
		size_t nfound = 0, foreign = 0;

		memset(found, 0, opt_n / 8 + 1);
		t0 = scan_clock();
		for (m = 0; m < co.nmsgs; m++) {
			if (findings_init(&fs[m], 8) != 0)
				die("scan", "out of memory");
			if (engine_scan(e, co.msgs[m], &fs[m], err,
			    sizeof err) != 0)
				die("scan", err);
		}
		dt = scan_clock() - t0;
		if (dt < best)
			best = dt;
		/* The union over messages, outside the timing: sorting the
		 * record ids reads them from the table, a cache miss each
		 * at 10M records, which is the caller's work, not the
		 * scan's. */
		for (m = 0; m < co.nmsgs; m++) {
			const struct finding_record **v;

			v = findings_sorted(&fs[m], &n);
			for (k = 0; k < n; k++) {
				unsigned long i = strtoul(v[k]->id + 1, NULL,
				    10);

				if (i >= opt_n ||
				    !(co.bitmap[i / 8] & (1u << (i % 8))))
					foreign++;
				else if (!(found[i / 8] & (1u << (i % 8)))) {
					found[i / 8] |= (uint8_t)(1u <<
					    (i % 8));
					nfound++;
				}
			}
			g_free(v);
			findings_free(&fs[m]);
		}
		res->found = nfound;
		res->foreign = foreign;
		/* The ceiling: the candidate database alone, its callback
		 * doing nothing; one pass after each of the engine's, so
		 * that a busy spell of the machine weighs on both alike. */
		ceil = hs_pass(&co, e->cand_db, scratch, on_nothing, &dummy, 1);
		if (ceil > res->ceiling_mbs)
			res->ceiling_mbs = ceil;
	}
	free(fs);
	res->engine_mbs = mbs(co.bytes, best);
	res->rss_scan = maxrss_kb();
	res->ok = res->found == res->distinct && res->foreign == 0;
	engine_unref(e);
	conf_unref(c);
}

/* The naive design: every strong value in clear as a literal. */
static void
phase_naive(struct result *res)
{
	size_t nlit = opt_n * 3, i;
	char **lits = malloc(nlit * sizeof *lits);
	size_t *lens = malloc(nlit * sizeof *lens);
	unsigned *ids = malloc(nlit * sizeof *ids);
	unsigned *flags = malloc(nlit * sizeof *flags);
	char *pool = malloc(opt_n * (12 + 64 + 19));
	char *p = pool;
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_scratch_t *scratch = NULL;
	struct corpus co;
	struct record r;
	double t0;

	if (lits == NULL || lens == NULL || ids == NULL || flags == NULL ||
	    pool == NULL)
		die("naive", "out of memory");
	for (i = 0; i < opt_n; i++) {
		record_make(i, &r);
		lits[3 * i] = p; lens[3 * i] = strlen(r.mobile);
		p = put_s(p, r.mobile);
		lits[3 * i + 1] = p; lens[3 * i + 1] = strlen(r.email);
		p = put_s(p, r.email);
		lits[3 * i + 2] = p; lens[3 * i + 2] = strlen(r.cn_id);
		p = put_s(p, r.cn_id);
		ids[3 * i] = ids[3 * i + 1] = ids[3 * i + 2] = (unsigned)i;
		flags[3 * i] = flags[3 * i + 2] = 0;
		flags[3 * i + 1] = HS_FLAG_CASELESS;
	}
	t0 = now();
	if (hs_compile_lit_multi((const char *const *)lits, flags, ids, lens,
	    (unsigned)nlit, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS)
		die("naive compile", cerr->message);
	res->naive_compile_s = now() - t0;
	res->naive_rss = maxrss_kb();
	(void)hs_database_size(db, &res->naive_db_bytes);
	res->naive_lits = nlit;
	free(lits); free(lens); free(ids); free(flags); free(pool);
	if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
		die("naive", "scratch");
	corpus_make(&co);
	res->naive_mbs = hs_pass(&co, db, scratch, on_count,
	    &res->naive_matches, opt_reps);
	res->naive_done = 1;
	hs_free_scratch(scratch);
	hs_free_database(db);
}

/* ---------------------------------------------------------------- main */

static void
usage(void)
{
	(void)fprintf(stderr, "usage: bench_engine [-n records] [--no-weak] "
	    "[--naive] [--weak-pool K] [--text-mb M] [--reps R] [--dir D] [--keep] [--reuse D] "
	    "[--cpu-time] [--header]\n");
	exit(2);
}

static void
print_header(void)
{
	(void)printf("%-9s %-4s %7s %7s %7s %12s %7s %9s %9s %9s %9s %6s "
	    "%9s %6s %s\n", "records", "weak", "csv_s", "build_s", "load_s",
	    "table_B", "B/value", "RSSbld_MB", "RSSld_MB", "eng_MB/s",
	    "ceil_MB/s", "e/ceil", "naive_MB/s", "e/nv", "check");
}

int
main(int argc, char **argv)
{
	struct result res;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			opt_n = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--no-weak") == 0)
			opt_weak = false;
		else if (strcmp(argv[i], "--naive") == 0)
			opt_naive = true;
		else if (strcmp(argv[i], "--weak-pool") == 0 && i + 1 < argc)
			opt_weak_pool = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--text-mb") == 0 && i + 1 < argc)
			opt_text_mb = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			opt_reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			opt_dir = argv[++i];
		else if (strcmp(argv[i], "--keep") == 0)
			opt_keep = true;
		else if (strcmp(argv[i], "--reuse") == 0 && i + 1 < argc)
			opt_reuse = argv[++i];
		else if (strcmp(argv[i], "--header") == 0)
			opt_header = true;
		else if (strcmp(argv[i], "--cpu-time") == 0)
			opt_cpu = true;
		else
			usage();
	}
	if (opt_n == 0 || opt_n > 100000000UL || opt_reps < 1 ||
	    opt_text_mb == 0)
		usage();
	if (opt_header) {
		print_header();
		return 0;
	}
	if (opt_reuse != NULL) {
		(void)snprintf(dir, sizeof dir, "%s", opt_reuse);
		opt_keep = true;
	} else {
		(void)snprintf(dir, sizeof dir, "%s/custos-bench.XXXXXX",
		    opt_dir);
		if (mkdtemp(dir) == NULL)
			die(dir, strerror(errno));
	}
	(void)snprintf(csv_path, sizeof csv_path, "%s/customers.csv", dir);
	(void)snprintf(conf_path, sizeof conf_path, "%s/custos.conf", dir);
	(void)snprintf(db_path, sizeof db_path, "%s/lists.db", dir);
	memset(&res, 0, sizeof res);
	if (opt_reuse != NULL)
		goto scan;
	write_conf();

	in_child(phase_csv, &res);
	(void)fprintf(stderr, "# %lu records: CSV written in %.2f s\n", opt_n,
	    res.csv_s);
	in_child(phase_build, &res);
	(void)fprintf(stderr, "# build %.2f s: %zu rows, %zu bad, %zu strong "
	    "values, %zu weak literals, table %zu bytes, RSS %ld MB\n",
	    res.build_s, res.rows, res.bad_rows, res.strong, res.weak,
	    res.table_bytes, res.rss_build / 1024);
scan:
	in_child(phase_scan, &res);
	(void)fprintf(stderr, "# load %.3f s, RSS %ld MB (base %ld MB); "
	    "text %.1f MB, %zu planted (%zu distinct records; plain %lu, "
	    "dashes %lu, spaces %lu, +86 %lu, full-width %lu, e-mail %lu, "
	    "name+mobile %lu, ID %lu); found %zu of them, %zu others\n",
	    res.load_s, res.rss_load / 1024, res.rss_base / 1024,
	    (double)res.text_bytes / 1e6, res.planted, res.distinct,
	    res.kinds[0], res.kinds[1], res.kinds[2], res.kinds[3],
	    res.kinds[4], res.kinds[5], res.kinds[6], res.kinds[7],
	    res.found, res.foreign);
	if (opt_naive && opt_n > NAIVE_MAX)
		(void)fprintf(stderr, "# naive: skipped above %lu records\n",
		    NAIVE_MAX);
	else if (opt_naive) {
		in_child(phase_naive, &res);
		(void)fprintf(stderr, "# naive: %zu literals compiled in "
		    "%.1f s, database %zu bytes, compile RSS %ld MB, %zu "
		    "matches\n", res.naive_lits, res.naive_compile_s,
		    res.naive_db_bytes, res.naive_rss / 1024,
		    res.naive_matches);
	}
	print_header();
	(void)printf("%-9lu %-4s %7.2f %7.2f %7.3f %12zu %7.1f %9ld %9ld "
	    "%9.1f %9.1f %6.2f ", opt_n, opt_weak ? "yes" : "no", res.csv_s,
	    res.build_s, res.load_s, res.table_bytes,
	    res.strong ? (double)res.table_bytes / (double)res.strong : 0,
	    res.rss_build / 1024, res.rss_load / 1024, res.engine_mbs,
	    res.ceiling_mbs, res.engine_mbs / res.ceiling_mbs);
	if (res.naive_done)
		(void)printf("%9.1f %6.2f ", res.naive_mbs,
		    res.engine_mbs / res.naive_mbs);
	else
		(void)printf("%9s %6s ", "-", "-");
	(void)printf("%s (%zu/%zu) weak_lits=%zu\n", res.ok ? "OK" : "MISMATCH", res.found,
	    res.distinct, res.weak);
	if (!opt_keep) {
		char cmd[4300];

		(void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			(void)fprintf(stderr, "bench_engine: cannot remove %s\n",
			    dir);
	} else
		(void)fprintf(stderr, "# kept %s\n", dir);
	return res.ok ? 0 : 1;
}
