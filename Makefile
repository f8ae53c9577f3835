# latchkey — see README.md. `make run` and `make test` are the two commands.
.SUFFIXES:
MAKEFLAGS += --no-print-directory

PREFIX   ?= /usr/local
SYSCONFDIR ?= $(PREFIX)/etc
PORT     ?= 8080
SERVER   ?= lighttpd
DB       ?= mariadb
PYTHON   ?= /usr/bin/python3
BUILD    ?= build
SAN      ?=

VERSION  := $(shell cat VERSION)
PKGS      = jansson liburiparser openssl zlib libmariadb libargon2 libcurl lmdb
CC        = gcc
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
ifeq ($(SAN),1)
OPT       = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
else
OPT       = -O2 -g -D_FORTIFY_SOURCE=2
endif
CFLAGS   += -std=gnu11 $(OPT) $(WARN) -fstack-protector-strong -fPIE \
            -Ilib $(shell pkg-config --cflags $(PKGS))
LDFLAGS  += $(if $(filter 1,$(SAN)),-fsanitize=address$(,)undefined) -pie -Wl,-z,relro,-z,now
LDLIBS    = $(shell pkg-config --libs $(PKGS)) -lfcgi
,        := ,

LIB_SRC   = $(wildcard lib/*/*.c)
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
PROGRAMS  = $(patsubst cgi-bin/%.c,$(BUILD)/bin/%.fcgi,$(wildcard cgi-bin/*.c))
CLI_SRC   = $(wildcard cli/*.c)
CLI       = $(BUILD)/bin/latchkey
POOL      = $(BUILD)/bin/latchkey-pool $(BUILD)/bin/latchkey-authorize $(BUILD)/bin/latchkey-deliver
UNIT      = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
MIGRATIONS = $(sort $(wildcard schema/*.sql))
FUZZERS   = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 30

.PHONY: all layers asan deps run test unit e2e fuzz bench install clean openapi openapi-lint man deb test-deb
all: layers $(BUILD)/liblatchkey.a $(PROGRAMS) $(CLI) $(POOL)

# Includes point down the layers of lib/ only (docs/design.md, "The house").
layers:
	@sh scripts/check-layers.sh

$(BUILD)/obj/%.o: %.c $(wildcard lib/*/*.h cli/*.h tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Made afresh: modules of two layers may share a name (model/keys.o, api/keys.o), and `ar r`
# would let the second replace the first in an existing archive.
$(BUILD)/liblatchkey.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%.fcgi: $(BUILD)/obj/cgi-bin/%.o $(BUILD)/liblatchkey.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The prefork pool, and latchkey-authorize: the pool running authorize.fcgi (found next to it here).
$(BUILD)/bin/latchkey-pool: $(BUILD)/obj/tools/latchkey-pool.o $(BUILD)/obj/tools/pool.o \
    $(BUILD)/liblatchkey.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The webhook delivery worker (docs/operations.md, "Webhooks").
$(BUILD)/bin/latchkey-deliver: $(BUILD)/obj/tools/latchkey-deliver.o $(BUILD)/liblatchkey.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/latchkey-authorize: tools/latchkey-authorize.in
	@mkdir -p $(dir $@)
	sed -e 's|@POOL@|"$$(dirname "$$0")/latchkey-pool"|' \
	    -e 's|@PROGRAM@|"$$(dirname "$$0")/authorize.fcgi"|' $< > $@
	chmod 755 $@

# The migrations are compiled into the CLI, so an installed `latchkey migrate` needs no data files.
$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh $(MIGRATIONS) > $@

# The version, from the one file that holds it (VERSION), is compiled into the CLI; so is
# DEFAULT_CONF, the config file the CLI reads without --config or LATCHKEY_CONF (the Debian
# package: /etc/latchkey/latchkey.conf; empty: none).
DEFAULT_CONF ?=
$(BUILD)/obj/cli/latchkey.o: CFLAGS += -DLK_VERSION='"$(VERSION)"' \
    $(if $(DEFAULT_CONF),-DLK_DEFAULT_CONF='"$(DEFAULT_CONF)"')
$(BUILD)/obj/cli/latchkey.o: VERSION

$(CLI): $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/gen/migrations.o $(BUILD)/liblatchkey.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblatchkey.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# The pool lives beside its only program, in tools/.
$(BUILD)/tests/test_pool: tests/unit/test_pool.c $(BUILD)/obj/tools/pool.o $(BUILD)/liblatchkey.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# ASan/UBSan builds of everything, in build/asan/.
asan:
	$(MAKE) BUILD=build/asan SAN=1 all

# libFuzzer harnesses (clang), each run FUZZ_SECONDS on its seed corpus in tests/fuzz/corpus/.
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*/*.h)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
	    $(shell pkg-config --cflags $(PKGS)) -o $@ $< $(LIB_SRC) $(LDLIBS)

