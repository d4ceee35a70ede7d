/* osnctl validate: NAD manifests, bare CNI configs and conflists, checked
 * exactly as the plugin would parse them (osn_netconf_parse), with every
 * problem placed at its line and column in the file the user edits.
 *
 * Sources and positions:
 * - a YAML file is read with libyaml (yamlpos.h), document by document; a
 *   NAD's spec.config is a scalar whose value is the JSON config, and a
 *   position inside that JSON maps to the file through the scalar's style
 *   (osn_yaml_scalar_source());
 * - a JSON file (its first character is '{' or '[') is first decoded
 *   strictly with jansson, as Multus and the plugin decode it (YAML would
 *   forgive a trailing comma); its structure is then read with libyaml as
 *   well (JSON is YAML's flow style), for the positions;
 * - within a config, a key that a message names is found by reading the
 *   config itself as a YAML flow document.
 * netconf reports a JSON syntax error's place as data (osn_error's line and
 * column, in the text it was given), and quotes it, and where the decoder
 * stopped, in the message as "line L, column C"; those are placed in the
 * file and rewritten to the file's lines and columns.  Where a
 * mapping cannot be made exact, the message keeps the config's own numbers
 * and says so, never a wrong place.
 *
 * Results are collected first and printed once, as text or JSON.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "netconf.h"
#include "nodeconf.h"
#include "ctl.h"
#include "osnctl.h"
#include "output.h"
#include "tenancy.h"
#include "yamlpos.h"

#define MAX_FILE (16u << 20)

/* A warning is probably a mistake that does not fail the network (an
 * unknown key close to a known one, a duplicate key, a kind typo); a note
 * says what validate cannot know offline. */
enum vstatus { V_OK, V_ERROR, V_SKIPPED, V_WARNING, V_NOTE, V_NSTATUS };
static const char *const status_names[] = {"ok", "error", "skipped", "warning", "note"};

struct vresult {
        char *file;
        struct osn_pos pos;
        struct osn_pos mtu_pos; /* where "mtu" is, when ok and set; else pos */
        enum vstatus status;
        char *kind; /* "NetworkAttachmentDefinition", "conflist", "config", other kinds; may be NULL
                     */
        char *ns;   /* metadata.namespace, may be NULL */
        char *name; /* metadata.name, or the conflist's/config's "name"; may be NULL */
        int plugin; /* index in a conflist's plugins, -1 */
        char *key;  /* where inside: "spec.config", "plugins[1]", ...; may be NULL */
        char *message;          /* the error or the reason to skip; NULL when ok */
        struct osn_netconf *nc; /* when ok */
        char *network;          /* when ok: the network's key it lands on (tenancy.h) */
        bool grants_known;      /* ... as the node config given with -c grants */
};

struct vctx {
        struct vresult *v;
        size_t n, cap;
        bool oom;
        /* The file being read. */
        const char *file;
        const char *src;
        size_t len;
};

/* Where a config's text comes from: the file itself (scalar NULL) or the
 * value of a YAML scalar of the file. */
struct cfgsrc {
        const char *text;
        size_t len;
        const yaml_node_t *scalar;
        int indent;
};

/* What a result is about (the manifest or config that holds the network). */
struct subject {
        const char *kind, *ns, *name;
};

static char *xstrdup(struct vctx *c, const char *s)
{
        if (!s)
                return NULL;
        char *d = strdup(s);
        if (!d)
                c->oom = true;
        return d;
}

_printf_(7, 8) static void add(struct vctx *c, struct osn_pos pos, enum vstatus st,
                               const struct subject *subj, int plugin, const char *key,
                               const char *fmt, ...)
{
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                struct vresult *v = realloc(c->v, cap * sizeof(*v));
                if (!v) {
                        c->oom = true;
                        return;
                }
                c->v = v;
                c->cap = cap;
        }
        struct vresult *r = &c->v[c->n++];
        memset(r, 0, sizeof(*r));
        r->file = xstrdup(c, c->file);
        r->pos = pos;
        r->status = st;
        r->plugin = plugin;
        if (subj) {
                r->kind = xstrdup(c, subj->kind);
                r->ns = xstrdup(c, subj->ns);
                r->name = xstrdup(c, subj->name);
        }
        r->key = xstrdup(c, key);
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(&r->message, fmt, ap) < 0) {
                        r->message = NULL;
                        c->oom = true;
                }
                va_end(ap);
        }
}

static void results_free(struct vctx *c)
{
        for (size_t i = 0; i < c->n; i++) {
                struct vresult *r = &c->v[i];
                free(r->file);
                free(r->kind);
                free(r->ns);
                free(r->name);
                free(r->key);
                free(r->message);
                free(r->network);
                osn_netconf_free(r->nc);
        }
        free(c->v);
}

/* Turns result i, valid so far, into an error: a check across documents or
 * against the node failed it. */
_printf_(3, 4) static void fail_result(struct vctx *c, size_t i, const char *fmt, ...)
{
        struct vresult *r = &c->v[i];
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0) {
                msg = NULL;
                c->oom = true;
        }
        va_end(ap);
        r->status = V_ERROR;
        free(r->message);
        r->message = msg;
        osn_netconf_free(r->nc);
        r->nc = NULL;
}

/* --- Positions --- */

