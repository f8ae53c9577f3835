#!/bin/sh
# check-layers.sh — the layering of lib/ (docs/design.md, "The house"), kept by the build:
# every #include "…" in lib/, cgi-bin/, cli/ and tools/ must name a header of its own layer
# or of one below. Prints file:line and the rule for each that does not; exits 1 if any.
cd "$(dirname "$0")/.." || exit 2
exec awk '
BEGIN {
	may["base"] = "base"
	may["http"] = "base http"		# http and model never see each other:
	may["model"] = "base model"		# data modules know nothing of HTTP
	may["api"] = "base http model api"
	may["console"] = "base http model api console"
	may["cli"] = "base model"		# the CLI has no request
	may["cgi-bin"] = may["tools"] = "base http model api console"
}
FNR == 1 {
	n = split(FILENAME, part, "/")
	from = part[1] == "lib" ? part[2] : part[1]
}
/^#include "/ {
	inc = $0
	sub(/^#include "/, "", inc)
	sub(/".*/, "", inc)
	if (index(inc, "/") == 0) {
		if (part[1] != "lib")
			next			# a header of its own folder (cli/cli.h, tools/pool.h)
		to = "(no layer)"
	} else
		to = substr(inc, 1, index(inc, "/") - 1)
	if (index(" " may[from] " ", " " to " ") == 0) {
		printf "%s:%d: includes \"%s\": %s may include only %s\n", FILENAME, FNR, inc,
		    from, may[from]
		bad = 1
	}
}
END {
	if (bad)
		print "check-layers: an include points up a layer or sideways (docs/design.md)"
	exit bad
}' lib/*/*.[ch] cgi-bin/*.c cli/*.[ch] tools/*.[ch]