fuzz:
	@command -v clang >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang
	$(MAKE) $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build/fuzz/work/$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s (log: build/fuzz/$$n.log)"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/work/$$n \
	        tests/fuzz/corpus/$${n#fuzz_} > build/fuzz/$$n.log 2>&1; then \
	        grep -E -A30 'ERROR|runtime error' build/fuzz/$$n.log; exit 1; fi; \
	    grep -E 'number_of_executed_units|new_units_added' build/fuzz/$$n.log; done

deps:
	@sh scripts/deps.sh

# Benchmarks (tests/bench/bench.py; not part of `make test`): BENCH_KEYS, BENCH_SECONDS,
# BENCH_SERVER (lighttpd,apache,apache-proxy). BENCH_DB=galera: instead, one plain MariaDB against
# a 3-node Galera cluster (tests/bench/galera.py: verify_hot, me, create + revoke).
bench: deps
	@command -v php-cgi >/dev/null && php-cgi -m 2>/dev/null | grep -q pdo_mysql || \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends php-cgi php-mysql
	$(MAKE) all
	$(PYTHON) tests/bench/$(if $(filter galera,$(BENCH_DB)),galera,bench).py

run: deps
	$(MAKE) all
	PORT=$(PORT) SERVER=$(SERVER) DB=$(DB) CACHE=$(CACHE) sh scripts/run.sh

unit: $(UNIT)
	@set -e; for t in $(UNIT); do $$t; done

# npm test tools, in build/npm (one npm at a time there: flock).
# axe-core for the admin console's accessibility checks (tests/e2e/test_admin_browser.py).
AXE = build/npm/node_modules/axe-core/axe.min.js
$(AXE):
	@mkdir -p build/npm
	flock build/npm/.lock npm install --prefix build/npm --no-audit --no-fund axe-core@4

# standardwebhooks (the reference library of the Standard Webhooks spec) verifies the signed
# deliveries in tests/e2e/test_webhooks.py (through tests/e2e/stdwh_verify.js). Pinned.
STDWH_VERSION = 1.3.0
STDWH = build/npm/node_modules/standardwebhooks/package.json
$(STDWH):
	@mkdir -p build/npm
	flock build/npm/.lock npm install --prefix build/npm --no-audit --no-fund \
	    standardwebhooks@$(STDWH_VERSION)

# @redocly/cli (needs Node.js >= 20.19) lints docs/openapi.yaml and renders it to docs/api.html,
# one self-contained page (--inlineBundle: no script from the network). Pinned: the rendering is
# compared byte for byte. No telemetry.
REDOCLY_VERSION = 2.77.0
REDOCLY_STAMP = build/npm/redocly-$(REDOCLY_VERSION).stamp
REDOCLY = REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true build/npm/node_modules/.bin/redocly
$(REDOCLY_STAMP):
	@mkdir -p build/npm
	flock build/npm/.lock npm install --prefix build/npm --no-audit --no-fund @redocly/cli@$(REDOCLY_VERSION)
	touch $@

openapi-lint: $(REDOCLY_STAMP)
	$(REDOCLY) lint --format=stylish docs/openapi.yaml

docs/api.html: docs/openapi.yaml $(REDOCLY_STAMP)
	$(REDOCLY) build-docs --inlineBundle -o $@ docs/openapi.yaml

# The description is lint-clean and docs/api.html is what it renders (else: make docs/api.html).
openapi: openapi-lint
	$(REDOCLY) build-docs --inlineBundle -o build/api.html docs/openapi.yaml >/dev/null 2>&1
	@cmp -s build/api.html docs/api.html || { echo "docs/api.html differs from what \
	docs/openapi.yaml renders: run make docs/api.html" >&2; exit 1; }

# The e2e files are spread over E2E_JOBS pytest-xdist workers, each with its own stack (MariaDB and
# the four servers on ports of its own): the suite mostly waits (on windows, timeouts, servers), so
# workers overlap those waits. A file runs whole on one worker. E2E_JOBS=1: one process, no xdist.
E2E_JOBS ?= 3
E2E_XDIST = $(if $(filter-out 1,$(E2E_JOBS)),-n $(E2E_JOBS) --dist loadfile,-p no:xdist)

e2e: asan $(AXE) $(STDWH)
	$(PYTHON) -m pytest -q -rs $(E2E_XDIST) tests/e2e

test: deps
	$(MAKE) layers
	$(MAKE) openapi
	$(MAKE) all
	$(MAKE) man
	$(MAKE) asan
	$(MAKE) BUILD=build/asan SAN=1 unit
	$(MAKE) e2e

# The man pages (man/, mdoc): mandoc -T lint without warnings, latchkey(1) and latchkey-pool(8)
# against the programs' help, latchkey.conf(5) against lib/base/conf.c's table, and VERSION
# against `latchkey --version`, debian/changelog and CHANGELOG.md (tests/man/check.py).
man: all
	$(PYTHON) tests/man/check.py