static struct osn_pos file_pos(const struct vctx *c, size_t off)
{
        return osn_text_pos(c->src, c->len, off);
}

/* The file position of byte 'off' of a config; *exact false when it could
 * only be placed at the start of the scalar that holds the config. */
static struct osn_pos cfg_pos(const struct vctx *c, const struct cfgsrc *cs, size_t off,
                              bool *exact)
{
        size_t fo = off;
        if (cs->scalar &&
            osn_yaml_scalar_source(c->src, c->len, cs->scalar, cs->indent, off, &fo) < 0) {
                if (exact)
                        *exact = false;
                return osn_yaml_node_pos(cs->scalar);
        }
        return file_pos(c, fo);
}

/* Reads 'text' (valid JSON, hence YAML) and returns in *ret the offset of
 * the deepest node along 'path': a mapping key names its key node, a
 * sequence index its item.  Returns the number of segments found. */
static size_t locate(const char *text, size_t len, const char *const *path, size_t n, size_t *ret)
{
        _cleanup_yaml_stream_ struct osn_yaml_stream *s = NULL;
        yaml_document_t doc;
        char msg[8];
        struct osn_pos p;
        size_t found = 0;
        *ret = 0;
        if (osn_yaml_stream_new(text, len, &s) < 0 ||
            osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &p) != 1)
                return 0;
        yaml_node_t *node = yaml_document_get_root_node(&doc);
        if (osn_yaml_node_offset(text, len, node, ret) < 0)
                *ret = 0;
        for (; found < n && node; found++) {
                yaml_node_t *next = NULL, *key = NULL;
                if (node->type == YAML_MAPPING_NODE) {
                        next = osn_yaml_get(&doc, node, path[found], &key);
                } else if (node->type == YAML_SEQUENCE_NODE) {
                        char *end = NULL;
                        unsigned long i = strtoul(path[found], &end, 10);
                        if (end && !*end)
                                next = key = osn_yaml_item(&doc, node, i);
                }
                if (!next)
                        break;
                size_t off;
                if (osn_yaml_node_offset(text, len, key, &off) == 0)
                        *ret = off;
                node = next;
        }
        yaml_document_delete(&doc);
        return found;
}

/* The key a netconf message names ('key "runtimeConfig.ips[0]": ...',
 * 'keys "a" and "b" ...'), split into path segments after 'prefix' (e.g.
 * {"plugins", "1"}).  Returns the number of segments, 0 when none. */
static size_t message_key(const char *msg, char *buf, size_t len, const char **seg, size_t max,
                          size_t n_prefix)
{
        const char *k = strstr(msg, "key \"");
        if (k)
                k += 5;
        else if ((k = strstr(msg, "keys \"")))
                k += 6;
        else
                return n_prefix;
        size_t n = strcspn(k, "\"");
        if (n == 0 || n >= len)
                return n_prefix;
        memcpy(buf, k, n);
        buf[n] = 0;
        size_t count = n_prefix;
        for (char *p = buf; *p && count < max;) {
                seg[count++] = p;
                size_t l = strcspn(p, ".[]");
                if (!p[l])
                        break;
                p[l] = 0;
                p += l + 1;
                while (*p == '[' || *p == ']' || *p == '.')
                        *p++ = 0;
        }
        return count;
}

/* Rewrites the "line L, column C" that a message about a config quotes for
 * each of 'quoted' (places in the config, in the order the message names
 * them) into the file's line and column; *last gets the last one placed
 * exactly (the most precise: the hint that follows the parser's own
 * position). */
static char *rewrite_positions(const struct vctx *c, const struct cfgsrc *cs, const char *msg,
                               const struct osn_pos *quoted, size_t n_quoted, struct osn_pos *last)
{
        size_t cap = strlen(msg) + 256, o = 0;
        char *out = malloc(cap);
        bool exact = true;
        if (!out)
                return NULL;
        const char *p = msg;
        for (size_t i = 0; i < n_quoted; i++) {
                unsigned l = quoted[i].line, col = quoted[i].column;
                char needle[64];
                snprintf(needle, sizeof(needle), "line %u, column %u", l, col);
                const char *at = p;
                size_t nlen = strlen(needle);
                while ((at = strstr(at, needle)) && at[nlen] >= '0' && at[nlen] <= '9')
                        at += nlen;
                if (!at)
                        continue;
                size_t off;
                if (osn_text_offset(cs->text, cs->len, l, col, &off) == 0) {
                        struct osn_pos fp = cfg_pos(c, cs, off, &exact);
                        if (exact) {
                                *last = fp;
                                l = fp.line;
                                col = fp.column;
                        }
                }
                int w =
                    snprintf(out + o, cap - o, "%.*sline %u, column %u", (int)(at - p), p, l, col);
                if (w < 0 || (size_t)w >= cap - o)
                        break;
                o += (size_t)w;
                p = at + nlen;
        }
        snprintf(out + o, cap - o, "%s", p);
        if (!exact && cs->scalar) {
                /* Keep the config's own numbers, and say so. */
                size_t n = strlen(out);
                snprintf(out + n, cap - n, " (lines and columns of the config string)");
        }
        return out;
}

/* --- Configs --- */

