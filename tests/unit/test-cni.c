/* test-cni: cni.c, table-driven: the environment per verb, CNI_ARGS,
 * versions, results per spec version (golden files in tests/unit/data/,
 * rewritten with OSN_UPDATE_GOLDEN=1), result parsing, errors and output.
 * Exits 0 when every case passes, else 1 after printing every failure.
 */
#include "cni.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>

#include "testlib.h"

/* The canonical text of a document: sorted keys, 2-space indent, newline. */
static char *canon(const json_t *j)
{
        char *s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
        if (!s)
                return NULL;
        size_t n = strlen(s);
        char *t = realloc(s, n + 2);
        if (!t) {
                free(s);
                return NULL;
        }
        memcpy(t + n, "\n", 2);
        return t;
}

/* ---- the environment -------------------------------------------------- */

/* A fake environment: "NAME=value" strings; NULL-terminated. */
static const char *const *fake_env;

static char *fake_getenv(const char *name)
{
        size_t n = strlen(name);
        for (size_t i = 0; fake_env && fake_env[i]; i++)
                if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
                        return (char *)fake_env[i] + n + 1;
        return NULL;
}

#define ADD_ENV(...)                                                                               \
        {                                                                                          \
                "CNI_COMMAND=ADD", "CNI_CONTAINERID=c0ffee", "CNI_NETNS=/var/run/netns/p1",        \
                    "CNI_IFNAME=net1", "CNI_PATH=/opt/cni/bin", __VA_ARGS__ NULL                   \
        }

#define LONG64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct {
        const char *env[10];
        const char *error; /* NULL = valid; else a substring of the message */
} env_cases[] = {
    {ADD_ENV(), NULL},
    {ADD_ENV("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p", ), NULL},
    {{"CNI_COMMAND=DEL", "CNI_CONTAINERID=c0ffee", "CNI_IFNAME=net1", NULL}, NULL},
    {{"CNI_COMMAND=DEL", "CNI_CONTAINERID=c0ffee", "CNI_IFNAME=net1", "CNI_NETNS=", NULL}, NULL},
    {{"CNI_COMMAND=CHECK", "CNI_CONTAINERID=c", "CNI_NETNS=/proc/1/ns/net", "CNI_IFNAME=e", NULL},
     NULL},
    {{"CNI_COMMAND=VERSION", NULL}, NULL},
    {{"CNI_COMMAND=STATUS", NULL}, NULL},
    {{"CNI_COMMAND=GC", "CNI_PATH=/opt/cni/bin", NULL}, NULL},
    {{"CNI_COMMAND=GC", NULL}, NULL},
    /* Attachment variables are not read for GC/STATUS/VERSION. */
    {{"CNI_COMMAND=GC", "CNI_CONTAINERID=-bad", "CNI_IFNAME=a/b", "CNI_ARGS=x", NULL}, NULL},
    {ADD_ENV("CNI_CONTAINERID=a_b.c-D9", ), NULL},
    {ADD_ENV("CNI_IFNAME=abcdefghijklmno", ), NULL},

    {{NULL}, "CNI_COMMAND is missing or empty"},
    {{"CNI_COMMAND=", NULL}, "CNI_COMMAND is missing or empty"},
    {{"CNI_COMMAND=add", NULL}, "CNI_COMMAND: \"add\" is not a CNI command"},
    {{"CNI_COMMAND=ADD ", NULL}, "CNI_COMMAND: \"ADD \" is not a CNI command"},
    {{"CNI_COMMAND=ADD\x01", NULL}, "CNI_COMMAND: \"ADD\\x01\""},
    {{"CNI_COMMAND=ADD", "CNI_NETNS=/x", "CNI_IFNAME=e", NULL},
     "CNI_CONTAINERID is missing or empty"},
    {{"CNI_COMMAND=DEL", "CNI_IFNAME=e", NULL}, "CNI_CONTAINERID is missing or empty"},
    {{"CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_IFNAME=e", NULL},
     "CNI_NETNS is missing or empty (ADD needs"},
    {{"CNI_COMMAND=CHECK", "CNI_CONTAINERID=c", "CNI_IFNAME=e", NULL},
     "CNI_NETNS is missing or empty (CHECK needs"},
    {{"CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=/x", NULL},
     "CNI_IFNAME is missing or empty"},
    {{"CNI_COMMAND=DEL", "CNI_CONTAINERID=c", NULL}, "CNI_IFNAME is missing or empty"},
    {ADD_ENV("CNI_NETNS=var/run/netns/p1", ),
     "CNI_NETNS: \"var/run/netns/p1\" is not an absolute path"},
    {{"CNI_COMMAND=DEL", "CNI_CONTAINERID=c", "CNI_IFNAME=e", "CNI_NETNS=p1", NULL},
     "CNI_NETNS: \"p1\" is not an absolute path"},
    {ADD_ENV("CNI_CONTAINERID=-abc", ), "CNI_CONTAINERID: \"-abc\" is not a valid container ID"},
    {ADD_ENV("CNI_CONTAINERID=_abc", ), "CNI_CONTAINERID: \"_abc\""},
    {ADD_ENV("CNI_CONTAINERID=ab/c", ), "CNI_CONTAINERID: \"ab/c\""},
    {ADD_ENV("CNI_CONTAINERID=ab c", ), "CNI_CONTAINERID: \"ab c\""},
    {ADD_ENV("CNI_CONTAINERID=ab\"c", ), "CNI_CONTAINERID: \"ab\\\"c\""},
    {ADD_ENV("CNI_CONTAINERID=caf\xc3\xa9", ), "CNI_CONTAINERID: \"caf\\xc3\\xa9\""},
    {ADD_ENV("CNI_CONTAINERID=" LONG64 LONG64 LONG64 LONG64, ),
     "...\" is too long (256 bytes, at most 255)"},
    {ADD_ENV("CNI_IFNAME=", ), "CNI_IFNAME is missing or empty"},
    {ADD_ENV("CNI_IFNAME=abcdefghijklmnop", ),
     "CNI_IFNAME: \"abcdefghijklmnop\" is too long for an interface name (16 bytes, at most "
     "15)"},
    {ADD_ENV("CNI_IFNAME=eth0:1", ), "CNI_IFNAME: \"eth0:1\" is not a valid interface name"},
    {ADD_ENV("CNI_IFNAME=a/b", ), "CNI_IFNAME: \"a/b\""},
    {ADD_ENV("CNI_IFNAME=a b", ), "CNI_IFNAME: \"a b\""},
    {ADD_ENV("CNI_IFNAME=a\tb", ), "CNI_IFNAME: \"a\\x09b\""},
    {ADD_ENV("CNI_IFNAME=.", ), "CNI_IFNAME: \".\" is not a valid interface name"},
    {ADD_ENV("CNI_IFNAME=..", ), "CNI_IFNAME: \"..\""},
    {ADD_ENV("CNI_IFNAME=net\xff", ), "CNI_IFNAME: \"net\\xff\" is not valid UTF-8"},
    {{"CNI_COMMAND=CHECK", "CNI_CONTAINERID=c", "CNI_NETNS=/x", "CNI_IFNAME=\xe9t", NULL},
     "CNI_IFNAME: \"\\xe9t\" is not valid UTF-8"},
    {ADD_ENV("CNI_IFNAME=caf\xc3\xa9", ), NULL},
    {ADD_ENV("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=p\xc3", ),
     "CNI_ARGS: K8S_POD_NAME=\"p\\xc3\" is not valid UTF-8"},
    {ADD_ENV("CNI_ARGS=FOO=\xff;K8S_POD_NAME=p", ), NULL}, /* unknown keys stay ignored */
    {ADD_ENV("CNI_ARGS=K8S_POD_NAME", ), "CNI_ARGS: item \"K8S_POD_NAME\" is not KEY=VALUE"},
    {ADD_ENV("CNI_ARGS=IP=10.0.0.300", ), "CNI_ARGS: IP=\"10.0.0.300\""},
};

