/* test_match.c: how copies are matched (issue 8). Copies in Chinese,
 * Japanese, Arabic, Russian and German cluster and other stories in the
 * same language do not (character n-grams for scripts without spaces);
 * excerpts are found by containment and their leading paragraphs, while an
 * updated version sharing paragraphs stays apart; star clustering stops a
 * chain that components join; exact verification gives the exact Jaccard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"

static cd_str str(const char *s) { return (cd_str){s, s ? strlen(s) : 0}; }

/* Clusters docs[0..n) (ids "0", "1", ...) and returns the engine. */
static cd_dedup *run(const char *const *texts, size_t n, const cd_params *p)
{
    cd_dedup *d = NULL;
    assert_int_equal(cd_dedup_create(p, &d), CD_OK);
    cd_doc docs[32];
    char ids[32][24];
    cd_status st[32];
    assert_true(n <= 32);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%zu", i);
        docs[i] = (cd_doc){.id = str(ids[i]), .text = str(texts[i])};
        char date[48];
        snprintf(date, sizeof date, "2026-01-01T00:%02u:00Z", (unsigned)(i % 60));
        docs[i].date = (cd_str){strdup(date), strlen(date)};
    }
    assert_int_equal(cd_dedup_add(d, docs, n, st), CD_OK);
    for (size_t i = 0; i < n; i++)
        free((void *)docs[i].date.ptr);
    assert_int_equal(cd_dedup_run(d), CD_OK);
    return d;
}

