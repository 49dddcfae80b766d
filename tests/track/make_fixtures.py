#!/usr/bin/env python3
"""Writes the feed fixtures of the `copydesk track` tests into fixtures/ (run it
after changing a story; the files are committed). Outlets carry syndicated
copies of the same wire stories, each with its own headline, chrome and small
edits; {BASE} is replaced by the fixture server with its address."""
import html
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

A = [
    "Heavy rain has flooded hundreds of homes across the north of England after rivers burst their banks overnight, forcing emergency services to rescue dozens of residents from their properties.",
    "The Environment Agency issued more than forty flood warnings on Tuesday morning, including two severe warnings meaning there is a danger to life, as a month's worth of rain fell in less than a day.",
    "Firefighters used boats to reach families trapped in the upper floors of their homes in the worst affected towns, while rail services between Leeds and Manchester were suspended because of water on the tracks.",
    "The Met Office said further heavy showers were expected on Wednesday and warned that already saturated ground could lead to more flooding in the days ahead.",
    "The government said it would hold an emergency meeting to coordinate the response and promised additional funding for the councils most affected by the floods.",
]
B = [
    "The Bank of England has held interest rates at five per cent for the third meeting in a row, saying inflation is falling more slowly than it had expected.",
    "The Monetary Policy Committee voted by six votes to three to keep rates unchanged, with the three dissenting members calling for a cut of a quarter of a percentage point.",
    "The governor said the committee needed to see more evidence that price rises in the services sector were easing before it could begin to lower borrowing costs.",
    "Economists had widely expected the decision, although markets had priced in a small chance of a cut after figures last week showed wage growth slowing for a second month.",
    "Mortgage lenders said the decision would bring little relief to households coming to the end of fixed-rate deals agreed when rates were much lower.",
]
C = [
    "Astronomers have detected water vapour in the atmosphere of a rocky planet orbiting a small star about forty light years from Earth, in what they describe as a significant step in the search for habitable worlds.",
    "The observations, made with the James Webb Space Telescope, show the chemical signature of water as the planet passed in front of its star, filtering some of the starlight through its thin atmosphere.",
    "The planet is slightly larger than Earth and completes an orbit every eleven days, which means its surface is likely to be far too hot for liquid water.",
    "The research team said the discovery nevertheless showed that small rocky planets can hold on to atmospheres despite the intense radiation from their host stars.",
    "The findings were published on Thursday in the journal Nature and will be followed by further observations later this year.",
]
D = [
    "Train drivers will stage a fresh series of strikes next month in their long-running dispute over pay and working conditions, their union has announced.",
    "The walkouts will affect sixteen train operators on different days over two weeks, with most services expected to be cancelled on the routes involved.",
    "The union said its members had not received a pay offer they could put to a vote in more than a year and accused the government of blocking a settlement.",
    "The Department for Transport said the strikes were unnecessary and urged the union to put the latest offer to its members, which it said was fair and reasonable.",
    "Passengers have been advised to check before they travel and to expect disruption on the days either side of each strike.",
]
E = [
    "A village bakery that has served the same high street for more than a century will close its doors at the end of the month after its owners decided to retire.",
    "The family who have run the shop for four generations said rising energy costs and the difficulty of finding staff had made the decision easier, although it was still a sad day.",
    "Customers have been queuing since early morning to buy a final loaf, and the parish council is planning a small ceremony to thank the family for their service to the community.",
]
F = [
    "Volunteers have planted ten thousand trees on a former coal mining site in South Wales as part of a project to restore woodland that was cleared more than a hundred years ago.",
    "Schoolchildren, local businesses and community groups took part in the planting over three weekends, and organisers hope the new forest will become a home for birds and other wildlife.",
    "The project is funded by a lottery grant and will continue next winter, when a further five thousand trees are due to be planted on the hillside above the village.",
]
G = [
    "A rare copy of a seventeenth-century atlas has sold at auction for more than two million pounds, far above its estimate, after a bidding war between two private collectors.",
    "The atlas, one of fewer than twenty known to survive, contains hand-coloured maps of the known world and had been kept in the library of a country house for three hundred years.",
    "The auction house said the buyer, who wished to remain anonymous, had promised to lend the volume to a public museum for an exhibition next year.",
]