static void test_env(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(env_cases); i++) {
                struct osn_cni_env env;
                struct osn_error err = {0};
                /* The ADD_ENV defaults come first; a later override wins. */
                const char *vars[16] = {0};
                size_t n = 0;
                for (size_t k = 0; env_cases[i].env[k]; k++) {
                        const char *eq = strchr(env_cases[i].env[k], '=');
                        size_t kl = (size_t)(eq - env_cases[i].env[k]) + 1;
                        size_t j;
                        for (j = 0; j < n; j++)
                                if (strncmp(vars[j], env_cases[i].env[k], kl) == 0)
                                        break;
                        vars[j] = env_cases[i].env[k];
                        if (j == n)
                                n++;
                }
                fake_env = vars;
                int r = osn_cni_env_read(fake_getenv, &env, &err);
                if (!env_cases[i].error) {
                        CHECK(r == 0, "env case %zu: %s", i, err.msg);
                        continue;
                }
                CHECK(r < 0, "env case %zu must fail", i);
                CHECK(err.code == OSN_CNI_INVALID_ENV, "env case %zu: code %d", i, err.code);
                CHECK(strstr(err.msg, env_cases[i].error), "env case %zu: want \"%s\" in: %s", i,
                      env_cases[i].error, err.msg);
        }

        /* What ends up in the struct. */
        static const char *const add[] =
            ADD_ENV("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod-1;K8S_POD_UID="
                    "7b3c;K8S_POD_INFRA_CONTAINER_ID=c0ffee;IP=10.0.0.5/24", );
        fake_env = add;
        struct osn_cni_env env;
        struct osn_error err = {0};
        CHECK(osn_cni_env_read(fake_getenv, &env, &err) == 0, "%s", err.msg);
        CHECK(env.verb == OSN_VERB_ADD, "verb");
        CHECK(streq(env.container_id, "c0ffee"), "%s", env.container_id);
        CHECK(streq(env.netns, "/var/run/netns/p1"), "%s", env.netns);
        CHECK(streq(env.ifname, "net1"), "%s", env.ifname);
        CHECK(streq(env.path, "/opt/cni/bin"), "%s", env.path);
        CHECK(streq(env.args.pod_namespace, "ns1") && streq(env.args.pod_name, "pod-1") &&
                  streq(env.args.pod_uid, "7b3c") && streq(env.args.infra_container_id, "c0ffee") &&
                  env.args.n_ips == 1,
              "args");

        static const char *const del[] = {"CNI_COMMAND=DEL", "CNI_CONTAINERID=c", "CNI_IFNAME=e",
                                          NULL};
        fake_env = del;
        CHECK(osn_cni_env_read(fake_getenv, &env, &err) == 0 && env.verb == OSN_VERB_DEL &&
                  env.netns[0] == 0,
              "DEL without netns");
}

/* ---- CNI_ARGS --------------------------------------------------------- */