/* The warnings of a config (netconf's did-you-mean and duplicate keys),
 * placed in the file.  'text' is the config as parsed: the file's own text
 * when 'prefix' is empty, else a conflist plugin rebuilt from the file
 * (whose keys are found again under 'prefix'; its duplicates are gone). */
static void add_warnings(struct vctx *c, const struct cfgsrc *cs, const char *text, size_t len,
                         const struct subject *subj, int plugin, const char *key,
                         const char *const *prefix, size_t n_prefix)
{
        _cleanup_free_ struct osn_netconf_warning *w = NULL;
        size_t n = 0;
        if (osn_netconf_warnings(text, len, &w, &n) < 0) {
                c->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct osn_pos at, first = {0, 0};
                if (n_prefix == 0) {
                        at = cfg_pos(c, cs, w[i].offset, NULL);
                        if (w[i].prev_line)
                                first = cfg_pos(c, cs, w[i].prev_offset, NULL);
                } else {
                        /* The key's name is the message's first quoted word. */
                        char kbuf[256];
                        const char *seg[4] = {prefix[0], n_prefix > 1 ? prefix[1] : NULL};
                        const char *q = strchr(w[i].msg, '"');
                        size_t kl = q ? strcspn(q + 1, "\"") : 0;
                        size_t off = 0;
                        if (q && kl < sizeof(kbuf)) {
                                memcpy(kbuf, q + 1, kl);
                                kbuf[kl] = 0;
                                seg[n_prefix] = kbuf;
                                locate(cs->text, cs->len, seg, n_prefix + 1, &off);
                        }
                        at = cfg_pos(c, cs, off, NULL);
                }
                if (first.line)
                        add(c, at, V_WARNING, subj, plugin, key, "%s (first at line %u, column %u)",
                            w[i].msg, first.line, first.column);
                else
                        add(c, at, V_WARNING, subj, plugin, key, "%s", w[i].msg);
        }
}

/* Upstream refuses a NAD whose config's netAttachDefName is not the NAD's
 * own namespace/name (ValidateNetConf in ovn-kubernetes'
 * pkg/util/multi_network.go); osn does not use it to decide anything, so
 * this is a warning.  Only where the manifest names both. */
static void check_nad_name(struct vctx *c, const struct osn_netconf *nc, const struct subject *subj,
                           int plugin, const char *key, const struct cfgsrc *cs,
                           const char *const *prefix, size_t n_prefix)
{
        if (!nc->nad_name || !subj || !subj->kind ||
            !streq(subj->kind, "NetworkAttachmentDefinition") || !subj->ns || !subj->name)
                return;
        char want[600];
        int w = snprintf(want, sizeof(want), "%s/%s", subj->ns, subj->name);
        if (w < 0 || (size_t)w >= sizeof(want) || streq(want, nc->nad_name))
                return;
        const char *seg[] = {"netAttachDefName"};
        size_t off = 0;
        if (n_prefix == 0)
                locate(cs->text, cs->len, seg, 1, &off);
        add(c, cfg_pos(c, cs, off, NULL), V_WARNING, subj, plugin, key,
            "key \"netAttachDefName\": \"%s\" is not this NAD (\"%s\"); upstream "
            "ovn-kubernetes refuses such a NAD",
            nc->nad_name, want);
        (void)prefix;
}

static void parse_network(struct vctx *c, const struct cfgsrc *cs, const char *text, size_t len,
                          const struct subject *subj, int plugin, const char *key,
                          const char *const *prefix, size_t n_prefix, struct osn_pos anchor)
{
        struct osn_netconf *nc = NULL;
        struct osn_error err = {0};
        int r = osn_netconf_parse(text, len, NULL, &nc, &err);
        if (r >= 0) {
                /* The warnings first: a reader sees them before the
                 * settings they may have changed (a typo'd key that left
                 * a default). */
                check_nad_name(c, nc, subj, plugin, key, cs, prefix, n_prefix);
                add_warnings(c, cs, text, len, subj, plugin, key, prefix, n_prefix);
                if (c->oom) {
                        osn_netconf_free(nc);
                        return;
                }
                add(c, anchor, V_OK, subj, plugin, key, NULL);
                if (c->oom) {
                        osn_netconf_free(nc);
                        return;
                }
                struct vresult *res = &c->v[c->n - 1];
                res->nc = nc;
                /* For a check against the node (-c), the "mtu" key's place. */
                const char *seg[4] = {n_prefix > 0 ? prefix[0] : "mtu",
                                      n_prefix > 1 ? prefix[1] : "mtu", "mtu"};
                size_t off = 0;
                res->mtu_pos = anchor;
                if (nc->mtu && locate(cs->text, cs->len, seg, n_prefix + 1, &off) == n_prefix + 1)
                        res->mtu_pos = cfg_pos(c, cs, off, NULL);
                return;
        }
        if (r == -ENOMEM) {
                c->oom = true;
                return;
        }
        /* Place it at the key the message names, else at the config. */
        char kbuf[256];
        const char *seg[12];
        for (size_t i = 0; i < n_prefix && i < ARRAY_SIZE(seg); i++)
                seg[i] = prefix[i];
        size_t n = message_key(err.msg, kbuf, sizeof(kbuf), seg, ARRAY_SIZE(seg), n_prefix);
        size_t off = 0, top = 0;
        size_t got = locate(cs->text, cs->len, seg, n, &off);
        /* In a conflist, "name" and "cniVersion" come from the list. */
        if (n_prefix > 0 && n > n_prefix && got == n_prefix &&
            locate(cs->text, cs->len, seg + n_prefix, n - n_prefix, &top) > 0)
                off = top;
        add_warnings(c, cs, text, len, subj, plugin, key, prefix, n_prefix);
        add(c, cfg_pos(c, cs, off, NULL), V_ERROR, subj, plugin, key, "%s", err.msg);
}

