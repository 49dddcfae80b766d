#!/usr/bin/env python3
"""Generates a throughput fixture for `copydesk track` (tests/track/bench.sh):
FEEDS feeds of ITEMS items each, in RSS, Atom and JSON Feed in turn. There are
STORIES distinct stories of ~250 words; every item is a story as carried by
one outlet: the wire text with a few words changed and a chrome line, so each
story has several copies across feeds. Each item links to an article page
(/pages/N.html) for --fetch-articles. Fixed seed: the same files every time.
  usage: gen_bench.py OUT_DIR [FEEDS ITEMS STORIES]"""
import html
import json
import os
import random
import sys

out = sys.argv[1]
feeds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
items = int(sys.argv[3]) if len(sys.argv) > 3 else 30
stories = int(sys.argv[4]) if len(sys.argv) > 4 else 300
rng = random.Random(6)
words = ("government minister council police report said year people city week "
         "market price energy water school hospital court union workers strike rain flood "
         "storm election party vote plan budget tax bank rate inflation growth company "
         "shares profit loss football match team season player coach fans museum artist "
         "science research study planet space climate forest river village road train "
         "airport border health doctors patients nurses children family home house "
         "million billion percent north south east west morning evening night local").split()


def story_text(rng):
    paras = []
    for _ in range(7):
        n = rng.randint(30, 40)
        paras.append(" ".join(rng.choice(words) for _ in range(n)).capitalize() + ".")
    return paras


texts = [story_text(rng) for _ in range(stories)]
os.makedirs(os.path.join(out, "pages"), exist_ok=True)
lines = []
page = 0
for f in range(feeds):
    kind = ("rss", "atom", "json")[f % 3]
    name = "feed%03d.%s" % (f, {"rss": "xml", "atom": "atom", "json": "json"}[kind])
    entries = []
    for i in range(items):
        s = rng.randrange(stories)
        paras = list(texts[s])
        k = rng.randrange(len(paras))  # a small edit in one paragraph
        w = paras[k].split()
        w[rng.randrange(len(w))] = rng.choice(words)
        paras[k] = " ".join(w)
        paras.append("Outlet %d." % f)
        day, minute = 24 + (s % 3), (s * 7 + f * 3 + i) % 1440
        date = "2026-11-%02dT%02d:%02d:00Z" % (day, minute // 60, minute % 60)
        body = "".join("<p>%s</p>" % p for p in paras)
        page += 1
        link = "{BASE}/pages/%d.html" % page
        with open(os.path.join(out, "pages", "%d.html" % page), "w") as fp:
            fp.write("<!doctype html><html><head><title>Story %d</title></head><body>"
                     "<nav>Home News Sport</nav><article><h1>Story %d</h1>%s</article>"
                     "<footer>Outlet %d</footer></body></html>\n" % (s, s, body, f))
        entries.append((i, s, date, link, body))
    path = os.path.join(out, name)
    if kind == "rss":
        xs = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Outlet %d</title>' % f]
        for i, s, date, link, body in entries:
            xs.append("<item><title>Story %d</title><link>%s</link><guid>o%d-%d</guid>"
                      "<pubDate>%s</pubDate><description>%s</description></item>" % (
                          s, link, f, i, date.replace("T", " ").replace("Z", " +0000"), html.escape(body)))
        xs.append("</channel></rss>\n")
        open(path, "w").write("\n".join(xs))
    elif kind == "atom":
        xs = ['<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Outlet %d</title>' % f]
        for i, s, date, link, body in entries:
            xs.append('<entry><id>urn:o%d:%d</id><title>Story %d</title><link href="%s"/>'
                      '<published>%s</published><content type="html">%s</content></entry>' % (
                          f, i, s, link, date, html.escape(body)))
        xs.append("</feed>\n")
        open(path, "w").write("\n".join(xs))
    else:
        open(path, "w").write(json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": "Outlet %d" % f,
            "items": [{"id": "o%d-%d" % (f, i), "url": link, "title": "Story %d" % s,
                       "date_published": date, "content_html": body}
                      for i, s, date, link, body in entries]}))
    lines.append("%s Outlet %d" % (name, f))
with open(os.path.join(out, "feeds.list"), "w") as fp:
    fp.write("\n".join(lines) + "\n")
print("%d feeds, %d items, %d stories" % (feeds, feeds * items, stories))