def paras(ps):
    return "".join("<p>%s</p>" % html.escape(p, quote=False) for p in ps)


def edit(ps, i, old, new):
    ps = list(ps)
    assert old in ps[i], (old, ps[i])
    ps[i] = ps[i].replace(old, new)
    return ps


def write(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def rss(title, link, items, extra_ns=""):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/"%s>' % extra_ns,
           "<channel>", "<title>%s</title>" % html.escape(title), "<link>%s</link>" % link,
           "<description>%s</description>" % html.escape(title)]
    for it in items:
        out.append("<item>")
        for k, v in it:
            out.append("  <%s>%s</%s>" % (k, v, k.split(" ")[0]))
        out.append("</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


# wire: RSS 2.0 with full text in content:encoded (CDATA), the originals.
write("wire.xml", rss("Wire Service: Top Stories", "{BASE}/", [
    [("title", "Floods hit northern England as rivers burst banks"), ("link", "{BASE}/wire/floods"),
     ("guid isPermaLink=\"false\"", "wire-1001"), ("pubDate", "Tue, 24 Nov 2026 06:00:00 GMT"),
     ("description", html.escape("<p>" + A[0] + "</p>")),
     ("content:encoded", "<![CDATA[" + paras(A) + "]]>")],
    [("title", "Bank of England holds rates at 5%"), ("link", "{BASE}/wire/rates"),
     ("guid isPermaLink=\"false\"", "wire-1002"), ("pubDate", "Tue, 24 Nov 2026 07:00:00 GMT"),
     ("content:encoded", "<![CDATA[" + paras(B) + "]]>")],
    [("title", "Water found in atmosphere of rocky exoplanet"), ("link", "{BASE}/wire/exoplanet"),
     ("guid isPermaLink=\"false\"", "wire-1003"), ("pubDate", "Tue, 24 Nov 2026 08:00:00 GMT"),
     ("content:encoded", "<![CDATA[" + paras(C) + "]]>")],
    [("title", "Train drivers announce new strike dates"), ("link", "{BASE}/wire/strike"),
     ("guid isPermaLink=\"false\"", "wire-1004"), ("pubDate", "Tue, 24 Nov 2026 09:00:00 GMT"),
     ("content:encoded", "<![CDATA[" + paras(D) + "]]>")],
]))

# herald: Atom, HTML content (escaped), its own headlines, chrome line; one story of its own.
def atom_entry(id_, title, link, published, ps, chrome=None):
    body = paras(ps) + ("<p>%s</p>" % chrome if chrome else "")
    return ("<entry><id>%s</id><title type=\"text\">%s</title><link rel=\"alternate\" href=\"%s\"/>"
            "<published>%s</published><updated>%s</updated><author><name>Herald Staff</name></author>"
            "<content type=\"html\">%s</content></entry>" % (
                id_, html.escape(title), link, published, published, html.escape(body)))

write("herald.atom", "\n".join([
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{BASE}/herald/">',
    "<title>The Herald</title>", '<link rel="alternate" href="{BASE}/herald/"/>',
    "<id>urn:herald:feed</id>", "<updated>2026-11-24T12:00:00Z</updated>",
    atom_entry("urn:herald:5501", "Hundreds of homes flooded in the north", "news/floods-north",
               "2026-11-24T10:15:00Z", edit(A, 0, "across the north of England", "across northern England"),
               "Additional reporting by PA Media."),
    atom_entry("urn:herald:5502", "Interest rates unchanged again", "news/rates-held",
               "2026-11-24T11:30:00+01:00", B),
    atom_entry("urn:herald:5503", "Century-old village bakery to close", "news/bakery",
               "2026-11-24T12:00:00Z", E),
    "</feed>", ""]))

# aggregator: JSON Feed, content_html with page chrome in <aside> and <nav> (dropped).
def jf_item(id_, url, title, date, ps):
    return {"id": id_, "url": url, "title": title, "date_published": date,
            "content_html": "<nav>Home | News | Sport</nav>" + paras(ps) +
            "<aside>Related Stories: Sign up to our newsletter</aside>"}

write("aggregator.json", json.dumps({
    "version": "https://jsonfeed.org/version/1.1",
    "title": "NewsNow Aggregator",
    "home_page_url": "{BASE}/agg/",
    "feed_url": "{BASE}/aggregator.json",
    "items": [
        jf_item("agg-77", "{BASE}/agg/77", "Floods: rivers burst banks in north", "2026-11-24T13:00:00Z", A),
        jf_item("agg-78", "{BASE}/agg/78", "Webb finds water on rocky world", "2026-11-24T13:05:00Z",
                edit(C, 2, "eleven days", "11 days")),
    ]}, indent=1, ensure_ascii=False) + "\n")

# gazette: RSS 2.0, description only (entity-escaped HTML), relative links.
write("gazette.xml", rss("The Gazette", "{BASE}/gazette/", [
    [("title", "Rail strikes: drivers to walk out again"), ("link", "/gazette/rail-strikes"),
     ("guid", "{BASE}/gazette/rail-strikes"), ("pubDate", "Tue, 24 Nov 2026 14:00:00 +0000"),
     ("description", html.escape(paras(D)))],
    [("title", "Rates held &amp; mortgage pain goes on"), ("link", "/gazette/rates"),
     ("guid", "{BASE}/gazette/rates"), ("pubDate", "Tue, 24 Nov 2026 14:30:00 +0000"),
     ("description", html.escape(paras(edit(B, 3, "widely expected", "widley expected"))))],
]))

# bulletin: ETag (every plain route has one); a story of its own and a copy.
write("bulletin.xml", rss("Bulletin", "{BASE}/bulletin/", [
    [("title", "Ten thousand trees planted on old mine site"), ("link", "{BASE}/bulletin/trees"),
     ("guid", "bulletin-1"), ("pubDate", "Tue, 24 Nov 2026 15:00:00 GMT"), ("description", html.escape(paras(F)))],
    [("title", "Atlas sells for two million pounds"), ("link", "{BASE}/bulletin/atlas"),
     ("guid", "bulletin-2"), ("pubDate", "Tue, 24 Nov 2026 15:10:00 GMT"), ("description", html.escape(paras(G)))],
]))

# courier (served under /lm/: Last-Modified only): RSS 1.0 / RDF with dc:date.
write("courier.rdf", "\n".join([
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/">',
    '<channel rdf:about="{BASE}/courier/"><title>The Courier</title><link>{BASE}/courier/</link></channel>',
    '<item rdf:about="{BASE}/courier/atlas"><title>Rare atlas fetches £2m</title><link>{BASE}/courier/atlas</link>'
    '<dc:date>2026-11-24T16:00:00Z</dc:date><description>%s</description></item>' % html.escape(paras(G)),
    "</rdf:RDF>", ""]))

# digest (served under /novalidators/: always 200): JSON Feed 1.0 with content_text.
write("digest.json", json.dumps({
    "version": "https://jsonfeed.org/version/1",
    "title": "Daily Digest",
    "items": [
        {"id": 9001, "url": "{BASE}/digest/bakery", "title": "Bakery closing after 100 years",
         "date_published": "2026-11-24T17:00:00Z", "content_text": "\n\n".join(E)},
    ]}, indent=1, ensure_ascii=False) + "\n")

# flaky (served under /flaky/: two 500s first): a copy of the exoplanet story.
write("flaky.xml", rss("Flaky Times", "{BASE}/flaky/", [
    [("title", "Water vapour detected on distant planet"), ("link", "{BASE}/flaky-times/planet"),
     ("guid", "flaky-1"), ("pubDate", "Tue, 24 Nov 2026 18:00:00 GMT"), ("description", html.escape(paras(C)))],
]))

# tabloid: malformed XML (a bare '&' in a title, an unclosed <item>); items are recovered.
write("malformed.xml", "\n".join([
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0"><channel><title>The Tabloid</title><link>{BASE}/tabloid/</link>',
    "<item><title>Floods & chaos across the north</title><link>{BASE}/tabloid/floods</link><guid>tab-1</guid>"
    "<pubDate>Tue, 24 Nov 2026 19:00:00 GMT</pubDate><description>%s</description>" % html.escape(paras(edit(A, 2, "Firefighters", "Fire crews"))),
    "<item><title>Strike chaos looms</title><link>{BASE}/tabloid/strike</link><guid>tab-2</guid>"
    "<pubDate>Tue, 24 Nov 2026 19:05:00 GMT</pubDate><description>%s</description></item>" % html.escape(paras(D)),
    "</channel></rss>", ""]))

# echo: invalid UTF-8 bytes (a Latin-1 é, a stray continuation byte) in a copy.
invalid = rss("Echo", "{BASE}/echo/", [
    [("title", "Exoplanet water discovery CAFE_MARK"), ("link", "{BASE}/echo/planet"), ("guid", "echo-1"),
     ("pubDate", "Tue, 24 Nov 2026 20:00:00 GMT"), ("description", html.escape(paras(edit(C, 4, "Nature", "Nature STRAY_MARK"))))],
]).encode("utf-8").replace(b"CAFE_MARK", b"caf\xe9").replace(b"STRAY_MARK", b"\x80\xbf")
with open(os.path.join(OUT, "invalid-utf8.xml"), "wb") as f:
    f.write(invalid)

# mirror: two items with one guid; the first is kept.
write("dupes.xml", rss("Mirror", "{BASE}/mirror/", [
    [("title", "Rates on hold"), ("link", "{BASE}/mirror/rates"), ("guid", "mirror-1"),
     ("pubDate", "Tue, 24 Nov 2026 21:00:00 GMT"), ("description", html.escape(paras(B)))],
    [("title", "Rates on hold (updated)"), ("link", "{BASE}/mirror/rates-2"), ("guid", "mirror-1"),
     ("pubDate", "Tue, 24 Nov 2026 21:30:00 GMT"), ("description", html.escape(paras(G)))],
]))

write("notafeed.html", "<!doctype html><html><head><title>Oops</title></head><body><p>Not a feed</p></body></html>\n")

# --fetch-articles: a feed whose items link to pages, robots.txt, the pages.
write("daily.xml", rss("The Daily", "{BASE}/daily/", [
    [("title", "Floods: the full story"), ("link", "{BASE}/articles/floods.html"), ("guid", "daily-1"),
     ("pubDate", "Tue, 24 Nov 2026 22:00:00 GMT"),
     ("description", html.escape("Rivers burst their banks. Read the full story on our site."))],
    [("title", "Rates: subscribers only"), ("link", "{BASE}/articles/private/rates.html"), ("guid", "daily-2"),
     ("pubDate", "Tue, 24 Nov 2026 22:10:00 GMT"), ("description", html.escape(paras(B)))],
    [("title", "Local file link"), ("link", "file:///etc/passwd"), ("guid", "daily-3"),
     ("pubDate", "Tue, 24 Nov 2026 22:20:00 GMT"), ("description", html.escape(paras(F)))],
]))
os.makedirs(os.path.join(OUT, "articles", "private"), exist_ok=True)
page = ("<!doctype html><html><head><title>Floods | The Daily</title><script>track()</script></head><body>"
        "<header><a href='/'>The Daily</a> <nav>News Sport Weather</nav></header>"
        "<main><article><h1>Floods: the full story</h1>%s</article></main>"
        "<aside>Most read: celebrity news</aside><footer>Copyright The Daily</footer></body></html>\n")
write("articles/floods.html", page % paras(A))
write("articles/private/rates.html", page % paras(B))
write("robots.txt", "# fixtures\nUser-agent: *\nDisallow: /articles/private/\n\nUser-agent: otherbot\nDisallow: /\n")