static void check_conflist(struct vctx *c, const struct cfgsrc *cs, json_t *root,
                           const struct subject *subj, const char *key_prefix)
{
        const json_t *plugins = json_object_get(root, "plugins");
        const char *plugins_path[] = {"plugins"};
        size_t off = 0;
        char key[96];
        snprintf(key, sizeof(key), "%s%splugins", key_prefix ? key_prefix : "",
                 key_prefix ? ": " : "");
        locate(cs->text, cs->len, plugins_path, 1, &off);
        if (!json_is_array(plugins) || json_array_size(plugins) == 0) {
                add(c, cfg_pos(c, cs, off, NULL), V_ERROR, subj, -1, key,
                    "key \"plugins\" must be a non-empty array of plugin configs");
                return;
        }
        const json_t *name = json_object_get(root, "name");
        const json_t *version = json_object_get(root, "cniVersion");
        size_t i;
        json_t *p;
        json_array_foreach(plugins, i, p)
        {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", i);
                const char *path[] = {"plugins", idx};
                locate(cs->text, cs->len, path, 2, &off);
                struct osn_pos at = cfg_pos(c, cs, off, NULL);
                snprintf(key, sizeof(key), "%s%splugins[%zu]", key_prefix ? key_prefix : "",
                         key_prefix ? ": " : "", i);
                if (!json_is_object(p)) {
                        add(c, at, V_ERROR, subj, (int)i, key, "a plugin config must be an object");
                        continue;
                }
                const char *type = json_string_value(json_object_get(p, "type"));
                if (!osn_netconf_is_osn_type(type)) {
                        add(c, at, V_SKIPPED, subj, (int)i, key,
                            "not osn: type \"%s\" belongs to another plugin", type ? type : "");
                        continue;
                }
                /* As libcni does: the list's name and cniVersion go into
                 * each plugin's config. */
                _cleanup_json_ json_t *conf = json_deep_copy(p);
                if (conf && name)
                        json_object_set(conf, "name", (json_t *)name);
                if (conf && version)
                        json_object_set(conf, "cniVersion", (json_t *)version);
                _cleanup_free_ char *text = conf ? json_dumps(conf, JSON_COMPACT) : NULL;
                if (!text) {
                        c->oom = true;
                        return;
                }
                parse_network(c, cs, text, strlen(text), subj, (int)i, key, path, 2, at);
        }
}

/* A config's text: one network (or a conflist of them). */
static void check_config(struct vctx *c, const struct cfgsrc *cs, const struct subject *subj,
                         const char *key, struct osn_pos anchor)
{
        json_error_t je;
        _cleanup_json_ json_t *root = json_loadb(cs->text, cs->len, 0, &je);
        if (!root || !json_is_object(root)) {
                /* netconf says what is wrong, with the commonest mistake's
                 * hint; this places it in the file. */
                struct osn_netconf *nc = NULL;
                struct osn_error err = {0};
                if (osn_netconf_parse(cs->text, cs->len, NULL, &nc, &err) >= 0) {
                        osn_netconf_free(nc);
                        snprintf(err.msg, sizeof(err.msg), "invalid JSON: %s", je.text);
                }
                /* The message quotes where decoding stopped (this decode
                 * of the same text stopped there too) and then, when
                 * netconf blames a trailing comma, the comma: the error's
                 * place. */
                struct osn_pos quoted[2];
                size_t n_quoted = 0;
                if (!root)
                        quoted[n_quoted++] =
                            (struct osn_pos){je.line > 0 ? (unsigned)je.line : 0,
                                             je.column > 0 ? (unsigned)je.column : 0};
                if (err.line > 0 && (n_quoted == 0 || quoted[0].line != (unsigned)err.line ||
                                     quoted[0].column != (unsigned)err.column))
                        quoted[n_quoted++] =
                            (struct osn_pos){(unsigned)err.line, (unsigned)err.column};
                struct osn_pos at = cfg_pos(c, cs, 0, NULL);
                _cleanup_free_ char *msg = rewrite_positions(c, cs, err.msg, quoted, n_quoted, &at);
                if (!msg) {
                        c->oom = true;
                        return;
                }
                add(c, at, V_ERROR, subj, -1, key, "%s%s", msg,
                    cs->scalar ? " (Multus parses spec.config as strict JSON and rejects this "
                                 "NAD)"
                               : "");
                return;
        }
        if (json_object_get(root, "plugins")) {
                check_conflist(c, cs, root, subj, key);
                return;
        }
        const char *type = json_string_value(json_object_get(root, "type"));
        if (type && !osn_netconf_is_osn_type(type)) {
                const char *path[] = {"type"};
                size_t off = 0;
                locate(cs->text, cs->len, path, 1, &off);
                add(c, cfg_pos(c, cs, off, NULL), V_SKIPPED, subj, -1, key,
                    "not osn: type \"%s\" belongs to another plugin", type);
                return;
        }
        parse_network(c, cs, cs->text, cs->len, subj, -1, key, NULL, 0, anchor);
}

