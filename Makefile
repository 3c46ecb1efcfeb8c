# Install bhyve-gpu like a FreeBSD tool: the single-file bundle as bin/bhyve-gpu, the man page, shell
# completions and the daily periodic(8) check. Works with BSD make (FreeBSD's make, Debian's bmake) and
# GNU make. The bundle comes from `npm run bundle` in a checkout, or ready-made in a release tarball
# (`make dist`), which is what the sysutils/bhyve-gpu port builds from; installing needs no npm.
#
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage] [NODE=/usr/local/bin/node]
#   make uninstall [PREFIX=...] [DESTDIR=...]
#   make dist                 # bhyve-gpu-VERSION.tar.gz, the port's distfile

PREFIX?=	/usr/local
DESTDIR?=
BINDIR?=	$(PREFIX)/bin
MAN8DIR?=	$(PREFIX)/share/man/man8
BASHCOMPDIR?=	$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR?=	$(PREFIX)/share/zsh/site-functions
DATADIR?=	$(PREFIX)/share/bhyve-gpu
PERIODICDIR?=	$(PREFIX)/etc/periodic/daily
# The node that runs bin/bhyve-gpu, written into its first line: an absolute path, because cron (and so
# periodic) runs with a PATH that has no /usr/local/bin.
NODE_FOUND!=	command -v node 2>/dev/null || echo /usr/local/bin/node
NODE?=		$(NODE_FOUND)
# Where `npm run bundle` wrote the bundle and the completions.
DIST?=		dist
STAGE=		$(DIST)/install
VERSION!=	sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json
DISTNAME=	bhyve-gpu-$(VERSION)
INSTALL?=	install

all: $(DIST)/bhyve-gpu.mjs

$(DIST)/bhyve-gpu.mjs:
	@echo "$(DIST)/bhyve-gpu.mjs is missing: run 'npm ci && npm run bundle' first (a release tarball has it)" >&2
	@exit 1

install: all
	mkdir -p $(STAGE)
	sed '1s|^#!.*|#!$(NODE)|' $(DIST)/bhyve-gpu.mjs > $(STAGE)/bhyve-gpu
	gzip -9 -n -c docs/bhyve-gpu.8 > $(STAGE)/bhyve-gpu.8.gz
	sed -e 's|%%PREFIX%%|$(PREFIX)|g' -e 's|%%NODE%%|$(NODE)|g' packaging/periodic/bhyve-gpu.in > $(STAGE)/495.bhyve-gpu
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN8DIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(PERIODICDIR)
	$(INSTALL) -m 0555 $(STAGE)/bhyve-gpu $(DESTDIR)$(BINDIR)/bhyve-gpu
	$(INSTALL) -m 0444 $(STAGE)/bhyve-gpu.8.gz $(DESTDIR)$(MAN8DIR)/bhyve-gpu.8.gz
	$(INSTALL) -m 0444 $(DIST)/completions/bhyve-gpu.bash $(DESTDIR)$(BASHCOMPDIR)/bhyve-gpu
	$(INSTALL) -m 0444 $(DIST)/completions/_bhyve-gpu $(DESTDIR)$(ZSHCOMPDIR)/_bhyve-gpu
	$(INSTALL) -m 0444 $(DIST)/completions/bhyve-gpu.tcsh $(DESTDIR)$(DATADIR)/bhyve-gpu.tcsh
	$(INSTALL) -m 0555 $(STAGE)/495.bhyve-gpu $(DESTDIR)$(PERIODICDIR)/495.bhyve-gpu

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/bhyve-gpu $(DESTDIR)$(MAN8DIR)/bhyve-gpu.8.gz
	rm -f $(DESTDIR)$(BASHCOMPDIR)/bhyve-gpu $(DESTDIR)$(ZSHCOMPDIR)/_bhyve-gpu
	rm -f $(DESTDIR)$(DATADIR)/bhyve-gpu.tcsh $(DESTDIR)$(PERIODICDIR)/495.bhyve-gpu
	-rmdir $(DESTDIR)$(DATADIR)

# The release tarball: what `make install` needs and nothing else (no node_modules, no sources).
dist: all
	rm -rf $(DIST)/$(DISTNAME)
	mkdir -p $(DIST)/$(DISTNAME)/dist/completions $(DIST)/$(DISTNAME)/docs $(DIST)/$(DISTNAME)/packaging/periodic
	cp Makefile package.json README.md $(DIST)/$(DISTNAME)/
	cp $(DIST)/bhyve-gpu.mjs $(DIST)/$(DISTNAME)/dist/
	cp $(DIST)/completions/bhyve-gpu.bash $(DIST)/completions/_bhyve-gpu $(DIST)/completions/bhyve-gpu.tcsh $(DIST)/$(DISTNAME)/dist/completions/
	cp docs/bhyve-gpu.8 docs/install.md $(DIST)/$(DISTNAME)/docs/
	cp packaging/periodic/bhyve-gpu.in $(DIST)/$(DISTNAME)/packaging/periodic/
	tar -C $(DIST) -czf $(DIST)/$(DISTNAME).tar.gz $(DISTNAME)
	rm -rf $(DIST)/$(DISTNAME)
	@echo "wrote $(DIST)/$(DISTNAME).tar.gz"

.PHONY: all install uninstall dist