static const struct {
        const char *in;
        const char *error;     /* NULL = valid */
        const char *ns, *name; /* expected when valid */
        const char *ips;       /* expected "a/p,b/p" (bare addresses as /0) */
        const char *mac;
} args_cases[] = {
    {"", NULL, "", "", "", NULL},
    {";;;", NULL, "", "", "", NULL},
    {" ; ;", NULL, "", "", "", NULL},
    {"IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=abc", NULL,
     "ns", "p", "", NULL},
    {"IgnoreUnknown=1;;K8S_POD_NAMESPACE=ns;;K8S_POD_NAME=p;", NULL, "ns", "p", "", NULL},
    {"IgnoreUnknown=true;FOO=bar;BAZ=;K8S_POD_NAME=p", NULL, "", "p", "", NULL},
    {"FOO=bar", NULL, "", "", "", NULL}, /* unknown keys ignored even without IgnoreUnknown */
    {"THIS_KEY_IS_LONGER_THAN_ANY_KEY_WE_KNOW=1", NULL, "", "", "", NULL},
    {"K8S_POD_NAME=a;K8S_POD_NAME=b", NULL, "", "b", "", NULL},
    {"K8S_POD_NAME=a=b", NULL, "", "a=b", "", NULL},
    {"FOO=a=b=c;K8S_POD_NAMESPACE=x", NULL, "x", "", "", NULL},
    {"K8S_POD_NAME=", NULL, "", "", "", NULL},
    {"IP=10.0.0.5/24", NULL, "", "", "10.0.0.5/24", NULL},
    {"IP=10.0.0.5", NULL, "", "", "10.0.0.5/0", NULL},
    {"IP=10.0.0.5,fd00::5/64", NULL, "", "", "10.0.0.5/0,fd00::5/64", NULL},
    {"IP= 10.0.0.5/24 , fd00::5", NULL, "", "", "10.0.0.5/24,fd00::5/0", NULL},
    {"IP=10.0.0.5;IP=10.0.0.6/24", NULL, "", "", "10.0.0.6/24", NULL},
    {"IP=10.0.0.5;IP=", NULL, "", "", "", NULL},
    {"IP=1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8", NULL, "", "",
     "1.0.0.1/0,1.0.0.2/0,1.0.0.3/0,1.0.0.4/0,1.0.0.5/0,1.0.0.6/0,1.0.0.7/0,1.0.0.8/0", NULL},
    {"MAC=0A:58:0A:0A:0A:05", NULL, "", "", "", "0a:58:0a:0a:0a:05"},
    {"MAC=0a:58:0a:0a:0a:05;MAC=", NULL, "", "", "", NULL},

    {"K8S_POD_NAME", "CNI_ARGS: item \"K8S_POD_NAME\" is not KEY=VALUE"},
    {"IgnoreUnknown=1;garbage;K8S_POD_NAME=p", "CNI_ARGS: item \"garbage\" is not KEY=VALUE"},
    {"=value", "CNI_ARGS: item \"=value\" has an empty key"},
    {"K8S_POD_NAME=a b", "CNI_ARGS: K8S_POD_NAME=\"a b\" contains whitespace"},
    {"K8S_POD_NAMESPACE=a\tb", "CNI_ARGS: K8S_POD_NAMESPACE=\"a\\x09b\""},
    {"K8S_POD_UID=" LONG64, "CNI_ARGS: K8S_POD_UID=\"0123", "is too long (64 bytes, at most 63)"},
    {"IP=10.0.0.300", "CNI_ARGS: IP=\"10.0.0.300\" is not an IP address"},
    {"IP=10.0.0.5/33", "CNI_ARGS: IP=\"10.0.0.5/33\" is not an IP address"},
    {"IP=10.0.0.5/", "CNI_ARGS: IP=\"10.0.0.5/\""},
    {"IP=/24", "CNI_ARGS: IP=\"/24\""},
    {"IP=010.0.0.5", "CNI_ARGS: IP=\"010.0.0.5\""},
    {"IP=10.0.0.5/0", "CNI_ARGS: IP=\"10.0.0.5/0\": a /0 prefix"},
    {"IP=10.0.0.5,,10.0.0.6", "CNI_ARGS: IP=\"10.0.0.5,,10.0.0.6\": item 2 is empty"},
    {"IP=10.0.0.5,", "item 2 is empty"},
    {"IP=,", "item 1 is empty"},
    {"IP=10.0.0.5,10.0.0.5/24", "CNI_ARGS: IP= lists \"10.0.0.5/24\" twice"},
    {"IP=1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,1.0.0.9",
     "CNI_ARGS: IP= carries more than 8 addresses"},
    {"IP=hello", "CNI_ARGS: IP=\"hello\""},
    {"MAC=ff:ff:ff:ff:ff:ff", "CNI_ARGS: MAC=\"ff:ff:ff:ff:ff:ff\" is a multicast MAC address"},
    {"MAC=01:00:5e:00:00:01", "CNI_ARGS: MAC=\"01:00:5e:00:00:01\" is a multicast MAC address"},
    {"MAC=00:00:00:00:00:00", "is the all-zero MAC address"},
    {"MAC=0a:58:zz:0a:0a:05", "CNI_ARGS: MAC=\"0a:58:zz:0a:0a:05\" is not a MAC address"},
    {"K8S_POD_NAME=caf\xe9", "CNI_ARGS: K8S_POD_NAME=\"caf\\xe9\" is not valid UTF-8"},
    {"K8S_POD_NAMESPACE=\xc0\xaf", "CNI_ARGS: K8S_POD_NAMESPACE=\"\\xc0\\xaf\" is not valid UTF-8"},
    {"K8S_POD_UID=\xed\xa0\x80", "is not valid UTF-8"},
    {"MAC=0a:58:0a:0a:0a", "CNI_ARGS: MAC=\"0a:58:0a:0a:0a\""},
    {"MAC=0a:58:0a:0a:0a:05:06:07", "CNI_ARGS: MAC=\"0a:58:0a:0a:0a:05:06:07\""},
};

/* A DEL of an attachment no ADD can have made (its names are not UTF-8)
 * succeeds with nothing to do, saying why; a normal DEL has something. */