/* --- Manifests --- */

#define NAD_API "k8s.cni.cncf.io/v1"

static void check_nad(struct vctx *c, yaml_document_t *doc, yaml_node_t *node,
                      const struct subject *subj)
{
        struct osn_pos at = osn_yaml_node_pos(node);
        yaml_node_t *api = osn_yaml_get(doc, node, "apiVersion", NULL);
        if (api && !streq(osn_yaml_str(api), NAD_API)) {
                add(c, osn_yaml_node_pos(api), V_ERROR, subj, -1, "apiVersion",
                    "\"%s\" is not %s, the NetworkAttachmentDefinition API that Multus reads",
                    osn_yaml_str(api) ? osn_yaml_str(api) : "", NAD_API);
                return;
        }
        if (!subj->name) {
                yaml_node_t *meta = osn_yaml_get(doc, node, "metadata", NULL);
                add(c, meta ? osn_yaml_node_pos(meta) : at, V_ERROR, subj, -1, "metadata.name",
                    "missing: every NetworkAttachmentDefinition needs a name");
                return;
        }
        yaml_node_t *spec = osn_yaml_get(doc, node, "spec", NULL), *key = NULL;
        yaml_node_t *config = osn_yaml_get(doc, spec, "config", &key);
        if (!config || osn_yaml_is_null(config)) {
                add(c, spec ? osn_yaml_node_pos(spec) : at, V_SKIPPED, subj, -1, "spec.config",
                    "none: Multus then reads the network's config from a file on each node, "
                    "which validate cannot see");
                return;
        }
        if (config->type != YAML_SCALAR_NODE) {
                add(c, osn_yaml_node_pos(config), V_ERROR, subj, -1, "spec.config",
                    "must be a string that holds the JSON config, not a YAML %s (write it as "
                    "a block scalar, \"config: |\", or quote it)",
                    config->type == YAML_MAPPING_NODE ? "mapping" : "sequence");
                return;
        }
        struct cfgsrc cs = {
            .text = osn_yaml_str(config),
            .len = config->data.scalar.length,
            .scalar = config,
            .indent = spec->data.mapping.style == YAML_BLOCK_MAPPING_STYLE
                          ? (int)key->start_mark.column
                          : -1,
        };
        check_config(c, &cs, subj, "spec.config", at);
}

static void check_manifest(struct vctx *c, yaml_document_t *doc, yaml_node_t *node)
{
        struct osn_pos at = osn_yaml_node_pos(node);
        if (node->type != YAML_MAPPING_NODE) {
                add(c, at, V_ERROR, NULL, -1, NULL,
                    "not a manifest: a YAML %s where a mapping with \"kind\" was expected",
                    node->type == YAML_SEQUENCE_NODE ? "sequence" : "scalar");
                return;
        }
        yaml_node_t *meta = osn_yaml_get(doc, node, "metadata", NULL);
        struct subject subj = {
            .kind = osn_yaml_str(osn_yaml_get(doc, node, "kind", NULL)),
            .ns = osn_yaml_str(osn_yaml_get(doc, meta, "namespace", NULL)),
            .name = osn_yaml_str(osn_yaml_get(doc, meta, "name", NULL)),
        };
        if (!subj.kind) {
                bool cni = osn_yaml_get(doc, node, "type", NULL) ||
                           osn_yaml_get(doc, node, "plugins", NULL);
                add(c, at, V_ERROR, NULL, -1, NULL, "%s",
                    cni ? "a CNI config must be JSON, not YAML"
                        : "not a manifest: no \"kind\" (and not a CNI config: no \"type\" or "
                          "\"plugins\")");
                return;
        }
        size_t klen = strlen(subj.kind);
        if (klen >= 4 && streq(subj.kind + klen - 4, "List")) {
                yaml_node_t *items = osn_yaml_get(doc, node, "items", NULL);
                if (!items || osn_yaml_is_null(items)) {
                        add(c, at, V_SKIPPED, &subj, -1, "items", "an empty %s", subj.kind);
                        return;
                }
                if (items->type != YAML_SEQUENCE_NODE) {
                        add(c, osn_yaml_node_pos(items), V_ERROR, &subj, -1, "items",
                            "must be a sequence of manifests");
                        return;
                }
                for (size_t i = 0; i < osn_yaml_len(items); i++)
                        check_manifest(c, doc, osn_yaml_item(doc, items, i));
                return;
        }
        if (!streq(subj.kind, "NetworkAttachmentDefinition")) {
                static const char *const kinds[] = {"NetworkAttachmentDefinition",
                                                    "NetworkAttachmentDefinitionList", "List"};
                const char *near[1];
                yaml_node_t *kn = NULL;
                osn_yaml_get(doc, node, "kind", &kn);
                if (osn_closest_words(subj.kind, kinds, ARRAY_SIZE(kinds), near, 1) > 0)
                        add(c, kn ? osn_yaml_node_pos(kn) : at, V_WARNING, &subj, -1, "kind",
                            "\"%s\" is not a kind validate reads (did you mean \"%s\"?); this "
                            "manifest is not validated",
                            subj.kind, near[0]);
                else
                        add(c, at, V_SKIPPED, &subj, -1, NULL, "not a NetworkAttachmentDefinition");
                return;
        }
        check_nad(c, doc, node, &subj);
}

