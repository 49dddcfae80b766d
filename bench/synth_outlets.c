/* synth_outlets.c: the outlet pool of copydesk-synth. Each outlet (wire
 * agency, newspaper, broadcaster or aggregator) gets, from the seed, a
 * constant identity: name, host, header and footer chrome lines that repeat on
 * every page it serves, byline and headline forms, quote and dash style, and
 * habits (excerpting, headline rewrites, edits, typos, HTML pages) with their
 * own probabilities. Aggregators carry the heaviest chrome. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "synth.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(rng, a) ((a)[synth_below((rng), (uint32_t)COUNT(a))])

static const char *const place_heads[] = {
    "Ash",   "Brad",  "Car",   "Dun",    "El",   "Fair",  "Glen",  "Har",   "Ken",   "Lang",
    "Mar",   "Nor",   "Ox",    "Pem",    "Kings", "Rib",  "Sal",   "Thorn", "Wex",   "Brent",
    "Cold",  "Dal",   "East",  "Wes",    "Fal",  "Gran",  "Hol",   "Ips",   "Kirk",  "Lin",
    "Mel",   "New",   "Ock",   "Pres",   "Red",  "Stan",  "Tam",   "Ux",    "Wal",   "Whit",
    "Bel",   "Chel",  "Dor",   "Ever",   "Frod", "Gil",   "Hed",   "Ilf",   "Lud",   "Mal",
};
static const char *const place_tails[] = {
    "ford",  "bury",  "ton",   "field", "ley",    "wick",  "mouth", "port",  "ham",
    "dale",  "minster", "stead", "bridge", "haven", "worth", "chester", "by", "cliffe",
    "combe", "hurst", "well",  "ness",  "moor",   "gate",
};
static const char *const paper_nouns[] = {
    "Herald",   "Gazette",  "Times",    "Post",       "Chronicle", "Courier",  "Echo",
    "Mirror",   "Standard", "Telegraph", "Journal",   "Observer",  "Record",   "Star",
    "Sentinel", "Tribune",  "Argus",    "Examiner",   "Advertiser", "Press",   "Mail",
    "News",     "Express",  "Bulletin", "Register",   "Dispatch",  "Globe",    "Beacon",
    "Leader",   "Citizen",  "Messenger", "Reporter",  "Voice",     "Clarion",  "Enquirer",
};
static const char *const brand_heads[] = {
    "News", "Read", "Brief", "Daily", "Top", "Story", "Head", "Pulse", "Scoop", "Flip",
    "Feed", "Press", "Ink", "Paper", "Wire", "Line", "Page", "Folio", "Dig", "Glance",
};
static const char *const brand_tails[] = {
    "ly", "hub", "stack", "now", "stream", "deck", "board", "box", "point", "loop",
    "dash", "zone", "lens", "nest", "well", "bay", "grid", "sift",
};
static const char *const sections[] = {
    "News",    "World",    "UK news", "Politics",   "Business",  "Sport",  "Culture",
    "Health",  "Science",  "Local",   "Opinion",    "Technology", "Environment",
    "Education", "Crime",  "Money",   "Lifestyle",
};
static const char *const weekdays[] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};
static const char *const count_words[] = {"Seven", "Ten", "Fourteen", "Thirty"};
static const char *const slogan_adjs[] = {
    "Independent", "Trusted", "Award-winning", "Fearless", "Local", "Honest", "Proper",
    "Serious", "Straight", "Essential",
};
static const char *const slogan_nouns[] = {
    "journalism", "news", "reporting", "voices", "stories", "coverage",
};

static const char *const aggregator_header[] = {
    "Get all your news in one place.",
    "{N}’s of premium titles.",
    "One app.",
    "Start reading",
    "All the news that matters, from {N}+ sources.",
    "Your {D} briefing is ready",
    "Download the {O} app",
    "Sign in",
    "Sign up free",
    "Try {O} Premium free for {T} days",
    "Trending now",
    "For you",
    "Following",
    "Top stories",
    "Log in to personalise your feed",
    "Curated by editors, chosen by you.",
    "{O}: the smarter way to read the news",
    "Search {O}",
    "Menu",
    "{S}",
};
static const char *const aggregator_footer[] = {
    "Sign up to read this article",
    "Read news from {N}’s of titles, curated specifically for you.",
    "Already a member? Sign in here",
    "Top stories on {O} right now",
    "One subscription that gives you access to news from hundreds of sites",
    "Our Picks",
    "{W} days free",
    "Download the app",
    "One app. One membership.",
    "{N}+ trusted global sources.",
    "Gift a subscription",
    "Help centre",
    "Careers at {O}",
    "Follow {O} for the stories everyone is talking about",
    "Stories you might have missed",
    "Get the {O} app for iPhone and Android",
};
static const char *const paper_header[] = {
    "Subscribe",
    "Sign in",
    "Menu",
    "Search",
    "Today’s paper",
    "E-edition",
    "Newsletters",
    "Advertisement",
    "Skip to main content",
    "Support {O} from £{M} a month",
    "Breaking news, sport and weather for {P}",
    "{O}",
    "{NAV}",
    "{SLOGAN}",
};
static const char *const paper_footer[] = {
    "Sign up to the {O} newsletter",
    "Get the {S} briefing delivered to your inbox every {D}.",
    "Subscribe to {O} from just £{M} a month",
    "Most read",
    "Follow us on social media",
    "{LINKS}",
    "{O} is a member of the Independent Press Standards Organisation",
    "{O} is published by {P} {K} Media Ltd, registered in England No. {R}",
    "Registered office: {Q} {P} Road, {P}",
    "Advertisement",
    "Comments are closed.",
    "Have your say",
    "{SLOGAN}",
};
static const char *const broadcaster_header[] = {
    "Watch live",
    "Listen live",
    "{O} News",
    "TV guide",
    "Skip to content",
    "Weather for {P}",
    "Podcasts",
    "Schedule",
    "{NAV}",
    "{SLOGAN}",
};
static const char *const broadcaster_footer[] = {
    "Watch {O} live",
    "Listen on the {O} app",
    "Contact the newsroom",
    "Got a story? Email news@{H}",
    "{LINKS}",
    "Download the {O} app for the latest news and weather",
    "{SLOGAN}",
};
static const char *const wire_footer[] = {
    "{O} does not accept liability for any errors or omissions",
    "For subscriber use only",
    "{LINKS}",
};
/* Sentences of the outlet's "about" paragraph at the foot of every page. */
static const char *const about_sentences[] = {
    "{O} brings together the best journalism from {N}+ publishers in one place.",
    "Every story on {O} is chosen by our editors in {P} and delivered to you without clutter.",
    "By signing up you agree to our Terms of Use and acknowledge our Privacy Policy.",
    "We use cookies and similar technologies to personalise content and ads, and to analyse our traffic.",
    "You can change your preferences at any time in Cookie settings.",
    "{O} is available on iPhone, iPad and Android, and on the web.",
    "Subscriptions renew automatically unless cancelled at least 24 hours before the end of the current period.",
    "Prices include VAT where applicable.",
    "{K} is registered in England and Wales, company number {R}.",
    "Editorial enquiries: editor@{H}. Advertising: ads@{H}.",
    "{O} is committed to accurate, fair and transparent reporting; read our editorial code at {H}/standards.",
    "Our journalists follow the Editors’ Code of Practice.",
    "If you have a complaint about an article, contact corrections@{H}.",
    "Founded in {Y}, {O} serves readers across {P} and beyond.",
    "Members get unlimited access, an ad-free experience and our {D} newsletter.",
    "Gift memberships start at £{M} a month and can be cancelled at any time.",
};
static const char *const links[] = {
    "About us", "Contact us", "Advertise", "Privacy policy", "Cookie policy",
    "Terms and conditions", "Accessibility", "Careers", "Corrections", "Sitemap",
};
static const char *const related_headings[] = {
    "Related Stories", "More from {O}", "You may also like", "Read next", "Most read",
    "More on this story", "Related articles", "Recommended", "Top stories on {O} right now",
};
static const char *const read_more_forms[] = {
    "Read more at %s", "Continue reading on %s", "Read the full story at %s",
    "This is an excerpt. Read more at %s", "Read the full article on %s",
};
static const char *const copyright_forms[] = {
    "© %d {K}. All rights reserved.", "Copyright © {O} %d", "© {K} %d",
    "All content © %d {O}", "© Copyright %d {O}. All rights reserved.",
};
static const char *const suffix_forms[] = {" | {O}", " - {O}", " – {O}", " | {O} News"};
static const char *const staff_forms[] = {"{O} Reporter", "{O} Staff", "By {O} newsroom", "Newsdesk"};