static size_t rep(const cd_dedup *d, size_t doc)
{
    cd_doc_result r;
    assert_int_equal(cd_dedup_result(d, doc, &r), CD_OK);
    return r.representative;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The distinct high halves of text's shingle hashes, sorted, in *set. */
static size_t distinct_shingles(cd_signer *s, const char *text, uint32_t **set)
{
    cd_doc doc = {.text = str(text)};
    const uint64_t *h;
    size_t n;
    assert_int_equal(cd_signer_shingles(s, &doc, &h, &n), CD_OK);
    *set = malloc((n + 1) * sizeof **set);
    for (size_t i = 0; i < n; i++)
        (*set)[i] = (uint32_t)(h[i] >> 32);
    qsort(*set, n, sizeof **set, cmp_u32);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (distinct == 0 || (*set)[i] != (*set)[distinct - 1])
            (*set)[distinct++] = (*set)[i];
    return distinct;
}

/* The Jaccard of the two texts' distinct shingles, computed naively. */
static double exact_jaccard(const cd_params *p, const char *a, const char *b)
{
    cd_signer *s = NULL;
    assert_int_equal(cd_signer_create(p, &s), CD_OK);
    uint32_t *sa, *sb;
    size_t na = distinct_shingles(s, a, &sa), nb = distinct_shingles(s, b, &sb);
    size_t both = 0;
    for (size_t i = 0, j = 0; i < na && j < nb;) {
        if (sa[i] == sb[j])
            both++, i++, j++;
        else if (sa[i] < sb[j])
            i++;
        else
            j++;
    }
    free(sa);
    free(sb);
    cd_signer_free(s);
    return (double)both / (double)(na + nb - both);
}

/* ------------------------------------------------------------- scripts */

/* For each language: a story, a copy (other punctuation and spacing, a
 * chrome line; in Chinese and Japanese a few characters edited too), and
 * another story on a near subject. */
static const char *const languages[][4] = {
    {"Chinese",
     "国家统计局周三公布的数据显示，今年前三个季度全国居民人均可支配收入同比实际增长百分之五点一，"
     "其中城镇居民收入增长快于农村居民。分析人士指出，消费需求持续恢复，服务业对经济增长的贡献明显"
     "提高，但外部环境依然复杂，部分行业仍面临较大压力。统计局发言人表示，下一步将继续加强监测，"
     "为宏观政策调整提供更加及时准确的数据支持。",
     "点击阅读原文\n国家统计局周三公布的数据显示：今年前三个季度全国居民人均可支配收入同比实际增长"
     "百分之五点一，其中城镇居民收入增长快于农村居民。分析人士认为，消费需求持续恢复，服务业对经济"
     "增长的贡献明显提高，但外部环境依然复杂，部分行业仍面临较大压力。统计局发言人表示，下一步将继续"
     "加强监测，为宏观政策调整提供更加及时准确的数据支持。",
     "交通运输部周三表示，今年国庆假期全国铁路发送旅客人数创下历史新高，多条高速公路出现短时拥堵。"
     "有关部门提前部署运力，增开夜间列车，并在重点枢纽增派工作人员引导旅客出行。专家建议，游客应"
     "错峰出行，合理安排行程，避免在假期首末两天集中返程，以减少排队等候时间。"},
    {"Japanese",
     "気象庁によりますと、大型の台風十号は今夜にかけて九州南部に接近する見込みで、各地で猛烈な雨や"
     "暴風に警戒が必要です。鉄道各社は計画運休を発表し、航空便も多くが欠航となっています。自治体は"
     "早めの避難を呼びかけており、高齢者施設では入所者の移動が始まりました。",
     "気象庁によりますと、大型の台風10号は今夜にかけて九州南部に接近する見込みで、各地で猛烈な雨や"
     "暴風に警戒が必要です。鉄道各社は計画運休を発表し、航空便も多くが欠航となっています。"
     "自治体は早めの避難を呼びかけており、高齢者施設では入所者の移動が始まりました。\nシェアする",
     "日本銀行は金融政策決定会合で、短期金利の誘導目標を据え置くことを決めました。植田総裁は記者会見"
     "で、賃金と物価の好循環が続いているかを慎重に見極める考えを示し、今後の利上げの時期については"
     "経済や市場の動向を踏まえて判断すると述べました。"},
    {"Arabic",
     "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في المدينة بسعة ثلاثمئة سرير، وقال الوزير في مؤتمر "
     "صحفي إن المستشفى سيخدم أكثر من مليون نسمة في المنطقة الجنوبية، وإنه مجهز بأحدث الأجهزة الطبية. "
     "وأضاف أن الحكومة تخطط لبناء خمسة مستشفيات أخرى خلال السنوات الثلاث المقبلة لتخفيف الضغط على "
     "المرافق القائمة.",
     "اقرأ أيضا\nأعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في المدينة بسعة ثلاثمئة سرير. وقال الوزير "
     "في مؤتمر صحفي إن المستشفى سيخدم أكثر من مليون نسمة في المنطقة الجنوبية، وإنه مجهز بأحدث الأجهزة "
     "الطبية. وأضاف أن الحكومة تخطط لبناء خمسة مستشفيات أخرى خلال السنوات الثلاث المقبلة لتخفيف الضغط "
     "على المرافق القائمة.",
     "أعلنت وزارة التعليم اليوم عن خطة لتطوير المناهج الدراسية في المرحلة الابتدائية، وقال الوزير إن "
     "الخطة تشمل إدخال مواد جديدة في العلوم والبرمجة وتدريب آلاف المعلمين، على أن يبدأ تطبيقها مع "
     "بداية العام الدراسي المقبل في عدد من المدارس التجريبية قبل تعميمها."},
    {"Russian",
     "Центральный банк России в пятницу сохранил ключевую ставку на уровне шестнадцати процентов "
     "годовых. В сообщении регулятора говорится, что инфляционное давление остаётся высоким, а "
     "потребительский спрос растёт быстрее возможностей производства. Аналитики ожидают, что ставка "
     "останется без изменений как минимум до конца года.",
     "Центральный банк России в пятницу сохранил ключевую ставку на уровне шестнадцати процентов годовых. "
     "В сообщении регулятора говорится, что инфляционное давление остаётся высоким, а потребительский "
     "спрос растёт быстрее возможностей производства. Аналитики ожидают, что ставка останется без "
     "изменений как минимум до конца года.\nПодписывайтесь на наш канал",
     "Министерство финансов России в пятницу объявило о размещении новых облигаций федерального займа "
     "на сумму сто миллиардов рублей. По словам заместителя министра, спрос инвесторов превысил "
     "предложение почти вдвое, а доходность оказалась ниже ожиданий рынка."},
    {"German",
     "Die Bundesregierung hat am Mittwoch ein Gesetz zur Beschleunigung des Wohnungsbaus beschlossen. "
     "Bauministerin Klara Geywitz sagte, Genehmigungsverfahren sollten künftig höchstens drei Monate "
     "dauern. Verbände begrüßten den Schritt, kritisierten aber, dass die Förderung für den sozialen "
     "Wohnungsbau nicht ausreiche, um den Mangel in den Großstädten zu beheben.",
     "Die Bundesregierung hat am Mittwoch ein Gesetz zur Beschleunigung des Wohnungsbaus beschlossen. "
     "Bauministerin Klara Geywitz sagte, Genehmigungsverfahren sollten künftig höchstens drei Monate "
     "dauern. Verbände begrüßten den Schritt – kritisierten aber, dass die Förderung für den sozialen "
     "Wohnungsbau nicht ausreiche, um den Mangel in den Großstädten zu beheben.\nMehr zum Thema",
     "Die Bundesregierung hat am Mittwoch ein Gesetz zur Förderung von Elektroautos beschlossen. "
     "Verkehrsminister Volker Wissing sagte, Käufer sollten ab dem kommenden Jahr eine Prämie von "
     "bis zu dreitausend Euro erhalten. Umweltverbände kritisierten, die Mittel reichten nicht aus, "
     "um die Klimaziele im Verkehr zu erreichen."},
};

static void test_copies_in_every_script(void **state)
{
    (void)state;
    cd_params p;
    cd_params_init(&p);
    for (size_t l = 0; l < sizeof languages / sizeof *languages; l++) {
        cd_dedup *d = run(languages[l] + 1, 3, &p);
        if (rep(d, 1) != rep(d, 0))
            fail_msg("%s: the copy is not with its story", languages[l][0]);
        if (rep(d, 2) == rep(d, 0))
            fail_msg("%s: another story joined", languages[l][0]);
        cd_dedup_free(d);
    }
    /* Without character n-grams (one character a shingle), two Chinese
     * stories look alike; with them they do not. */
    const char *const two[] = {languages[0][1], languages[0][3]};
    p.verify = CD_VERIFY_EXACT;
    p.min_line_tokens = 0;
    p.threshold = 0.1;
    cd_dedup *d = run(two, 2, &p);
    assert_int_equal(cd_dedup_pair_count(d), 0);
    cd_dedup_free(d);
    p.char_ngram = 1;
    d = run(two, 2, &p);
    assert_int_equal(cd_dedup_pair_count(d), 1);
    cd_dedup_free(d);
}

/* ----------------------------------------------------------- excerpts */

static char *story_text(const int *paragraphs, size_t n, const char *extra)
{
    static const char *const words[] = {
        "council", "river", "bridge", "minister", "police", "school", "station", "court",
        "market", "hospital", "union", "budget", "village", "harbour", "airport", "museum",
        "engineers", "residents", "officials", "workers", "said", "warned", "agreed", "opened",
        "closed", "rejected", "approved", "delayed", "north", "south", "new", "old"};
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(paragraphs[i] + 1);
        if (i)
            len += (size_t)snprintf(text + len, cap - len, "\n\n");
        for (int w = 0; w < 60; w++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            len += (size_t)snprintf(text + len, cap - len, "%s%s", w ? " " : "",
                                    words[s % (sizeof words / sizeof *words)]);
        }
        len += (size_t)snprintf(text + len, cap - len, ".");
    }
    if (extra)
        snprintf(text + len, cap - len, "%s", extra);
    return text;
}