static void check_yaml(struct vctx *c)
{
        _cleanup_yaml_stream_ struct osn_yaml_stream *s = NULL;
        if (osn_yaml_stream_new(c->src, c->len, &s) < 0) {
                c->oom = true;
                return;
        }
        for (;;) {
                yaml_document_t doc;
                char msg[512];
                struct osn_pos p = {0, 0};
                int r = osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &p);
                if (r == 0)
                        return;
                if (r < 0) {
                        if (r == -ENOMEM)
                                c->oom = true;
                        else
                                add(c, p, V_ERROR, NULL, -1, NULL, "invalid YAML: %s", msg);
                        return;
                }
                yaml_node_t *root = yaml_document_get_root_node(&doc);
                if (!osn_yaml_is_null(root))
                        check_manifest(c, &doc, root);
                yaml_document_delete(&doc);
        }
}

static void check_json_file(struct vctx *c)
{
        json_error_t je;
        _cleanup_json_ json_t *root = json_loadb(c->src, c->len, 0, &je);
        struct cfgsrc whole = {.text = c->src, .len = c->len};
        struct osn_pos start = {1, 1};
        if (!root || !json_is_object(root)) {
                /* Not even JSON: netconf tells what and where. */
                check_config(c, &whole, NULL, NULL, start);
                return;
        }
        if (json_object_get(root, "kind")) {
                check_yaml(c);
                return;
        }
        const char *name = json_string_value(json_object_get(root, "name"));
        if (json_object_get(root, "plugins")) {
                struct subject subj = {.kind = "conflist", .name = name};
                check_conflist(c, &whole, root, &subj, NULL);
        } else if (json_object_get(root, "type")) {
                struct subject subj = {.kind = "config", .name = name};
                check_config(c, &whole, &subj, NULL, start);
        } else {
                add(c, start, V_ERROR, NULL, -1, NULL,
                    "neither a Kubernetes manifest (no \"kind\") nor a CNI config (no \"type\" "
                    "or \"plugins\")");
        }
}

/* --- Files --- */

static int read_all(int fd, char **ret, size_t *ret_len)
{
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= MAX_FILE) {
                                free(buf);
                                return -EFBIG;
                        }
                        cap *= 2;
                        char *n = realloc(buf, cap + 1);
                        if (!n) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = n;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

static void check_file(struct vctx *c, const char *path)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct osn_pos none = {0, 0};
        c->file = path;
        if (streq(path, "-")) {
                c->file = "<stdin>";
                fd = dup(STDIN_FILENO);
        } else {
                fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        int r = fd < 0 ? -errno : read_all(fd, &buf, &len);
        if (r < 0) {
                if (r == -ENOMEM)
                        c->oom = true;
                else
                        add(c, none, V_ERROR, NULL, -1, NULL, "cannot read: %s",
                            r == -EFBIG ? "larger than 16 MiB, the most validate reads"
                                        : strerror(-r));
                return;
        }
        c->src = buf;
        c->len = len;
        size_t p = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        while (p < len && (buf[p] == ' ' || buf[p] == '\t' || buf[p] == '\n' || buf[p] == '\r'))
                p++;
        size_t before = c->n;
        if (p < len && (buf[p] == '{' || buf[p] == '['))
                check_json_file(c);
        else
                check_yaml(c);
        if (c->n == before && !c->oom)
                add(c, none, V_ERROR, NULL, -1, NULL,
                    "empty: no manifest and no CNI config (only whitespace, comments or empty "
                    "documents)");
        c->src = NULL;
        c->len = 0;
}

static bool wanted(const char *name)
{
        static const char *const ext[] = {".yaml", ".yml", ".json", ".conf", ".conflist"};
        size_t n = strlen(name);
        if (name[0] == '.')
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
                size_t e = strlen(ext[i]);
                if (n > e && streq(name + n - e, ext[i]))
                        return true;
        }
        return false;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: its manifest and config files, in name order. */
static void check_dir(struct vctx *c, const char *dir)
{
        DIR *d = opendir(dir);
        struct osn_pos none = {0, 0};
        if (!d) {
                c->file = dir;
                add(c, none, V_ERROR, NULL, -1, NULL, "cannot read: %s", strerror(errno));
                return;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!wanted(e->d_name))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        char **v = realloc(names, cap * sizeof(*v));
                        if (!v) {
                                c->oom = true;
                                break;
                        }
                        names = v;
                }
                char *path = NULL;
                if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                             e->d_name) < 0) {
                        c->oom = true;
                        break;
                }
                names[n++] = path;
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (!c->oom && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
                        check_file(c, names[i]);
                free(names[i]);
        }
        free(names);
}

/* --- Output --- */

static void what(const struct vresult *r, char *buf, size_t len)
{
        buf[0] = 0;
        if (!r->kind)
                return;
        const char *k = streq(r->kind, "NetworkAttachmentDefinition") ? "NAD" : r->kind;
        if (streq(r->kind, "conflist") || streq(r->kind, "config"))
                snprintf(buf, len, "%s%s%s%s", streq(r->kind, "config") ? "CNI config" : k,
                         r->name ? " \"" : "", r->name ? r->name : "", r->name ? "\"" : "");
        else if (r->ns && r->name)
                snprintf(buf, len, "%s %s/%s", k, r->ns, r->name);
        else
                snprintf(buf, len, "%s%s%s", k, r->name ? " " : "", r->name ? r->name : "");
}

