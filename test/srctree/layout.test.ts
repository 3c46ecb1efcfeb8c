import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalHost } from '../../src/host/local.js';
import { inspectFiles, inspectTree } from '../../src/srctree/layout.js';
import { parseNewvers } from '../../src/srctree/release.js';
import { TREES } from '../patch/trees.js';

const host = new LocalHost();
const inspect = (name: string) => inspectTree(host, `${TREES}/${name}`);

describe('inspectTree', () => {
  it('14.3 with pci_passthru.c in usr.sbin/bhyve/Makefile: makefile-srcs', async () => {
    const t = await inspect('14.3-makefile-srcs');
    assert.deepEqual(t.release, { revision: '14.3', branch: 'RELEASE-p2', major: 14, minor: 3 });
    assert.equal(t.layout, 'makefile-srcs');
    assert.equal(t.srcsFile, 'usr.sbin/bhyve/Makefile');
    assert.equal(t.quirks.file, false);
    assert.equal(t.quirks.listed, false);
    assert.deepEqual(t.api, {
      hostReadConfig: 'pci_host_read_config',
      passthruDevSet: true,
      barHandler: undefined,
    });
    assert.equal(t.supported, true);
  });

  it('15.0 with pci_passthru.c in amd64/Makefile.inc: amd64-makefile-inc, upstream BAR handlers', async () => {
    const t = await inspect('15.0-amd64-makefile-inc');
    assert.equal(t.layout, 'amd64-makefile-inc');
    assert.equal(t.srcsFile, 'usr.sbin/bhyve/amd64/Makefile.inc');
    assert.equal(t.api.barHandler, 'upstream');
    assert.equal(t.release?.branch, 'RELEASE-p2');
    assert.equal(t.quirks.file, false);
  });

  it('split tree: amd64/Makefile.inc without pci_passthru.c, the top-level Makefile lists it', async () => {
    const t = await inspect('14.3-split');
    assert.equal(t.layout, 'split');
    assert.equal(t.srcsFile, 'usr.sbin/bhyve/Makefile');
    assert.equal(t.release?.branch, 'STABLE');
  });

  it('a quirks file with only a non-NVIDIA quirk: listed, no NVIDIA entry, no INTPIN', async () => {
    const t = await inspect('15.0-other-quirk');
    assert.equal(t.quirks.file, true);
    assert.equal(t.quirks.listed, true);
    assert.deepEqual(t.quirks.entries, ['example_nic']);
    assert.deepEqual(t.quirks.nvidiaEntries, []);
    assert.equal(t.quirks.setsIntpin, false);
  });

  it('INTPIN already set for NVIDIA display devices (vendor through a macro)', async () => {
    const t = await inspect('15.1-intpin-present');
    assert.deepEqual(t.quirks.nvidiaEntries, ['nvidia_gpu']);
    assert.equal(t.quirks.setsIntpin, true);
    assert.equal(t.quirks.configMirror, false);
  });

  it('Beckhoff nvidia-wip: config mirror, no INTPIN, Beckhoff BAR handler API', async () => {
    const t = await inspect('beckhoff-nvidia-wip');
    assert.equal(t.release?.branch, 'CURRENT');
    assert.deepEqual(t.quirks.nvidiaEntries, ['nvidia_gpu']);
    assert.equal(t.quirks.configMirror, true);
    assert.equal(t.quirks.setsIntpin, false);
    assert.equal(t.api.barHandler, 'beckhoff');
  });

  it('13.x tree without PASSTHRU_DEV_SET: not supported, with the reason', async () => {
    const t = await inspect('13.2-no-framework');
    assert.equal(t.api.passthruDevSet, false);
    assert.equal(t.api.hostReadConfig, 'read_config');
    assert.equal(t.supported, false);
    assert.match(t.reason ?? '', /13\.2-RELEASE-p11.*no passthru quirk framework/);
  });

  it('a directory that is not a source tree', async () => {
    const t = await inspect('diffs');
    assert.equal(t.supported, false);
    assert.equal(t.layout, 'unknown');
    assert.equal(t.release, undefined);
  });
});

describe('inspectFiles (pure)', () => {
  it('decides "already applied" from content, not from the file name', () => {
    const header =
      'struct passthru_dev { int x; };\n#define PASSTHRU_DEV_SET(x) DATA_SET(passthru_dev_set, x)\nuint32_t pci_host_read_config(const struct pcisel *sel, long reg, int width);\n';
    const quirks = `static int
gpu_probe(struct pci_devinst *pi)
{
	if (pci_host_read_config(passthru_get_sel(pi->pi_arg), PCIR_VENDOR, 2) != 0x10de)
		return (ENXIO);
	return (0);
}

static int
gpu_init(struct pci_devinst *pi, nvlist_t *nvl)
{
	/* pci_set_cfgdata8(pi, PCIR_INTPIN, 1); disabled */
	pci_set_cfgdata8(pi, PCIR_INTPIN, 0);
	return (0);
}

static struct passthru_dev gpu = { .probe = gpu_probe, .init = gpu_init };
PASSTHRU_DEV_SET(gpu);
`;
    const t = inspectFiles({
      'usr.sbin/bhyve/Makefile': 'SRCS=\tpci_emul.c pci_passthru.c pci_passthru_quirks.c\n',
      'usr.sbin/bhyve/pci_passthru.h': header,
      'usr.sbin/bhyve/pci_passthru_quirks.c': quirks,
    });
    assert.equal(t.layout, 'makefile-srcs');
    assert.equal(t.quirks.listed, true);
    assert.deepEqual(t.quirks.nvidiaEntries, ['gpu']);
    assert.equal(t.quirks.setsIntpin, false);
  });
});

describe('parseNewvers', () => {
  it('reads REVISION and BRANCH', () => {
    assert.deepEqual(parseNewvers('TYPE="FreeBSD"\nREVISION="16.0"\nBRANCH="CURRENT"\n'), {
      revision: '16.0',
      branch: 'CURRENT',
      major: 16,
      minor: 0,
    });
  });
  it('returns undefined without the lines', () => {
    assert.equal(parseNewvers('#!/bin/sh\n'), undefined);
    assert.equal(parseNewvers('REVISION="x"\nBRANCH="y"\n'), undefined);
  });
});