/* Outlet-constant values that templates refer to. */
typedef struct identity {
    const char *name, *host;
    char place[40], owner[80], nav[160], links[200], slogan[120];
    const char *section;
    uint32_t n_titles, trial_days, price, year, company, street;
    const char *weekday, *count_word;
} identity;

static void put_place(synth_buf *out, synth_rng *rng)
{
    synth_buf_puts(out, PICK(rng, place_heads));
    synth_buf_puts(out, PICK(rng, place_tails));
}

static void expand(synth_buf *out, const char *tpl, const identity *id)
{
    for (const char *p = tpl; *p;) {
        if (*p != '{') {
            const char *q = strchr(p, '{');
            size_t n = q ? (size_t)(q - p) : strlen(p);
            synth_buf_put(out, p, n);
            p += n;
            continue;
        }
        const char *end = strchr(p, '}');
        size_t n = (size_t)(end - p - 1);
        const char *key = p + 1;
#define KEY(s) (n == sizeof(s) - 1 && memcmp(key, s, n) == 0)
        if (KEY("O"))
            synth_buf_puts(out, id->name);
        else if (KEY("H"))
            synth_buf_puts(out, id->host);
        else if (KEY("P"))
            synth_buf_puts(out, id->place);
        else if (KEY("K"))
            synth_buf_puts(out, id->owner);
        else if (KEY("S"))
            synth_buf_puts(out, id->section);
        else if (KEY("D"))
            synth_buf_puts(out, id->weekday);
        else if (KEY("W"))
            synth_buf_puts(out, id->count_word);
        else if (KEY("N"))
            synth_buf_printf(out, "%u", id->n_titles);
        else if (KEY("T"))
            synth_buf_printf(out, "%u", id->trial_days);
        else if (KEY("M"))
            synth_buf_printf(out, "%u", id->price);
        else if (KEY("R"))
            synth_buf_printf(out, "%07u", id->company);
        else if (KEY("Q"))
            synth_buf_printf(out, "%u", id->street);
        else if (KEY("NAV"))
            synth_buf_puts(out, id->nav);
        else if (KEY("LINKS"))
            synth_buf_puts(out, id->links);
        else if (KEY("SLOGAN"))
            synth_buf_puts(out, id->slogan);
#undef KEY
        p = end + 1;
    }
}