static void test_del_impossible(void)
{
        static const char *const bad_ifname[] = {"CNI_COMMAND=DEL", "CNI_CONTAINERID=c0ffee",
                                                 "CNI_IFNAME=net\xff", NULL};
        static const char *const bad_args[] = {
            "CNI_COMMAND=DEL", "CNI_CONTAINERID=c0ffee", "CNI_IFNAME=net1",
            "CNI_ARGS=K8S_POD_NAMESPACE=n\xe9;K8S_POD_NAME=p", NULL};
        static const char *const good[] = {"CNI_COMMAND=DEL", "CNI_CONTAINERID=c0ffee",
                                           "CNI_IFNAME=net1", "CNI_ARGS=K8S_POD_NAME=p", NULL};
        const char *const *cases[] = {bad_ifname, bad_args, good};
        const char *why[] = {"CNI_IFNAME \"net\\xff\" is not valid UTF-8: no attachment can exist",
                             "CNI_ARGS \"K8S_POD_NAMESPACE=n\\xe9\" is not valid UTF-8", ""};
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_cni_env env;
                struct osn_error err = {0};
                fake_env = cases[i];
                int r = osn_cni_env_read(fake_getenv, &env, &err);
                CHECK(r == 0 && !osn_error_isset(&err), "del case %zu: r=%d %s", i, r, err.msg);
                CHECK(why[i][0] ? strstr(env.nothing_to_delete, why[i]) != NULL
                                : env.nothing_to_delete[0] == 0,
                      "del case %zu: nothing_to_delete=\"%s\"", i, env.nothing_to_delete);
        }
        CHECK(osn_utf8_valid("", 0) && osn_utf8_valid("\xf0\x9f\x98\x80", 4) &&
                  !osn_utf8_valid("\xf4\x90\x80\x80", 4) && !osn_utf8_valid("\xe2\x82", 2) &&
                  !osn_utf8_valid("\xc1\xbf", 2),
              "osn_utf8_valid edge cases");
}

static void format_ips(const struct osn_cni_args *a, char *buf, size_t len)
{
        size_t o = 0;
        buf[0] = 0;
        for (size_t i = 0; i < a->n_ips && o < len; i++) {
                char c[OSN_CIDR_STRLEN];
                o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "",
                                      osn_cidr_format(&a->ips[i], c, sizeof(c)));
        }
}

static void test_args(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(args_cases); i++) {
                struct osn_cni_args a;
                struct osn_error err = {0};
                int r = osn_cni_args_parse(args_cases[i].in, &a, &err);
                if (args_cases[i].error) {
                        CHECK(r < 0 && err.code == OSN_CNI_INVALID_ENV, "args case %zu (%s)", i,
                              args_cases[i].in);
                        CHECK(strstr(err.msg, args_cases[i].error),
                              "args case %zu: want \"%s\" in: %s", i, args_cases[i].error, err.msg);
                        /* The third field doubles as a second needle. */
                        if (args_cases[i].ns)
                                CHECK(strstr(err.msg, args_cases[i].ns),
                                      "args case %zu: want \"%s\" in: %s", i, args_cases[i].ns,
                                      err.msg);
                        continue;
                }
                CHECK(r == 0, "args case %zu (%s): %s", i, args_cases[i].in, err.msg);
                char ips[512], mac[OSN_MAC_STRLEN] = "";
                format_ips(&a, ips, sizeof(ips));
                if (a.has_mac)
                        osn_mac_format(a.mac, mac, sizeof(mac));
                CHECK(streq(a.pod_namespace, args_cases[i].ns), "args case %zu: ns \"%s\"", i,
                      a.pod_namespace);
                CHECK(streq(a.pod_name, args_cases[i].name), "args case %zu: name \"%s\"", i,
                      a.pod_name);
                CHECK(streq(ips, args_cases[i].ips), "args case %zu: ips \"%s\"", i, ips);
                CHECK(a.has_mac == (args_cases[i].mac != NULL) &&
                          (!a.has_mac || streq(mac, args_cases[i].mac)),
                      "args case %zu: mac \"%s\"", i, mac);
        }
        struct osn_cni_args a;
        CHECK(osn_cni_args_parse(NULL, &a, NULL) == 0 && a.n_ips == 0, "NULL");
        CHECK(osn_cni_args_parse("IP=x", &a, NULL) == -EINVAL, "NULL err");
}

/* ---- verbs and versions ----------------------------------------------- */