static void print_text(const struct vctx *c, const size_t counts[V_NSTATUS], bool strict)
{
        for (size_t i = 0; i < c->n; i++) {
                const struct vresult *r = &c->v[i];
                char w[600];
                what(r, w, sizeof(w));
                if (r->pos.line)
                        printf("%s:%u:%u: ", r->file, r->pos.line, r->pos.column);
                else
                        printf("%s: ", r->file);
                printf("%s: ", status_names[r->status]);
                if (w[0])
                        printf("%s: ", w);
                if (r->status == V_OK) {
                        if (r->key && r->plugin >= 0)
                                printf("%s: ", r->key);
                        printf("network \"%s\" (%s dialect)\n", r->nc->name,
                               osn_dialect_name(r->nc->dialect));
                        _cleanup_free_ char *d = osn_netconf_describe(r->nc);
                        for (const char *p = d; p && *p;) {
                                size_t l = strcspn(p, "\n");
                                printf("    %.*s\n", (int)l, p);
                                p += l + (p[l] == '\n');
                        }
                        if (r->grants_known && r->network)
                                printf("    lands on: network %s (OVN switch osn.%s)\n", r->network,
                                       r->network);
                } else {
                        if (r->key)
                                printf("%s: ", r->key);
                        printf("%s\n", r->message ? r->message : "");
                }
        }
        printf("%zu valid, %zu invalid, %zu skipped", counts[V_OK], counts[V_ERROR],
               counts[V_SKIPPED]);
        if (counts[V_WARNING])
                printf(", %zu warning%s%s", counts[V_WARNING], counts[V_WARNING] == 1 ? "" : "s",
                       strict ? " (--strict: they fail)" : "");
        printf("\n");
}

static json_t *result_json(const struct vresult *r)
{
        json_t *o =
            json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "file", r->file,
                      "line", r->pos.line ? json_integer(r->pos.line) : json_null(), "column",
                      r->pos.line ? json_integer(r->pos.column) : json_null(), "status",
                      status_names[r->status], "kind", r->kind ? json_string(r->kind) : json_null(),
                      "namespace", r->ns ? json_string(r->ns) : json_null(), "name",
                      r->name ? json_string(r->name) : json_null(), "plugin",
                      r->plugin >= 0 ? json_integer(r->plugin) : json_null(), "key",
                      r->key ? json_string(r->key) : json_null(), "message",
                      r->message ? json_string(r->message) : json_null(), "network",
                      r->nc ? osn_netconf_to_json(r->nc) : json_null());
        if (o && r->grants_known && r->network)
                json_object_set_new(o, "lands_on", json_string(r->network));
        return o;
}

/* --- Across documents, and against a node --- */

/* The network each valid config lands on (tenancy.h): its NAD's
 * namespace and name, and the node config's cluster_networks when given
 * ('g', else none are known).  A config without a namespace (a bare CNI
 * config) lands on its pods' namespace's: "<namespace>/<name>". */
static void assign_networks(struct vctx *c, const struct osn_grants *g, const char *path)
{
        for (size_t i = 0; i < c->n && !c->oom; i++) {
                struct vresult *r = &c->v[i];
                if (r->status != V_OK)
                        continue;
                struct osn_tenancy t;
                struct osn_error err = {0};
                char buf[OSN_NETWORK_KEY_MAX + 32];
                if (!r->ns)
                        snprintf(buf, sizeof(buf), "<namespace>/%s", r->nc->name);
                else if (osn_tenancy_resolve(g, path, r->nc->name, r->ns, &t, &err) == 0)
                        snprintf(buf, sizeof(buf), "%s", t.network);
                else {
                        fail_result(c, i, "metadata.namespace: %s", err.msg);
                        continue;
                }
                free(r->network);
                r->network = xstrdup(c, buf);
                r->grants_known = g != NULL;
        }
}

/* Two NADs of one network (one namespace and name, or one cluster
 * network) must carry the same settings (the plugin's ADD on the second
 * would fail with a conflict): each later one that differs from the first
 * is an error that names the first. */
static void check_across(struct vctx *c)
{
        size_t n = c->n;
        for (size_t i = 0; i < n && !c->oom; i++) {
                const struct vresult *b = &c->v[i];
                if (b->status != V_OK)
                        continue;
                _cleanup_free_ char *fb = osn_netconf_fingerprint(b->nc);
                for (size_t j = 0; j < i && fb; j++) {
                        const struct vresult *a = &c->v[j];
                        if (a->status != V_OK || !streq(a->network, b->network))
                                continue;
                        _cleanup_free_ char *fa = osn_netconf_fingerprint(a->nc);
                        if (!fa || streq(fa, fb))
                                break;
                        char w[600];
                        what(a, w, sizeof(w));
                        fail_result(c, i,
                                    "network \"%s\" is also defined by %s (%s:%u:%u) with other "
                                    "settings: \"%s\" there, \"%s\" here; the plugin refuses "
                                    "this one (every NAD of a network carries its settings)",
                                    b->network, w[0] ? w : "another config", a->file, a->pos.line,
                                    a->pos.column, fa, fb);
                        break;
                }
        }
}