static char *expand_dup(const char *tpl, const identity *id)
{
    synth_buf b = {0};
    expand(&b, tpl, id);
    synth_buf_putc(&b, '\0');
    return b.ptr;
}

/* Picks count distinct templates from pool, keeping their pool order. */
static uint32_t pick_lines(char **lines, const char *const *pool, uint32_t pool_n, uint32_t count,
                           const identity *id, synth_rng *rng)
{
    uint8_t take[64] = {0};
    if (count > pool_n)
        count = pool_n;
    for (uint32_t k = 0; k < count;) {
        uint32_t i = synth_below(rng, pool_n);
        if (!take[i]) {
            take[i] = 1;
            k++;
        }
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < pool_n && n < SYNTH_MAX_CHROME_LINES; i++)
        if (take[i])
            lines[n++] = expand_dup(pool[i], id);
    return n;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int name_taken(const synth_outlets *pool, uint32_t upto, const char *name, const char *host)
{
    for (uint32_t i = 0; i < upto; i++)
        if (strcmp(pool->outlet[i].name, name) == 0 || strcmp(pool->outlet[i].host, host) == 0)
            return 1;
    return 0;
}

static void make_host(char *host, size_t cap, const char *name, const char *tld)
{
    const char *p = name;
    if (strncmp(p, "The ", 4) == 0)
        p += 4;
    size_t n = 0;
    for (; *p && n + strlen(tld) + 1 < cap; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            host[n++] = c;
    }
    host[n] = '\0';
    strcat(host, tld);
}

static void make_name(synth_outlet *o, char *place, size_t place_cap, synth_rng *rng)
{
    synth_buf b = {0}, pl = {0};
    put_place(&pl, rng);
    copy_str(place, place_cap, pl.ptr, pl.len);
    const char *tld;
    switch (o->type) {
    case SYNTH_OUTLET_WIRE: {
        static const char *const forms[] = {"{P} Press Association", "{P} News Agency",
                                            "{P} Wire Service", "Associated {P} Press",
                                            "{P} Press"};
        const char *f = PICK(rng, forms);
        const char *at = strstr(f, "{P}");
        synth_buf_put(&b, f, (size_t)(at - f));
        synth_buf_put(&b, pl.ptr, pl.len);
        synth_buf_puts(&b, at + 3);
        tld = synth_chance(rng, 0.5) ? ".com" : ".org";
        break;
    }
    case SYNTH_OUTLET_NEWSPAPER: {
        const char *noun = PICK(rng, paper_nouns);
        switch (synth_below(rng, 6)) {
        case 0: synth_buf_printf(&b, "%.*s %s", (int)pl.len, pl.ptr, noun); break;
        case 1: synth_buf_printf(&b, "The %.*s Evening %s", (int)pl.len, pl.ptr, noun); break;
        case 2: synth_buf_printf(&b, "%.*s Live", (int)pl.len, pl.ptr); break;
        case 3: synth_buf_printf(&b, "%.*s Weekly %s", (int)pl.len, pl.ptr, noun); break;
        default: synth_buf_printf(&b, "The %.*s %s", (int)pl.len, pl.ptr, noun); break;
        }
        static const char *const tlds[] = {".co.uk", ".com", ".com.au", ".ie", ".co.nz", ".net"};
        tld = PICK(rng, tlds);
        break;
    }
    case SYNTH_OUTLET_BROADCASTER: {
        switch (synth_below(rng, 5)) {
        case 0: synth_buf_printf(&b, "%.*s Radio", (int)pl.len, pl.ptr); break;
        case 1: synth_buf_printf(&b, "%.*s TV", (int)pl.len, pl.ptr); break;
        case 2: synth_buf_printf(&b, "Channel %u %.*s", synth_range(rng, 2, 12), (int)pl.len, pl.ptr); break;
        case 3: synth_buf_printf(&b, "Radio %.*s", (int)pl.len, pl.ptr); break;
        default: synth_buf_printf(&b, "%.*s News Network", (int)pl.len, pl.ptr); break;
        }
        tld = synth_chance(rng, 0.5) ? ".tv" : ".com";
        break;
    }
    default: {
        synth_buf_puts(&b, PICK(rng, brand_heads));
        synth_buf_puts(&b, PICK(rng, brand_tails));
        static const char *const tlds[] = {".com", ".app", ".io", ".news"};
        tld = PICK(rng, tlds);
        break;
    }
    }
    copy_str(o->name, sizeof o->name, b.ptr, b.len);
    make_host(o->host, sizeof o->host, o->name, tld);
    synth_buf_free(&b);
    synth_buf_free(&pl);
}

static double uniform(synth_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * synth_unit(rng);
}

static void make_identity(identity *id, const synth_outlet *o, const char *place, synth_rng *rng)
{
    memset(id, 0, sizeof *id);
    id->name = o->name;
    id->host = o->host;
    snprintf(id->place, sizeof id->place, "%s", place);
    static const char *const owner_forms[] = {"%s Media Ltd", "%s Group", "%s Newspapers",
                                              "%s Publishing plc", "%s Digital"};
    const char *base = o->name;
    if (strncmp(base, "The ", 4) == 0)
        base += 4;
    snprintf(id->owner, sizeof id->owner, PICK(rng, owner_forms), base);
    id->section = o->section[0];
    static const uint32_t titles[] = {100, 150, 200, 300, 500, 1000};
    id->n_titles = PICK(rng, titles);
    static const uint32_t trials[] = {7, 14, 30};
    id->trial_days = PICK(rng, trials);
    id->price = synth_range(rng, 1, 9);
    id->year = synth_range(rng, 1780, 2015);
    id->company = synth_below(rng, 10000000);
    id->street = synth_range(rng, 1, 240);
    id->weekday = PICK(rng, weekdays);
    id->count_word = PICK(rng, count_words);
    /* section navigation and footer links: outlet-chosen subsets and separators */
    static const char *const seps[] = {" | ", " · ", " / ", "  "};
    const char *sep = PICK(rng, seps);
    synth_buf b = {0};
    uint32_t n_nav = synth_range(rng, 4, 7);
    for (uint32_t i = 0; i < n_nav; i++) {
        if (i)
            synth_buf_puts(&b, sep);
        synth_buf_puts(&b, i < 3 ? o->section[i] : PICK(rng, sections));
    }
    copy_str(id->nav, sizeof id->nav, b.ptr, b.len);
    b.len = 0;
    uint32_t start = synth_below(rng, (uint32_t)COUNT(links));
    uint32_t n_links = synth_range(rng, 4, 8);
    for (uint32_t i = 0; i < n_links; i++) {
        if (i)
            synth_buf_puts(&b, sep);
        synth_buf_puts(&b, links[(start + i * 3) % COUNT(links)]);
    }
    copy_str(id->links, sizeof id->links, b.ptr, b.len);
    b.len = 0;
    const char *adj = PICK(rng, slogan_adjs); /* one draw per statement: see synth_text.c */
    const char *noun = PICK(rng, slogan_nouns);
    synth_buf_printf(&b, "%s %s for %s since %u", adj, noun, place, id->year);
    copy_str(id->slogan, sizeof id->slogan, b.ptr, b.len);
    synth_buf_free(&b);
}

static void make_outlet(synth_outlets *pool, uint32_t i, int type, synth_rng *rng)
{
    synth_outlet *o = &pool->outlet[i];
    memset(o, 0, sizeof *o);
    o->type = type;
    char place[40];
    for (int attempt = 0;; attempt++) {
        make_name(o, place, sizeof place, rng);
        if (!name_taken(pool, i, o->name, o->host))
            break;
        if (attempt > 50) { /* a crowded pool: number the name */
            char old[sizeof o->name];
            memcpy(old, o->name, sizeof old);
            snprintf(o->name, sizeof o->name, "%.50s %u", old, i);
            snprintf(o->host, sizeof o->host, "outlet%u.example", i);
            break;
        }
    }
    for (int k = 0; k < 3; k++)
        snprintf(o->section[k], sizeof o->section[k], "%s", PICK(rng, sections));

    identity id;
    make_identity(&id, o, place, rng);

    /* chrome */
    switch (type) {
    case SYNTH_OUTLET_AGGREGATOR:
        o->n_header = pick_lines(o->header, aggregator_header, COUNT(aggregator_header),
                                 synth_range(rng, 8, 14), &id, rng);
        o->n_footer = pick_lines(o->footer, aggregator_footer, COUNT(aggregator_footer),
                                 synth_range(rng, 7, 13), &id, rng);
        break;
    case SYNTH_OUTLET_NEWSPAPER:
        o->n_header = pick_lines(o->header, paper_header, COUNT(paper_header),
                                 synth_range(rng, 2, 6), &id, rng);
        o->n_footer = pick_lines(o->footer, paper_footer, COUNT(paper_footer),
                                 synth_range(rng, 3, 7), &id, rng);
        break;
    case SYNTH_OUTLET_BROADCASTER:
        o->n_header = pick_lines(o->header, broadcaster_header, COUNT(broadcaster_header),
                                 synth_range(rng, 3, 6), &id, rng);
        o->n_footer = pick_lines(o->footer, broadcaster_footer, COUNT(broadcaster_footer),
                                 synth_range(rng, 2, 5), &id, rng);
        break;
    default:
        o->n_header = 0;
        o->n_footer = pick_lines(o->footer, wire_footer, COUNT(wire_footer),
                                 synth_range(rng, 0, 2), &id, rng);
        break;
    }
    synth_buf b = {0};
    /* the "about" paragraph: long for aggregators, short elsewhere */
    uint32_t n_about = type == SYNTH_OUTLET_AGGREGATOR ? synth_range(rng, 5, 9)
                       : type == SYNTH_OUTLET_WIRE      ? 0
                                                        : synth_range(rng, 1, 4);
    if (n_about && o->n_footer < SYNTH_MAX_CHROME_LINES) {
        uint8_t taken[COUNT(about_sentences)] = {0};
        for (uint32_t k = 0; k < n_about;) {
            uint32_t pick = synth_below(rng, (uint32_t)COUNT(about_sentences));
            if (taken[pick])
                continue;
            taken[pick] = 1;
            if (k++)
                synth_buf_putc(&b, ' ');
            expand(&b, about_sentences[pick], &id);
        }
        synth_buf_putc(&b, '\0');
        o->footer[o->n_footer++] = b.ptr;
        b = (synth_buf){0};
    }
    expand(&b, PICK(rng, related_headings), &id);
    copy_str(o->related_heading, sizeof o->related_heading, b.ptr, b.len);
    snprintf(o->read_more, sizeof o->read_more, "%s", PICK(rng, read_more_forms));
    b.len = 0;
    expand(&b, PICK(rng, copyright_forms), &id);
    copy_str(o->copyright, sizeof o->copyright, b.ptr, b.len);
    b.len = 0;
    if (type != SYNTH_OUTLET_WIRE && synth_chance(rng, 0.35))
        expand(&b, PICK(rng, suffix_forms), &id);
    copy_str(o->title_suffix, sizeof o->title_suffix, b.ptr, b.len);
    b.len = 0;
    expand(&b, PICK(rng, staff_forms), &id);
    copy_str(o->staff_byline, sizeof o->staff_byline, b.ptr, b.len);
    b.len = 0;
    if (synth_chance(rng, 0.6)) {
        char var[24];
        size_t n = 0;
        for (const char *p = o->host; *p && *p != '.' && n + 1 < sizeof var; p++)
            var[n++] = *p;
        var[n] = '\0';
        uint32_t slots = synth_range(rng, 2, 9);
        uint32_t file = synth_range(rng, 1, 99);
        synth_buf_printf(&b,
                         "window.__%s={\"site\":\"%s\",\"section\":\"%s\",\"slots\":%u};"
                         "(function(){var s=document.createElement('script');s.src='https://"
                         "cdn.%s/a%u.js';document.head.appendChild(s);})();",
                         var, o->host, o->section[0], slots, o->host, file);
        synth_buf_putc(&b, '\0');
        o->script = b.ptr;
        b = (synth_buf){0};
    }
    synth_buf_free(&b);

    /* style */
    o->quote_style = (int)synth_below(rng, 3);
    o->dash_style = (int)synth_below(rng, 4);
    o->byline_form = (int)synth_below(rng, 6);
    double r = synth_unit(rng);
    o->title_case = r < 0.6 ? 0 : r < 0.85 ? 1 : 2;
    o->html_entities = synth_chance(rng, 0.5);
    o->next_article = synth_range(rng, 100000, 9999999);

    /* habits */
    int html_outlet = synth_chance(rng, 0.3);
    switch (type) {
    case SYNTH_OUTLET_AGGREGATOR:
        o->p_excerpt = uniform(rng, 0.3, 0.7);
        o->p_rewrite = uniform(rng, 0.0, 0.2);
        o->p_add = uniform(rng, 0.0, 0.03);
        o->p_cut = uniform(rng, 0.0, 0.08);
        o->mean_edits = uniform(rng, 0.0, 1.0);
        o->mean_typos = uniform(rng, 0.0, 0.5);
        o->title_in_text = synth_chance(rng, 0.8);
        o->credit_origin = 1;
        o->published_line = synth_chance(rng, 0.3) ? (int)synth_range(rng, 1, 3) : 0;
        o->related_count = synth_range(rng, 4, 8);
        o->popularity = 3.0;
        break;
    case SYNTH_OUTLET_NEWSPAPER:
        o->p_excerpt = uniform(rng, 0.0, 0.08);
        o->p_rewrite = uniform(rng, 0.1, 0.6);
        o->p_add = uniform(rng, 0.0, 0.2);
        o->p_cut = uniform(rng, 0.0, 0.25);
        o->mean_edits = uniform(rng, 0.5, 3.0);
        o->mean_typos = uniform(rng, 0.0, 1.5);
        o->title_in_text = synth_chance(rng, 0.5);
        o->credit_origin = synth_chance(rng, 0.3);
        o->published_line = synth_chance(rng, 0.5) ? (int)synth_range(rng, 1, 3) : 0;
        o->related_count = synth_range(rng, 3, 5);
        o->popularity = 1.0;
        break;
    case SYNTH_OUTLET_BROADCASTER:
        o->p_excerpt = uniform(rng, 0.05, 0.3);
        o->p_rewrite = uniform(rng, 0.2, 0.7);
        o->p_add = uniform(rng, 0.0, 0.15);
        o->p_cut = uniform(rng, 0.05, 0.3);
        o->mean_edits = uniform(rng, 0.5, 2.0);
        o->mean_typos = uniform(rng, 0.0, 1.0);
        o->title_in_text = synth_chance(rng, 0.4);
        o->credit_origin = synth_chance(rng, 0.5);
        o->published_line = synth_chance(rng, 0.6) ? (int)synth_range(rng, 1, 3) : 0;
        o->related_count = synth_range(rng, 2, 4);
        o->popularity = 0.8;
        break;
    default:
        o->mean_typos = uniform(rng, 0.0, 0.2);
        o->title_in_text = 0;
        o->published_line = synth_chance(rng, 0.5) ? (int)synth_range(rng, 1, 3) : 0;
        o->related_count = 0;
        o->popularity = 1.0;
        html_outlet = 0;
        break;
    }
    o->p_html = html_outlet ? uniform(rng, 0.5, 1.0) : 0.0;
}

void synth_outlets_build(synth_outlets *pool, uint32_t n, uint64_t seed)
{
    memset(pool, 0, sizeof *pool);
    synth_rng rng;
    synth_rng_seed(&rng, synth_derive(seed, SYNTH_STREAM_OUTLETS, 0));
    pool->n = n;
    pool->outlet = synth_xcalloc(n, sizeof *pool->outlet);
    uint32_t n_wires = n * 3 / 100 < 2 ? 2 : n * 3 / 100;
    uint32_t n_aggregators = n * 12 / 100 < 1 ? 1 : n * 12 / 100;
    uint32_t n_broadcasters = n / 10;
    pool->n_wires = n_wires;
    /* wires first; the other kinds shuffled after them */
    int *types = synth_xmalloc(sizeof *types * n);
    for (uint32_t i = 0; i < n; i++)
        types[i] = i < n_wires                                   ? SYNTH_OUTLET_WIRE
                   : i < n_wires + n_aggregators                 ? SYNTH_OUTLET_AGGREGATOR
                   : i < n_wires + n_aggregators + n_broadcasters ? SYNTH_OUTLET_BROADCASTER
                                                                  : SYNTH_OUTLET_NEWSPAPER;
    for (uint32_t i = n - 1; i > n_wires; i--) {
        uint32_t j = n_wires + synth_below(&rng, i - n_wires + 1);
        int t = types[i];
        types[i] = types[j];
        types[j] = t;
    }
    for (uint32_t i = 0; i < n; i++)
        make_outlet(pool, i, types[i], &rng);
    free(types);

    /* popularity: Zipf over the shuffled order, times the kind's weight */
    double *w = synth_xmalloc(sizeof *w * n);
    for (uint32_t i = 0; i < n; i++) {
        synth_outlet *o = &pool->outlet[i];
        uint32_t rank = i < n_wires ? i : i - n_wires;
        o->popularity *= 1.0 / pow((double)(rank + 1), i < n_wires ? 1.0 : 0.7);
    }
    for (uint32_t i = 0; i < n_wires; i++)
        w[i] = pool->outlet[i].popularity;
    synth_alias_build(&pool->wire_pick, w, n_wires);
    for (uint32_t i = 0; i < n; i++) {
        int t = pool->outlet[i].type;
        w[i] = t == SYNTH_OUTLET_NEWSPAPER || t == SYNTH_OUTLET_BROADCASTER
                   ? pool->outlet[i].popularity
                   : 0.0;
    }
    synth_alias_build(&pool->origin_pick, w, n);
    for (uint32_t i = 0; i < n; i++)
        w[i] = pool->outlet[i].type == SYNTH_OUTLET_WIRE ? 0.0 : pool->outlet[i].popularity;
    synth_alias_build(&pool->carry_pick, w, n);
    pool->n_carriers = n - n_wires;
    free(w);
}

void synth_outlets_free(synth_outlets *pool)
{
    for (uint32_t i = 0; i < pool->n; i++) {
        synth_outlet *o = &pool->outlet[i];
        for (uint32_t k = 0; k < o->n_header; k++)
            free(o->header[k]);
        for (uint32_t k = 0; k < o->n_footer; k++)
            free(o->footer[k]);
        free(o->script);
        synth_buf_free(&o->head_text);
        synth_buf_free(&o->head_html);
        synth_buf_free(&o->foot_text);
        synth_buf_free(&o->foot_html);
    }
    free(pool->outlet);
    synth_alias_free(&pool->wire_pick);
    synth_alias_free(&pool->origin_pick);
    synth_alias_free(&pool->carry_pick);
    memset(pool, 0, sizeof *pool);
}