static void test_versions(void)
{
        static const char *const names[] = {"ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"};
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                enum osn_cni_verb v;
                CHECK(osn_cni_verb_parse(names[i], &v) == 0 &&
                          streq(osn_cni_verb_name(v), names[i]),
                      "%s", names[i]);
        }
        enum osn_cni_verb v;
        CHECK(osn_cni_verb_parse("add", &v) == -EINVAL, "lowercase");
        CHECK(osn_cni_verb_parse(NULL, &v) == -EINVAL, "NULL");
        CHECK(streq(osn_cni_verb_name((enum osn_cni_verb)42), "UNKNOWN"), "unknown");

        static const char *const want[] = {"0.1.0", "0.2.0", "0.3.0", "0.3.1",
                                           "0.4.0", "1.0.0", "1.1.0"};
        size_t n = 0;
        while (osn_cni_versions[n])
                n++;
        CHECK(n == ARRAY_SIZE(want), "%zu versions", n);
        for (size_t i = 0; i < n && i < ARRAY_SIZE(want); i++) {
                CHECK(streq(osn_cni_versions[i], want[i]), "%s", osn_cni_versions[i]);
                CHECK(osn_cni_version_supported(want[i]), "%s", want[i]);
                if (i > 0)
                        CHECK(osn_cni_version_cmp(want[i - 1], want[i]) < 0, "%s < %s", want[i - 1],
                              want[i]);
        }
        CHECK(streq(osn_cni_versions[n - 1], OSN_CNI_LATEST_VERSION), "latest");
        static const char *const unsupported[] = {"",       "1.0",    "0.5.0", "2.0.0",
                                                  "1.1.0 ", "v1.0.0", NULL};
        for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
                CHECK(!osn_cni_version_supported(unsupported[i]), "%s", unsupported[i]);

        static const struct {
                const char *a, *b;
                int cmp;
        } cmps[] = {
            {"1.0.0", "1.0.0", 0},    {"0.3.1", "0.4.0", -1},  {"0.10.0", "0.9.0", 1},
            {"1.1.0", "1.0.10", 1},   {"2.0.0", "1.99.99", 1}, {"x", "0.1.0", -1},
            {"0.1.0", "x", 1},        {"x", "x", 0},           {"a", "b", -1},
            {NULL, "0.1.0", -1},      {NULL, NULL, 0},         {"1.0", "0.0.1", -1},
            {"1.0.0.0", "0.0.1", -1}, {"01.0.0", "1.0.0", 0},  {"1.0.0-rc1", "0.1.0", -1},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cmps); i++)
                CHECK(osn_cni_version_cmp(cmps[i].a, cmps[i].b) == cmps[i].cmp, "cmp(%s, %s)",
                      cmps[i].a ? cmps[i].a : "NULL", cmps[i].b ? cmps[i].b : "NULL");

        static const struct {
                const char *v;
                enum osn_cni_verb verb;
                const char *error;
        } checks_[] = {
            {"0.1.0", OSN_VERB_ADD, NULL},
            {"0.1.0", OSN_VERB_DEL, NULL},
            {"0.3.1", OSN_VERB_CHECK, "CHECK needs cniVersion 0.4.0 or later, got \"0.3.1\""},
            {"0.4.0", OSN_VERB_CHECK, NULL},
            {"1.0.0", OSN_VERB_STATUS, "STATUS needs cniVersion 1.1.0 or later"},
            {"1.0.0", OSN_VERB_GC, "GC needs cniVersion 1.1.0 or later"},
            {"1.1.0", OSN_VERB_GC, NULL},
            {"1.1.0", OSN_VERB_STATUS, NULL},
            {"0.5.0", OSN_VERB_ADD,
             "cniVersion \"0.5.0\" is not supported (supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, "
             "0.4.0, 1.0.0, 1.1.0)"},
            {NULL, OSN_VERB_ADD, "cniVersion \"\" is not supported"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(checks_); i++) {
                struct osn_error err = {0};
                int r = osn_cni_version_check(checks_[i].v, checks_[i].verb, &err);
                if (!checks_[i].error) {
                        CHECK(r == 0, "version check %zu: %s", i, err.msg);
                        continue;
                }
                CHECK(r < 0 && err.code == OSN_CNI_INCOMPATIBLE_VERSION, "version check %zu", i);
                CHECK(strstr(err.msg, checks_[i].error), "version check %zu: %s", i, err.msg);
        }

        static const struct {
                const char *in, *out;
        } vj[] = {
            {"0.4.0", "0.4.0"},
            {"1.1.0", "1.1.0"},
            {NULL, "1.1.0"},
            {"9.9.9", "1.1.0"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(vj); i++) {
                _cleanup_json_ json_t *j = osn_cni_version_json(vj[i].in);
                _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
                char expect[256];
                snprintf(expect, sizeof(expect),
                         "{\"cniVersion\":\"%s\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\","
                         "\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}",
                         vj[i].out);
                CHECK(streq(s, expect), "version json: %s", s);
        }
}

/* ---- results ---------------------------------------------------------- */

/* The result of a dual-stack ADD: host veth end, pod end, two addresses
 * on the pod end, plus a second IPv4 (dropped by 0.1.0/0.2.0). */
static struct osn_cni_result sample_result(void)
{
        struct osn_cni_result r = {0};
        snprintf(r.ifaces[0].name, sizeof(r.ifaces[0].name), "osn5f2a9c01e3b4");
        snprintf(r.ifaces[0].mac, sizeof(r.ifaces[0].mac), "7a:1c:22:9e:41:0b");
        r.ifaces[0].mtu = 1400;
        snprintf(r.ifaces[1].name, sizeof(r.ifaces[1].name), "net1");
        snprintf(r.ifaces[1].mac, sizeof(r.ifaces[1].mac), "0a:58:0a:0a:0a:05");
        r.ifaces[1].mtu = 1400;
        snprintf(r.ifaces[1].sandbox, sizeof(r.ifaces[1].sandbox), "/var/run/netns/pod-1");
        r.n_ifaces = 2;
        r.ips[0] = (struct osn_cni_ip){.address = test_cidr("10.10.10.5/24"),
                                       .has_gateway = true,
                                       .gateway = test_cidr("10.10.10.1"),
                                       .iface = 1};
        r.ips[1] = (struct osn_cni_ip){.address = test_cidr("fd00:10::5/64"), .iface = 1};
        r.ips[2] = (struct osn_cni_ip){.address = test_cidr("10.10.10.6/24"), .iface = 1};
        r.n_ips = 3;
        return r;
}

static bool ip_equal(const struct osn_cni_ip *a, const struct osn_cni_ip *b)
{
        return osn_addr_equal(&a->address, &b->address) &&
               a->address.prefixlen == b->address.prefixlen && a->has_gateway == b->has_gateway &&
               (!a->has_gateway || osn_addr_equal(&a->gateway, &b->gateway)) &&
               a->iface == b->iface;
}

static void test_results(void)
{
        struct osn_cni_result res = sample_result();
        for (size_t i = 0; osn_cni_versions[i]; i++) {
                const char *v = osn_cni_versions[i];
                _cleanup_json_ json_t *j = osn_cni_result_json(&res, v);
                CHECK(j, "%s", v);
                if (!j)
                        continue;
                char name[64];
                snprintf(name, sizeof(name), "result-%s.json", v);
                _cleanup_free_ char *text = canon(j);
                golden(name, text);

                CHECK(streq(json_string_value(json_object_get(j, "cniVersion")), v), "%s", v);
                bool legacy = osn_cni_version_cmp(v, "0.3.0") < 0;
                bool has_version = !legacy && osn_cni_version_cmp(v, "1.0.0") < 0;
                bool has_mtu = osn_cni_version_cmp(v, "1.1.0") >= 0;
                CHECK(legacy == (json_object_get(j, "ip4") != NULL), "%s: ip4", v);
                CHECK(legacy == (json_object_get(j, "interfaces") == NULL), "%s: interfaces", v);
                json_t *ips = json_object_get(j, "ips");
                CHECK(legacy || json_array_size(ips) == 3, "%s: ips", v);
                CHECK(legacy || (json_object_get(json_array_get(ips, 0), "version") != NULL) ==
                                    has_version,
                      "%s: ips[].version", v);
                json_t *ifs = json_object_get(j, "interfaces");
                CHECK(legacy || (json_object_get(json_array_get(ifs, 1), "mtu") != NULL) == has_mtu,
                      "%s: interfaces[].mtu", v);
                CHECK(legacy || !json_object_get(json_array_get(ifs, 0), "sandbox"),
                      "%s: host interface has no sandbox", v);
                CHECK(json_is_object(json_object_get(j, "dns")), "%s: dns", v);

                /* Round trip through the parser. */
                struct osn_cni_result back;
                struct osn_error err = {0};
                CHECK(osn_cni_result_parse(j, &back, &err) == 0, "%s: %s", v, err.msg);
                if (legacy) {
                        CHECK(back.n_ifaces == 0 && back.n_ips == 2, "%s: legacy parse", v);
                        CHECK(ip_equal(&back.ips[0],
                                       &(struct osn_cni_ip){.address = res.ips[0].address,
                                                            .has_gateway = true,
                                                            .gateway = res.ips[0].gateway,
                                                            .iface = -1}),
                              "%s: ip4", v);
                        CHECK(ip_equal(
                                  &back.ips[1],
                                  &(struct osn_cni_ip){.address = res.ips[1].address, .iface = -1}),
                              "%s: ip6", v);
                        continue;
                }
                CHECK(back.n_ifaces == 2 && back.n_ips == 3, "%s: counts", v);
                for (size_t k = 0; k < back.n_ifaces && k < 2; k++) {
                        CHECK(streq(back.ifaces[k].name, res.ifaces[k].name) &&
                                  streq(back.ifaces[k].mac, res.ifaces[k].mac) &&
                                  streq(back.ifaces[k].sandbox, res.ifaces[k].sandbox),
                              "%s: iface %zu", v, k);
                        CHECK(back.ifaces[k].mtu == (has_mtu ? res.ifaces[k].mtu : 0),
                              "%s: iface %zu mtu", v, k);
                }
                for (size_t k = 0; k < back.n_ips && k < 3; k++)
                        CHECK(ip_equal(&back.ips[k], &res.ips[k]), "%s: ip %zu", v, k);

                /* And rendering the parsed result again is stable. */
                _cleanup_json_ json_t *again = osn_cni_result_json(&back, v);
                _cleanup_free_ char *text2 = canon(again);
                CHECK(streq(text, text2), "%s: round trip\n%s\n%s", v, text, text2);
        }

        CHECK(osn_cni_result_json(&res, "0.5.0") == NULL, "unsupported version");
        CHECK(osn_cni_result_json(&res, NULL) == NULL, "NULL version");

        /* An empty result (L2 only, no addresses). */
        struct osn_cni_result empty = {.n_ifaces = 1};
        snprintf(empty.ifaces[0].name, sizeof(empty.ifaces[0].name), "net1");
        _cleanup_json_ json_t *e = osn_cni_result_json(&empty, "1.0.0");
        _cleanup_free_ char *es = json_dumps(e, JSON_COMPACT);
        CHECK(streq(es, "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"net1\"}],\"ips\":[],"
                        "\"dns\":{}}"),
              "%s", es);
        _cleanup_json_ json_t *e0 = osn_cni_result_json(&empty, "0.2.0");
        _cleanup_free_ char *es0 = json_dumps(e0, JSON_COMPACT);
        CHECK(streq(es0, "{\"cniVersion\":\"0.2.0\",\"dns\":{}}"), "%s", es0);
}

static const struct {
        const char *json;
        const char *error; /* NULL = valid */
} parse_cases[] = {
    {"{}", NULL},
    {"{\"cniVersion\":\"1.0.0\"}", NULL},
    {"{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.0.0.5/24\"}}", NULL},
    {"{\"ip6\":{\"ip\":\"fd00::5/64\",\"gateway\":\"fd00::1\"},\"dns\":{}}", NULL},
    {"{\"interfaces\":[{\"name\":\"net1\",\"mac\":\"\",\"sandbox\":\"\"}],\"ips\":[{"
     "\"address\":\"10.0.0.5/24\"}]}",
     NULL},
    {"{\"interfaces\":null,\"ips\":null,\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}", NULL},
    {"{\"interfaces\":[{\"name\":\"net1\",\"socketPath\":\"/x\",\"pciID\":\"0000:00:01.0\"}],"
     "\"ips\":[{\"address\":\"10.0.0.5/24\",\"interface\":0,\"version\":\"4\"}]}",
     NULL},

    {"[]", "prevResult: must be a JSON object"},
    {"{\"cniVersion\":1}", "prevResult: \"cniVersion\" must be a string"},
    {"{\"ips\":{}}", "prevResult: \"ips\" must be an array"},
    {"{\"interfaces\":{}}", "prevResult: \"interfaces\" must be an array"},
    {"{\"ips\":[{\"address\":\"10.0.0.5\"}]}",
     "prevResult: ips[0].address: \"10.0.0.5\" is not an address with a /prefix"},
    {"{\"ips\":[{\"address\":5}]}", "prevResult: ips[0].address must be a string"},
    {"{\"ips\":[{}]}", "prevResult: ips[0].address must be a string"},
    {"{\"ips\":[1]}", "prevResult: ips[0] must be an object"},
    {"{\"ips\":[{\"address\":\"10.0.0.5/24\",\"interface\":0}]}",
     "prevResult: ips[0].interface is 0, but there are no interfaces"},
    {"{\"interfaces\":[{\"name\":\"a\"}],\"ips\":[{\"address\":\"10.0.0.5/24\",\"interface\":"
     "-1}]}",
     "ips[0].interface must index"},
    {"{\"ips\":[{\"address\":\"10.0.0.5/24\",\"version\":\"6\"}]}",
     "prevResult: ips[0].version must be \"4\""},
    {"{\"ips\":[{\"address\":\"fd00::5/64\",\"version\":6}]}", "ips[0].version must be \"6\""},
    {"{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"fd00::1\"}]}",
     "prevResult: ips[0].gateway is not of the address's family"},
    {"{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1/24\"}]}",
     NULL}, /* a prefix on the gateway is tolerated */
    {"{\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"x\"}]}",
     "prevResult: ips[0].gateway: \"x\" is not an IP address"},
    {"{\"interfaces\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}",
     "prevResult: has 3 interfaces; osn creates at most 2"},
    {"{\"interfaces\":[{}]}", "prevResult: interfaces[0].name must be an interface name"},
    {"{\"interfaces\":[{\"name\":\"abcdefghijklmnop\"}]}", "interfaces[0].name"},
    {"{\"interfaces\":[{\"name\":\"a\",\"mac\":\"ff:ff:ff:ff:ff:ff\"}]}",
     "prevResult: interfaces[0].mac: \"ff:ff:ff:ff:ff:ff\" is a multicast MAC address"},
    {"{\"interfaces\":[{\"name\":\"a\",\"mac\":1}]}", "interfaces[0].mac must be a string"},
    {"{\"interfaces\":[{\"name\":\"a\",\"mtu\":-1}]}", "interfaces[0].mtu must be an integer"},
    {"{\"interfaces\":[{\"name\":\"a\",\"sandbox\":1}]}", "interfaces[0].sandbox must be"},
    {"{\"interfaces\":[1]}", "interfaces[0] must be an object"},
    {"{\"ip4\":{\"ip\":\"fd00::5/64\"}}", "prevResult: ip4.ip is not an IPv4 address"},
    {"{\"ip6\":{\"ip\":\"10.0.0.5/24\"}}", "prevResult: ip6.ip is not an IPv6 address"},
    {"{\"ip4\":\"10.0.0.5/24\"}", "prevResult: \"ip4\" must be an object"},
    {"{\"ip4\":{\"ip\":\"10.0.0.5\"}}", "prevResult: ip4.ip: \"10.0.0.5\" is not an address"},
    {"{\"ip4\":{\"ip\":\"10.0.0.5/24\",\"gateway\":5}}", "ip4.gateway must be a string"},
    {"{\"ips\":[{\"address\":\"1.0.0.1/8\"},{\"address\":\"1.0.0.2/8\"},{\"address\":"
     "\"1.0.0.3/8\"},{\"address\":\"1.0.0.4/8\"},{\"address\":\"1.0.0.5/8\"},{\"address\":"
     "\"1.0.0.6/8\"},{\"address\":\"1.0.0.7/8\"},{\"address\":\"1.0.0.8/8\"},{\"address\":"
     "\"1.0.0.9/8\"}]}",
     "prevResult: has 9 addresses; at most 8"},
};

static void test_result_parse(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
                json_error_t je;
                _cleanup_json_ json_t *j = json_loads(parse_cases[i].json, JSON_DECODE_ANY, &je);
                CHECK(j, "parse case %zu: bad test JSON: %s", i, je.text);
                struct osn_cni_result res;
                struct osn_error err = {0};
                int r = osn_cni_result_parse(j, &res, &err);
                if (!parse_cases[i].error) {
                        CHECK(r == 0, "parse case %zu: %s", i, err.msg);
                        continue;
                }
                CHECK(r < 0 && err.code == OSN_CNI_INVALID_CONFIG, "parse case %zu", i);
                CHECK(strstr(err.msg, parse_cases[i].error), "parse case %zu: want \"%s\" in: %s",
                      i, parse_cases[i].error, err.msg);
        }
        struct osn_cni_result res;
        CHECK(osn_cni_result_parse(NULL, &res, NULL) == -EINVAL, "NULL");
}