/* With -c NODE_CONFIG ('node' as loaded, NULL when it did not load: then
 * 'load_err' says why): what ADD checks against the node that a file can
 * show, and a note on what only the node knows. */
static void check_node(struct vctx *c, const char *path, const struct osn_nodeconf *node,
                       const struct osn_error *load_err)
{
        struct osn_error err = {0};
        struct osn_pos none = {0, 0};
        const char *file = c->file;
        if (!node) {
                c->file = path;
                add(c, none, V_ERROR, NULL, -1, NULL, "node config: %s", load_err->msg);
                c->file = file;
                return;
        }
        bool external = false, unknown_ns = false;
        for (size_t i = 0; i < c->n && !c->oom; i++) {
                const struct osn_netconf *nc = c->v[i].nc;
                if (c->v[i].status != V_OK)
                        continue;
                external = external || nc->external;
                osn_error_clear(&err);
                const char *physnet =
                    nc->physical_network ? nc->physical_network : node->default_physical_network;
                struct osn_tenancy t;
                bool resolved =
                    c->v[i].ns && osn_tenancy_resolve(&node->grants, node->path, nc->name,
                                                      c->v[i].ns, &t, &err) == 0;
                unknown_ns = unknown_ns || (nc->external && !c->v[i].ns);
                osn_error_clear(&err);
                if (nc->external && physnet && resolved &&
                    osn_tenancy_check_physical(&node->grants, node->path, &t, physnet, nc->vlan,
                                               &err) < 0) {
                        fail_result(c, i, "%s (code %d)", err.msg, err.code);
                } else if (osn_netconf_check_mtu(nc, node->overlay_mtu, node->physical_mtu, &err) <
                           0) {
                        c->v[i].pos = c->v[i].mtu_pos;
                        fail_result(c, i, "%s (node config %s)", err.msg, node->path);
                } else if (nc->external && !nc->physical_network && !node->default_physical_network)
                        fail_result(c, i,
                                    "network \"%s\" asks for external connectivity but node %s "
                                    "has no default physical network (node config key "
                                    "\"default_physical_network\" in %s)",
                                    nc->name, node->node_name, node->path);
        }
        c->file = path;
        if (unknown_ns)
                add(c, none, V_NOTE, NULL, -1, NULL,
                    "whether a namespace may use the physical networks of the configs above that "
                    "name none (physical_networks in %s) depends on their pods' namespace: "
                    "validate their NAD manifests (metadata.namespace) instead",
                    node->path);
        if (external)
                add(c, none, V_NOTE, NULL, -1, NULL,
                    "whether node %s maps the physical networks above (ovn-bridge-mappings in "
                    "its Open vSwitch database) is only known on the node: run \"osnctl "
                    "status\" there",
                    node->node_name);
        c->file = file;
}

int osnctl_validate(struct osnctl *ctl, int argc, char **argv)
{
        if (argc == 0) {
                osnctl_err("validate needs at least one FILE, DIR or - (see osnctl validate "
                           "--help)");
                return OSNCTL_USAGE;
        }
        struct vctx c = {0};
        for (int i = 0; i < argc && !c.oom; i++) {
                struct stat st;
                if (!streq(argv[i], "-") && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
                        check_dir(&c, argv[i]);
                else
                        check_file(&c, argv[i]);
        }
        if (c.oom) {
                results_free(&c);
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        /* Which network each lands on: with -c, as that node's grants say. */
        _cleanup_(osn_nodeconf_freep) struct osn_nodeconf *node = NULL;
        struct osn_error node_err = {0};
        if (ctl->config_path && osn_nodeconf_load(ctl->config_path, &node, &node_err) < 0)
                node = NULL; /* check_node() reports it */
        assign_networks(&c, node ? &node->grants : NULL, node ? node->path : NULL);
        check_across(&c);
        if (ctl->config_path)
                check_node(&c, ctl->config_path, node, &node_err);
        size_t counts[V_NSTATUS] = {0};
        for (size_t i = 0; i < c.n; i++)
                counts[c.v[i].status]++;
        int rc = counts[V_ERROR]                        ? OSNCTL_PROBLEMS
                 : ctl->strict && counts[V_WARNING] > 0 ? OSNCTL_STRICT
                                                        : 0;
        if (ctl->json) {
                json_t *results = json_array();
                for (size_t i = 0; i < c.n; i++)
                        json_array_append_new(results, result_json(&c.v[i]));
                _cleanup_json_ json_t *out = json_pack(
                    "{s:I, s:I, s:I, s:I, s:o}", "valid", (json_int_t)counts[V_OK], "invalid",
                    (json_int_t)counts[V_ERROR], "skipped", (json_int_t)counts[V_SKIPPED],
                    "warnings", (json_int_t)counts[V_WARNING], "results", results);
                if (out && ctl->strict)
                        json_object_set_new(out, "strict", json_true());
                if (!out || osnctl_print_json(out) < 0)
                        rc = OSNCTL_PROBLEMS;
        } else {
                print_text(&c, counts, ctl->strict);
        }
        results_free(&c);
        return rc;
}