# The Debian package, with Debian's tooling (debian/): dpkg-buildpackage in a copy of the tree
# (its clean step empties build/), then lintian, whose errors fail the target. Result:
# build/deb/latchkey_VERSION_ARCH.deb (and the -dbgsym package, .changes, .buildinfo, lintian.txt).
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_SRC  = build/deb/src/latchkey-$(VERSION)
deb: deps
	rm -rf build/deb
	mkdir -p $(DEB_SRC)
	tar -cf - --exclude=./build --exclude=./var --exclude=./.git --exclude=__pycache__ \
	    --exclude=.pytest_cache . | tar -C $(DEB_SRC) -xf -
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	mv build/deb/src/*.deb build/deb/src/*.changes build/deb/src/*.buildinfo build/deb/
	rm -rf build/deb/src
	lintian --display-info --show-overrides \
	    build/deb/latchkey_$(VERSION)_$(DEB_ARCH).changes | tee build/deb/lintian.txt
	@echo "deb: build/deb/latchkey_$(VERSION)_$(DEB_ARCH).deb (lintian: build/deb/lintian.txt)"

# Installs the package on THIS machine as an administrator would (root only; tests/deb/): apt-get
# install, latchkey setup on a private MariaDB, Debian's Apache and lighttpd on spare ports,
# reinstall, purge. The system servers are left as found. .ci/run runs it after `make test`.
test-deb: deb
	@[ "$$(id -u)" = 0 ] || { echo "test-deb: run it as root (it installs the package)" >&2; exit 1; }
	$(PYTHON) -m pytest -q -rs tests/deb

# Where: PREFIX/bin the CLI; LIBEXECDIR latchkey-pool, latchkey-authorize and
# latchkey-render-config (default PREFIX/bin); PREFIX/lib/latchkey/cgi-bin the programs;
# PREFIX/share/latchkey the templates and the schema (for reading: the CLI carries it);
# SAMPLEDIR the commented samples (default SYSCONFDIR/latchkey, SYSCONFDIR=/etc for
# /etc/latchkey); MANDIR the man pages. The Debian package (debian/rules) sets
# LIBEXECDIR=/usr/lib/latchkey and SAMPLEDIR=/usr/share/doc/latchkey/examples.
LIBEXECDIR ?= $(PREFIX)/bin
SAMPLEDIR  ?= $(SYSCONFDIR)/latchkey
MANDIR     ?= $(PREFIX)/share/man
MAN1 = man/latchkey.1
MAN5 = man/latchkey.conf.5
MAN8 = man/latchkey-pool.8 man/latchkey-authorize.8
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/latchkey/cgi-bin \
	    $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(PREFIX)/share/latchkey/apache $(DESTDIR)$(PREFIX)/share/latchkey/lighttpd \
	    $(DESTDIR)$(SAMPLEDIR)
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/latchkey
	install -m 755 scripts/render-config $(DESTDIR)$(LIBEXECDIR)/latchkey-render-config
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/lib/latchkey/cgi-bin/
	install -m 755 $(BUILD)/bin/latchkey-pool $(DESTDIR)$(LIBEXECDIR)/latchkey-pool
	install -m 755 $(BUILD)/bin/latchkey-deliver $(DESTDIR)$(LIBEXECDIR)/latchkey-deliver
	sed -e 's|@POOL@|$(LIBEXECDIR)/latchkey-pool|' \
	    -e 's|@PROGRAM@|$(PREFIX)/lib/latchkey/cgi-bin/authorize.fcgi|' \
	    tools/latchkey-authorize.in > $(DESTDIR)$(LIBEXECDIR)/latchkey-authorize
	chmod 755 $(DESTDIR)$(LIBEXECDIR)/latchkey-authorize
	install -m 644 apache/*.in $(DESTDIR)$(PREFIX)/share/latchkey/apache/
	install -m 644 lighttpd/*.in $(DESTDIR)$(PREFIX)/share/latchkey/lighttpd/
	install -m 644 etc/latchkey.conf.sample $(DESTDIR)$(SAMPLEDIR)/
	sh scripts/render-config -o $(DESTDIR)$(SAMPLEDIR)/web.conf.sample \
	    etc/web.conf.sample.in PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) LIBEXECDIR=$(LIBEXECDIR)
	chmod 644 $(DESTDIR)$(SAMPLEDIR)/web.conf.sample
	install -d $(DESTDIR)$(PREFIX)/share/latchkey/lighttpd/errors
	install -m 644 lighttpd/errors/* $(DESTDIR)$(PREFIX)/share/latchkey/lighttpd/errors/
	install -d $(DESTDIR)$(PREFIX)/share/latchkey/schema
	install -m 644 $(MIGRATIONS) $(DESTDIR)$(PREFIX)/share/latchkey/schema/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf build