/* ---- errors and output ------------------------------------------------ */

static void test_errors(void)
{
        struct osn_error err = {0};
        osn_error_set(&err, -EINVAL, OSN_CNI_INVALID_CONFIG, "stdin: key \"mtu\": bad");
        _cleanup_json_ json_t *a = osn_cni_error_json(&err, "0.3.1");
        _cleanup_free_ char *as = json_dumps(a, JSON_COMPACT);
        CHECK(streq(as, "{\"cniVersion\":\"0.3.1\",\"code\":7,\"msg\":\"stdin: key \\\"mtu\\\": "
                        "bad\"}"),
              "no details: %s", as);

        osn_error_details(&err, "more words");
        _cleanup_json_ json_t *b = osn_cni_error_json(&err, "0.5.0");
        _cleanup_free_ char *bs = json_dumps(b, JSON_COMPACT);
        CHECK(streq(bs, "{\"cniVersion\":\"1.1.0\",\"code\":7,\"msg\":\"stdin: key \\\"mtu\\\": "
                        "bad\",\"details\":\"more words\"}"),
              "details, unsupported version: %s", bs);

        _cleanup_json_ json_t *c = osn_cni_error_json(NULL, NULL);
        CHECK(json_integer_value(json_object_get(c, "code")) == OSN_CNI_IO_FAILURE &&
                  streq(json_string_value(json_object_get(c, "cniVersion")), "1.1.0") &&
                  json_string_value(json_object_get(c, "msg")),
              "no error");

        /* A message cut inside a UTF-8 character still becomes JSON. */
        struct osn_error u = {0};
        osn_error_set(&u, -EINVAL, OSN_CNI_INVALID_CONFIG, "bad \xc3 byte \xff and \xe2\x82");
        _cleanup_json_ json_t *d = osn_cni_error_json(&u, "1.0.0");
        CHECK(streq(json_string_value(json_object_get(d, "msg")), "bad ? byte ? and ??"), "%s",
              json_string_value(json_object_get(d, "msg")));
        struct osn_error u2 = {0};
        osn_error_set(&u2, -EINVAL, 7, "r\xc3\xa9seau \xf0\x9f\x98\x80 \xed\xa0\x80 \xc0\xaf");
        _cleanup_json_ json_t *d2 = osn_cni_error_json(&u2, "1.0.0");
        CHECK(streq(json_string_value(json_object_get(d2, "msg")),
                    "r\xc3\xa9seau \xf0\x9f\x98\x80 ??? ??"),
              "%s", json_string_value(json_object_get(d2, "msg")));
}

