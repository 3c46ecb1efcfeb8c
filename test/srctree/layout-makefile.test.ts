import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addToSrcsList, findSrcsLists } from '../../src/srctree/makefile.js';

describe('SRCS lists', () => {
  it('finds each assignment with its words', () => {
    const lists = findSrcsLists('SRCS=\t\\\n\ta.c\t\\\n\tb.c\n\nSRCS+=\tc.c d.c\nCFLAGS+=-DX\n');
    assert.deepEqual(
      lists.map((l) => l.words),
      [
        ['a.c', 'b.c'],
        ['c.c', 'd.c'],
      ],
    );
    assert.deepEqual([lists[0]?.startLine, lists[0]?.endLine], [0, 2]);
  });

  it('one word per line: tab indent, backslash at the list column (wide names get one tab)', () => {
    const text = 'SRCS+=\t\\\n\tpci_lpc.c\t\\\n\tpci_passthru.c\t\\\n\tpctestdev.c\t\\\n\tpm.c\n';
    const out = addToSrcsList(text, 'pci_passthru.c', 'pci_passthru_quirks.c');
    assert.equal(
      out,
      'SRCS+=\t\\\n\tpci_lpc.c\t\\\n\tpci_passthru.c\t\\\n\tpci_passthru_quirks.c\t\\\n\tpctestdev.c\t\\\n\tpm.c\n',
    );
  });

  it('keeps a wider column (32): tabs up to it, sorted place in a sorted list', () => {
    const text = 'SRCS=\t\\\n\tacpi.c\t\t\t\\\n\tpci_passthru.c\t\t\\\n\tpci_uart.c\t\t\\\n\txmsr.c\n';
    assert.match(
      addToSrcsList(text, 'pci_passthru.c', 'pci_pt.c') ?? '',
      /\tpci_passthru\.c\t\t\\\n\tpci_pt\.c\t\t\\\n\tpci_uart\.c/,
    );
    assert.match(
      addToSrcsList(text, 'pci_passthru.c', 'rtc.c') ?? '',
      /\tpci_uart\.c\t\t\\\n\trtc\.c\t\t\t\\\n\txmsr\.c\n/,
    );
  });

  it('an unsorted list: right after the anchor', () => {
    const text = 'SRCS=\t\\\n\tpci_passthru.c\t\t\\\n\txmsr.c\t\t\t\\\n\tacpi.c\n';
    assert.match(
      addToSrcsList(text, 'pci_passthru.c', 'zz.c') ?? '',
      /\tpci_passthru\.c\t\t\\\n\tzz\.c\t\t\t\\\n\txmsr\.c/,
    );
  });

  it('the anchor ends the list: it gains a backslash and the new word ends the list', () => {
    const text = 'SRCS+=\t\\\n\tpci_lpc.c\t\\\n\tpci_passthru.c\n\nX=1\n';
    const out = addToSrcsList(text, 'pci_passthru.c', 'pci_passthru_quirks.c');
    assert.equal(out, 'SRCS+=\t\\\n\tpci_lpc.c\t\\\n\tpci_passthru.c\t\\\n\tpci_passthru_quirks.c\n\nX=1\n');
  });

  it('several words per line: the word goes after its predecessor on that line', () => {
    const text =
      'SRCS=\tatpic.c consport.c\nSRCS+=\tpci_emul.c pci_hostbridge.c pci_passthru.c pci_virtio_block.c\n';
    const out = addToSrcsList(text, 'pci_passthru.c', 'pci_passthru_quirks.c');
    assert.equal(
      out,
      'SRCS=\tatpic.c consport.c\nSRCS+=\tpci_emul.c pci_hostbridge.c pci_passthru.c pci_passthru_quirks.c pci_virtio_block.c\n',
    );
  });

  it('unchanged when listed, undefined when no list holds the anchor', () => {
    const text = 'SRCS=\tpci_passthru.c pci_passthru_quirks.c\n';
    assert.equal(addToSrcsList(text, 'pci_passthru.c', 'pci_passthru_quirks.c'), text);
    assert.equal(addToSrcsList('SRCS=\ta.c\n', 'pci_passthru.c', 'x.c'), undefined);
  });
});
