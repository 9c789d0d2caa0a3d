# promtext-check.awk: a line grammar check of a Prometheus text exposition
# (format 0.0.4), standing in for `promtool check metrics`, which CI lacks.
# Prints "line N: why: text" for each problem and exits 1 if there was one.
# Checks: HELP/TYPE syntax and uniqueness, TYPE before samples, families not
# split, metric/label name syntax, label value escapes, duplicate labels and
# series, number syntax, histogram _bucket/_sum/_count with increasing le,
# non-decreasing counts, +Inf present and equal to _count.
BEGIN {
	NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*"
	LNAME = "^[a-zA-Z_][a-zA-Z0-9_]*"
	LVAL = "^\"([^\"\\\\]|\\\\[\\\\\"n])*\""
	NUM = "^(NaN|[+-]?Inf|[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?)$"
	TS = "^-?[0-9]+$"
	TYPES = " counter gauge histogram summary untyped "
	bad = 0
	cur = ""
	samples = 0
}

function fail(why) {
	printf "line %d: %s: %s\n", NR, why, $0
	bad = 1
}

function full(s, re) {
	return match(s, re) && RLENGTH == length(s)
}

# Lines of one family come together: entering a family again is an error.
function enter(name) {
	if (name == cur)
		return
	if (name in done)
		fail("family " name " is split")
	if (cur != "")
		done[cur] = 1
	cur = name
}

function lenum(s) {
	return s == "+Inf" ? 1e308 * 10 : s + 0
}

/^#/ {
	if ($0 !~ /^# (HELP|TYPE) /)
		next            # a plain comment
	if (!full($3, NAME)) {
		fail("bad metric name")
		next
	}
	if ($2 == "TYPE") {
		if (NF != 4 || index(TYPES, " " $4 " ") == 0)
			fail("bad TYPE line")
		if ($3 in typed)
			fail("second TYPE for " $3)
		if ($3 in sampled)
			fail("TYPE after samples of " $3)
		typed[$3] = $4
	} else {
		if ($3 in helped)
			fail("second HELP for " $3)
		helped[$3] = 1
		text = $0
		sub(/^# HELP [^ ]*/, "", text)
		gsub(/\\\\|\\n/, "", text)
		if (index(text, "\\") > 0)
			fail("bad escape in HELP")
	}
	enter($3)
	next
}

/^[ \t]*$/ { next }

{
	if (!match($0, NAME)) {
		fail("bad metric name")
		next
	}
	name = substr($0, 1, RLENGTH)
	rest = substr($0, RLENGTH + 1)
	labels = ""
	le = ""
	split("", lnames)
	if (substr(rest, 1, 1) == "{") {
		rest = substr(rest, 2)
		while (substr(rest, 1, 1) != "}") {
			if (!match(rest, LNAME)) {
				fail("bad label name")
				next
			}
			ln = substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
			if (substr(rest, 1, 1) != "=" || !match(substr(rest, 2), LVAL)) {
				fail("bad label value for " ln)
				next
			}
			lv = substr(rest, 3, RLENGTH - 2)
			rest = substr(rest, RLENGTH + 2)
			if (ln in lnames)
				fail("label " ln " twice")
			lnames[ln] = 1
			if (ln == "le")
				le = lv
			else
				labels = labels ln "=\"" lv "\","
			c = substr(rest, 1, 1)
			if (c == ",")
				rest = substr(rest, 2)
			else if (c != "}") {
				fail("expected , or } after label " ln)
				next
			}
		}
		rest = substr(rest, 2)
	}
	if (rest !~ /^[ \t]/) {
		fail("no value")
		next
	}
	n = split(rest, parts, /[ \t]+/)
	# split drops the leading blank as an empty first field
	v = parts[2]
	if (n < 2 || n > 3 || !full(v, NUM) || (n == 3 && !full(parts[3], TS))) {
		fail("bad value or timestamp")
		next
	}
	samples++

	# which family: a histogram's samples carry a suffix
	fam = name
	if (typed[cur] == "histogram" && (name == cur "_bucket" || name == cur "_sum" || name == cur "_count"))
		fam = cur
	enter(fam)
	sampled[fam] = 1
	series = name "{" labels "le=" le "}"
	if (series in seen)
		fail("duplicate series")
	seen[series] = 1
	if (typed[fam] != "histogram") {
		if (le != "" && typed[fam] != "" && typed[fam] != "untyped")
			fail("le label outside a histogram")
		next
	}
	key = fam "{" labels "}"
	if (name == fam "_bucket") {
		if (le == "") {
			fail("bucket without le")
			next
		}
		if (!full(le, NUM))
			fail("bad le value")
		if ((key in lastle) && lenum(le) <= lastle[key])
			fail("le not increasing")
		if ((key in lastcnt) && v + 0 < lastcnt[key])
			fail("bucket counts decreasing")
		lastle[key] = lenum(le)
		lastcnt[key] = v + 0
		if (le == "+Inf")
			inf[key] = v + 0
		hist[key] = 1
	} else if (name == fam "_count") {
		if (le != "")
			fail("le on _count")
		count[key] = v + 0
		hist[key] = 1
	} else if (name == fam "_sum") {
		if (le != "")
			fail("le on _sum")
		hist[key] = 1
	} else {
		fail("sample " name " in histogram " fam)
	}
}

END {
	for (key in hist) {
		if (!(key in inf)) {
			printf "histogram %s: no le=\"+Inf\" bucket\n", key
			bad = 1
		} else if (!(key in count) || count[key] != inf[key]) {
			printf "histogram %s: _count differs from the +Inf bucket\n", key
			bad = 1
		}
	}
	if (samples == 0) {
		print "no samples"
		bad = 1
	}
	exit bad
}