/* Runs osn_cni_print() with fd 1 on a temporary file; returns what it
 * wrote. */
static char *capture_print(json_t *j, int *ret)
{
        char path[] = "/tmp/osn-test-cni.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
                return NULL;
        unlink(path);
        fflush(stdout);
        int saved = dup(STDOUT_FILENO);
        dup2(fd, STDOUT_FILENO);
        *ret = osn_cni_print(j);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        off_t len = lseek(fd, 0, SEEK_END);
        char *buf = calloc(1, (size_t)len + 1);
        if (buf && pread(fd, buf, (size_t)len, 0) != len) {
                free(buf);
                buf = NULL;
        }
        close(fd);
        return buf;
}

static void test_print(void)
{
        int r;
        json_t *v = osn_cni_version_json("1.0.0");
        _cleanup_free_ char *want = json_dumps(v, JSON_INDENT(4));
        _cleanup_free_ char *got = capture_print(v, &r); /* steals v */
        CHECK(r == 0, "print: %d", r);
        CHECK(got && strlen(got) == strlen(want) + 1 && strncmp(got, want, strlen(want)) == 0 &&
                  got[strlen(want)] == '\n',
              "print: %s", got);

        /* Bigger than a pipe buffer: still one complete document. */
        json_t *big = json_array();
        for (int i = 0; i < 20000; i++)
                json_array_append_new(big, json_string("0123456789"));
        _cleanup_free_ char *bw = json_dumps(big, JSON_INDENT(4));
        _cleanup_free_ char *bg = capture_print(big, &r);
        CHECK(r == 0 && bg && strlen(bg) == strlen(bw) + 1, "big print");

        CHECK(osn_cni_print(NULL) == -EINVAL, "NULL");

        /* A closed stdout is an error, not a crash. */
        fflush(stdout);
        int saved = dup(STDOUT_FILENO);
        close(STDOUT_FILENO);
        r = osn_cni_print(json_object());
        dup2(saved, STDOUT_FILENO);
        close(saved);
        CHECK(r == -EBADF, "closed stdout: %d", r);
}

