import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeRmInitAdapter,
  decodeXid,
  nvStatusName,
  nvStatusTable,
  parseRmInitAdapter,
  rmInitStage,
} from '../../src/diagnose/nvidia-codes.js';

describe('RmInitAdapter decoding', () => {
  it('decodes the Tesla P4 failure in bhyve as VBIOS POST / generic error', () => {
    const d = decodeRmInitAdapter(0x31, 0xffff, 2767);
    assert.equal(d.stage.name, 'RM_INIT_VBIOS_POST_FAILED');
    assert.equal(d.status.name, 'NV_ERR_GENERIC');
    assert.equal(d.line, 2767);
    assert.ok(d.stage.causes.some((c) => c.includes('0x88000')));
    assert.ok(d.stage.causes.some((c) => c.includes('rom=')));
    assert.ok(d.stage.causes.some((c) => c.includes('Above-4G')));
  });

  it('reads the interrupt self-test failure as an interrupt delivery problem', () => {
    const d = decodeRmInitAdapter(0x11, 0x45, 1000);
    assert.equal(d.stage.name, 'RM_INIT_SYS_ENVIRONMENT_FAILED');
    assert.equal(d.status.name, 'NV_ERR_IRQ_NOT_FIRING');
    assert.match(d.stage.causes[0] ?? '', /interrupt delivery/);
  });

  it('names the attach stage and 0x56 as NV_ERR_NOT_SUPPORTED', () => {
    const d = decodeRmInitAdapter(0x22, 0x56, 894);
    assert.equal(d.stage.name, 'RM_INIT_GPU_GPUMGR_ATTACH_GPU_FAILED');
    assert.equal(d.status.name, 'NV_ERR_NOT_SUPPORTED');
    assert.ok(d.stage.causes.some((c) => c.includes('0x56')));
  });

  it('covers the pre-init stage and parses the printed form', () => {
    const d = parseRmInitAdapter('NVRM: GPU 0000:00:08.0: RmInitAdapter failed! (0x23:0xffff:1496)');
    assert.equal(d?.stage.name, 'RM_INIT_GPU_PRE_INIT_FAILED');
    assert.equal(d?.status.code, 0xffff);
    assert.equal(d?.line, 1496);
    assert.equal(parseRmInitAdapter('RmInitAdapter failed! (garbage)'), undefined);
  });

  it('keeps unknown numbers readable instead of failing', () => {
    assert.match(rmInitStage(0x7f).name, /unknown stage 0x7f/);
    assert.match(nvStatusName(0x12345), /unknown NV_STATUS 0x12345/);
  });

  it('carries the full NV_STATUS table from nvstatuscodes.h', () => {
    const t = nvStatusTable();
    assert.ok(t.size >= 140);
    assert.equal(t.get(0), 'NV_OK');
    assert.equal(t.get(0x5), 'NV_ERR_CARD_NOT_PRESENT');
    assert.equal(t.get(0x40), 'NV_ERR_INVALID_STATE');
    assert.equal(t.get(0x46), 'NV_ERR_IRQ_EDGE_TRIGGERED');
    assert.equal(t.get(0x61), 'NV_ERR_REJECTED_VBIOS');
    assert.equal(t.get(0x10009), 'NV_WARN_THRESHOLD_CROSSED');
  });
});

describe('Xid decoding', () => {
  it('knows the common Xids', () => {
    assert.equal(decodeXid(79).name, 'GPU has fallen off the bus');
    assert.equal(decodeXid(13).name, 'Graphics Engine Exception');
    assert.equal(decodeXid(31).name, 'GPU memory page fault');
    assert.equal(decodeXid(48).name, 'Double Bit ECC Error');
    assert.equal(decodeXid(119).name, 'GSP RPC Timeout');
    for (const n of [32, 43, 45, 61, 62, 63, 64, 68, 69, 74, 92, 94, 95, 120])
      assert.doesNotMatch(decodeXid(n).meaning, /not in the built-in/, `Xid ${n}`);
  });

  it('answers an unknown Xid without throwing', () => {
    assert.match(decodeXid(9999).meaning, /not in the built-in Xid table/);
  });
});