static void test_excerpts_and_versions(void **state)
{
    (void)state;
    const int full[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int excerpt[] = {0, 1};
    const int update[] = {20, 21, 0, 2, 22, 5, 23, 9}; /* new lede, 4 of 10 kept */
    char *texts[3] = {story_text(full, 10, NULL),
                      story_text(excerpt, 2, "\n\nRead more at The Daily Example"),
                      story_text(update, 8, NULL)};
    const char *const *t = (const char *const *)texts;
    cd_params p;
    cd_params_init(&p);
    p.match = CD_MATCH_JACCARD;
    p.lead_shingles = 0;
    cd_dedup *d = run(t, 3, &p);
    assert_int_not_equal(rep(d, 1), rep(d, 0)); /* Jaccard about 0.2: not a copy */
    cd_dedup_free(d);

    p.match = CD_MATCH_CONTAINMENT;
    p.lead_shingles = 100;
    for (int exact = 0; exact < 2; exact++) {
        p.verify = exact ? CD_VERIFY_EXACT : CD_VERIFY_ESTIMATE;
        d = run(t, 3, &p);
        if (rep(d, 1) != rep(d, 0))
            fail_msg("verify %s: the excerpt is not with its story", exact ? "exact" : "estimate");
        assert_int_not_equal(rep(d, 2), rep(d, 0)); /* the update stays apart */
        cd_dedup_free(d);
    }
    /* the batch commands' defaults find the excerpt and keep the update apart */
    cd_params_init(&p);
    p.match = CD_MATCH_CONTAINMENT;
    p.verify = CD_VERIFY_EXACT;
    p.lead_shingles = 100;
    d = run(t, 3, &p);
    assert_int_equal(rep(d, 1), rep(d, 0));
    assert_int_not_equal(rep(d, 2), rep(d, 0));
    cd_dedup_free(d);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
}

/* ------------------------------------------------ star and exact Jaccard */

static void test_star_stops_a_chain(void **state)
{
    (void)state;
    /* A ~ B and B ~ C (Jaccard about 0.82), A and C not (about 0.67) */
    const int a[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int b[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const int c[] = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    char *texts[3] = {story_text(a, 10, NULL), story_text(b, 10, NULL), story_text(c, 10, NULL)};
    const char *const *t = (const char *const *)texts;
    cd_params p;
    cd_params_init(&p);
    p.match = CD_MATCH_JACCARD;
    p.verify = CD_VERIFY_EXACT;
    p.min_line_tokens = 0;
    p.bands = 128; /* every pair a candidate */
    p.rows = 1;
    p.cluster = CD_CLUSTER_COMPONENTS;
    cd_dedup *d = run(t, 3, &p);
    assert_int_equal(cd_dedup_pair_count(d), 2);
    assert_int_equal(rep(d, 0), 0);
    assert_int_equal(rep(d, 1), 0);
    assert_int_equal(rep(d, 2), 0); /* joined through B */
    cd_dedup_free(d);
    p.cluster = CD_CLUSTER_STAR;
    d = run(t, 3, &p);
    assert_int_equal(rep(d, 0), 0);
    assert_int_equal(rep(d, 1), 0);
    assert_int_equal(rep(d, 2), 2); /* not similar to A, the representative */
    assert_int_equal(cd_dedup_cluster_count(d), 1);
    cd_dedup_free(d);

    /* exact verification reports the exact Jaccard of the shingle sets */
    p.cluster = CD_CLUSTER_COMPONENTS;
    d = run(t, 3, &p);
    double jaccard = exact_jaccard(&p, texts[0], texts[1]);
    cd_pair pair;
    assert_int_equal(cd_dedup_pair(d, 0, &pair), CD_OK);
    assert_int_equal(pair.a, 0);
    assert_int_equal(pair.b, 1);
    assert_float_equal(pair.similarity, jaccard, 1e-6);
    cd_dedup_free(d);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
}

/* Two long texts (over 32,768 shingles, from a small vocabulary so that
 * shingles repeat) and two that repeat a few shingles hundreds of times:
 * the engine's exact Jaccard is that of the distinct shingle sets, whatever
 * path sorted them. */
static void test_exact_sets_of_long_and_repetitive_texts(void **state)
{
    (void)state;
    static const char *const words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta",
                                        "eta",   "theta", "iota", "kappa", "lambda", "mu"};
    size_t cap = 40000 * 8 + 1;
    char *texts[4];
    for (int t = 0; t < 4; t++) {
        texts[t] = malloc(cap);
        texts[t][0] = '\0';
    }
    uint64_t x = 0x243f6a8885a308d3ull;
    size_t len[4] = {0};
    for (size_t w = 0; w < 40000; w++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *word = words[x % 12];
        const char *other = (x >> 20) % 10 == 0 ? words[(x >> 8) % 12] : word;
        len[0] += (size_t)sprintf(texts[0] + len[0], "%s ", word);
        len[1] += (size_t)sprintf(texts[1] + len[1], "%s ", other);
        if (w < 3000) {
            len[2] += (size_t)sprintf(texts[2] + len[2], "%s ", words[w % 2]);
            len[3] += (size_t)sprintf(texts[3] + len[3], "%s ",
                                      words[w % 100 == 7 ? 2 + w / 100 % 10 : w % 2]);
        }
    }
    cd_params p;
    cd_params_init(&p);
    p.threads = 1;
    p.threshold = 0.01;
    p.verify = CD_VERIFY_EXACT;
    p.boilerplate = 0;
    for (int pair_of = 0; pair_of < 2; pair_of++) {
        const char *two[2] = {texts[2 * pair_of], texts[2 * pair_of + 1]};
        cd_dedup *d = run(two, 2, &p);
        cd_pair pair;
        assert_int_equal(cd_dedup_pair_count(d), 1);
        assert_int_equal(cd_dedup_pair(d, 0, &pair), CD_OK);
        assert_float_equal(pair.similarity, exact_jaccard(&p, two[0], two[1]), 1e-6);
        cd_dedup_free(d);
    }
    for (int t = 0; t < 4; t++)
        free(texts[t]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_in_every_script),
        cmocka_unit_test(test_excerpts_and_versions),
        cmocka_unit_test(test_star_stops_a_chain),
        cmocka_unit_test(test_exact_sets_of_long_and_repetitive_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
