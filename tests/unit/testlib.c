/* testlib: see testlib.h. */
#include "testlib.h"

int failures, checks;

struct osn_cidr test_cidr(const char *s)
{
        struct osn_cidr c = {0};
        if (osn_cidr_parse(s, false, &c) < 0) {
                fprintf(stderr, "bad test input %s\n", s);
                exit(1);
        }
        return c;
}

static void data_path(const char *name, char *buf, size_t len)
{
        snprintf(buf, len, "%s/unit/data/%s", OSN_TEST_DIR, name);
}

char *test_data_read(const char *name, size_t *ret_len)
{
        char path[1024];
        data_path(name, path, sizeof(path));
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        fclose(m);
        if (ret_len)
                *ret_len = len;
        return buf;
}

void golden(const char *name, const char *text)
{
        if (getenv("OSN_UPDATE_GOLDEN")) {
                char path[1024];
                data_path(name, path, sizeof(path));
                FILE *f = fopen(path, "we");
                CHECK(f, "cannot write %s", path);
                if (f) {
                        fputs(text, f);
                        fclose(f);
                }
                return;
        }
        _cleanup_free_ char *want = test_data_read(name, NULL);
        CHECK(want, "golden file %s is missing (OSN_UPDATE_GOLDEN=1 creates it)", name);
        if (want)
                CHECK(streq(want, text), "%s differs:\n--- want\n%s--- got\n%s", name, want, text);
}