static void test_valid_attachments(void)
{
        static const struct {
                const char *json;
                size_t n;
                const char *error;
        } cases[] = {
            {"{\"cni.dev/valid-attachments\":[]}", 0, NULL},
            {"{\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"net1\"},"
             "{\"containerID\":\"c2\",\"ifname\":\"net2\",\"extra\":1}]}",
             2, NULL},
            /* No list: keep none (GC removes them all). */
            {"{}", 0, NULL},
            {"{\"cni.dev/valid-attachments\":{}}", 0, "must be an array"},
            {"{\"cni.dev/valid-attachments\":null}", 0, "must be an array"},
            {"{\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\"}]}", 0,
             "cni.dev/valid-attachments[0] must be an object with string keys"},
            {"{\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"e\"},"
             "{\"containerID\":\"c1\"}]}",
             0,
             "cni.dev/valid-attachments[1] must be an object with string keys "
             "\"containerID\" and \"ifname\"; its \"ifname\" is missing"},
            {"{\"cni.dev/valid-attachments\":[{\"containerID\":7,\"ifname\":\"e\"}]}", 0,
             "cni.dev/valid-attachments[0] must be an object with string keys "
             "\"containerID\" and \"ifname\"; its \"containerID\" is not a string"},
            {"{\"cni.dev/valid-attachments\":[\"c1\"]}", 0,
             "cni.dev/valid-attachments[0] must be an object"},
            {"{\"cni.dev/valid-attachments\":[{\"containerID\":\"-c1\",\"ifname\":\"e\"}]}", 0,
             "cni.dev/valid-attachments[0].containerID: \"-c1\" is not a valid container ID"},
            {"{\"cni.dev/valid-attachments\":[{\"containerID\":\"c\",\"ifname\":\"a:b\"}]}", 0,
             "cni.dev/valid-attachments[0].ifname: \"a:b\""},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_json_ json_t *j = json_loads(cases[i].json, 0, NULL);
                _cleanup_free_ struct osn_cni_attachment *a = NULL;
                size_t n = 99;
                struct osn_error err = {0};
                int r = osn_cni_valid_attachments_parse(j, &a, &n, &err);
                if (!cases[i].error) {
                        CHECK(r == 0 && n == cases[i].n, "attachments case %zu: %s", i, err.msg);
                        if (n == 2)
                                CHECK(streq(a[1].container_id, "c2") && streq(a[1].ifname, "net2"),
                                      "attachments case %zu", i);
                        continue;
                }
                CHECK(r < 0 && err.code == OSN_CNI_INVALID_CONFIG && !a,
                      "attachments case %zu: code %d", i, err.code);
                CHECK(strstr(err.msg, cases[i].error), "attachments case %zu: %s", i, err.msg);
        }
}

int main(void)
{
        test_env();
        test_del_impossible();
        test_args();
        test_versions();
        test_results();
        test_result_parse();
        test_errors();
        test_print();
        test_valid_attachments();
        printf("test-cni: %zu env, %zu CNI_ARGS, %zu prevResult cases; %d checks, %d failed\n",
               ARRAY_SIZE(env_cases), ARRAY_SIZE(args_cases), ARRAY_SIZE(parse_cases), checks,
               failures);
        return failures ? 1 : 0;
}
