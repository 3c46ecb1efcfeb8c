import { assetText } from '../assets.js';

/**
 * Decoding of the numbers the NVIDIA Linux driver prints. Stage numbers are the `rm_init_status` enum of
 * osinit.c and status codes the NV_STATUS table of nvstatuscodes.h, both from NVIDIA's
 * open-gpu-kernel-modules (the status table is carried in kb/nv-status.json). Xid meanings follow NVIDIA's
 * published Xid catalogue.
 */

export interface RmInitStage {
  code: number;
  name: string;
  meaning: string;
  causes: string[];
}

export interface RmInitDecoded {
  stage: RmInitStage;
  status: { code: number; name: string };
  /** Source line in the driver build that failed: only meaningful for that one driver version. */
  line: number;
  summary: string;
}

const VBIOS_CAUSES = [
  'first candidate on bhyve: the guest reads PCI config space through the BAR0 mirror at BAR0+0x88000 and sees the host values; the nvidia-mirror quirk emulates it (upstream has not established that this is the cause of 0x31)',
  'second: the driver detects the hypervisor and takes another path; the hide-hypervisor quirk hides it (hw.vmm.hide_hypervisor=1)',
  'third: the option ROM is not reachable in the guest: pass a dumped VBIOS with the passthru rom= option',
  'also possible: host firmware state (GPU not POSTed by the host, Above-4G decoding off) or a hardware fault (try the card on bare metal)',
];

const STAGES: RmInitStage[] = [
  stage(0x00, 'RM_INIT_OK', 'no failure'),
  stage(0x10, 'RM_INIT_REG_SETUP_FAILED', 'registry/OS setup failed', [
    'driver parameters (NVreg_*) or a broken install',
  ]),
  stage(
    0x11,
    'RM_INIT_SYS_ENVIRONMENT_FAILED',
    'system environment check failed (with NV_ERR_IRQ_NOT_FIRING: the interrupt self-test never saw the GPU interrupt)',
    [
      'interrupt delivery is broken: INTx/MSI from the passed-through GPU does not reach the guest',
      'check that the INTPIN quirk is active and MSI is enabled in the guest (lspci -v: MSI Enable+)',
    ],
  ),
  stage(0x20, 'RM_INIT_GPU_GPUMGR_ALLOC_GPU_FAILED', 'GPU manager could not allocate the GPU object'),
  stage(0x21, 'RM_INIT_GPU_GPUMGR_CREATE_DEV_FAILED', 'GPU manager could not create the device'),
  stage(
    0x22,
    'RM_INIT_GPU_GPUMGR_ATTACH_GPU_FAILED',
    'attaching the GPU failed (BAR mapping / chip identification)',
    [
      'the GPU is not accessible: power state (D3cold), fallen off the bus, or a BAR that is not mapped',
      'with NV_ERR_NOT_SUPPORTED (0x56): the driver does not support this chip or this board (wrong driver branch, unsupported or modified card)',
    ],
  ),
  stage(0x23, 'RM_INIT_GPU_PRE_INIT_FAILED', 'GPU pre-initialisation failed', [
    'first candidate on bhyve: the GPU state read at pre-init comes from the config-space mirror at BAR0+0x88000: the nvidia-mirror quirk',
    'second: hypervisor detection: the hide-hypervisor quirk (hw.vmm.hide_hypervisor=1)',
  ]),
  stage(0x24, 'RM_INIT_GPU_STATE_INIT_FAILED', 'GPU state initialisation failed', [
    'BAR1 not assigned or too small, missing power cables, GPU firmware',
  ]),
  stage(0x25, 'RM_INIT_GPU_LOAD_FAILED', 'GPU state load failed'),
  stage(
    0x26,
    'RM_INIT_GPU_DMA_CONFIGURATION_FAILED',
    'DMA configuration failed (in older driver branches 0x26 is RM_INIT_GPU_UNIVERSAL_VALIDATION_FAILED)',
    ['DMA address width / IOMMU setup of the guest'],
  ),
  stage(
    0x27,
    'RM_INIT_GPU_GPUMGR_EXPANDED_VISIBILITY_FAILED',
    'expanded GPU visibility failed (in older driver branches 0x27 is RM_INIT_GPU_DMA_CONFIGURATION_FAILED)',
  ),
  stage(0x30, 'RM_INIT_VBIOS_FAILED', 'the VBIOS image could not be read or failed validation', VBIOS_CAUSES),
  stage(0x31, 'RM_INIT_VBIOS_POST_FAILED', 'the VBIOS was found but POSTing the GPU failed', VBIOS_CAUSES),
  stage(0x32, 'RM_INIT_VBIOS_X86EMU_FAILED', 'running the VBIOS in the x86 emulator failed', VBIOS_CAUSES),
  stage(0x40, 'RM_INIT_SCALABILITY_FAILED', 'SLI/scalability initialisation failed'),
  stage(0x41, 'RM_INIT_WATCHDOG_FAILED', 'watchdog initialisation failed'),
  stage(0x42, 'RM_FIFO_GET_UD_BAR1_MAP_INFO_FAILED', 'BAR1 mapping information could not be read', [
    'BAR1 not mapped: 64-bit MMIO window too small',
  ]),
  stage(0x43, 'RM_GPUDB_REGISTER_FAILED', 'registering the GPU in the GPU database failed'),
  stage(0x44, 'RM_INIT_ALLOC_RMAPI_FAILED', 'RM API allocation failed'),
  stage(0x45, 'RM_INIT_GPUINFO_WITH_RMAPI_FAILED', 'reading GPU information through the RM API failed'),
  stage(0x60, 'RM_INIT_FIRMWARE_POLICY_FAILED', 'GSP firmware policy check failed'),
  stage(0x61, 'RM_INIT_FIRMWARE_FETCH_FAILED', 'GSP firmware could not be loaded from disk', [
    'install the firmware package of the driver (gsp_*.bin)',
  ]),
  stage(
    0x62,
    'RM_INIT_FIRMWARE_INIT_FAILED',
    'GSP firmware initialisation failed (in branches with a validation step 0x62 is RM_INIT_FIRMWARE_VALIDATION_FAILED)',
    ['try NVreg_EnableGpuFirmware=0 with the proprietary module, or a different driver branch'],
  ),
  stage(
    0x63,
    'RM_INIT_FIRMWARE_INIT_FAILED',
    'GSP firmware initialisation failed (driver branches with a validation step)',
  ),
];

function stage(code: number, name: string, meaning: string, causes: string[] = []): RmInitStage {
  return { code, name, meaning, causes };
}

interface StatusTable {
  codes: { code: number; name: string }[];
}
let statusByCode: Map<number, string> | undefined;

/** Every NV_STATUS code and name (from kb/nv-status.json). */
export function nvStatusTable(): Map<number, string> {
  if (statusByCode === undefined) {
    const table = JSON.parse(assetText('diagnose/kb/nv-status.json')) as StatusTable;
    statusByCode = new Map(table.codes.map((c) => [c.code, c.name]));
  }
  return statusByCode;
}

export function nvStatusName(code: number): string {
  return nvStatusTable().get(code) ?? `unknown NV_STATUS 0x${code.toString(16)}`;
}

export function rmInitStage(code: number): RmInitStage {
  return (
    STAGES.find((s) => s.code === code) ?? {
      code,
      name: `unknown stage 0x${code.toString(16)}`,
      meaning: 'not in the rm_init_status table of the driver sources',
      causes: [],
    }
  );
}

/** Decode `RmInitAdapter failed! (A:B:C)`: A stage, B NV_STATUS, C driver source line. */
export function decodeRmInitAdapter(a: number, b: number, c: number): RmInitDecoded {
  const base = rmInitStage(a);
  const status = { code: b, name: nvStatusName(b) };
  let causes = base.causes;
  if (a === 0x11 && b === 0x45) causes = base.causes.slice(0, 2);
  else if (a === 0x22 && b !== 0x56) causes = base.causes.slice(0, 1);
  const summary = `${base.name} (0x${a.toString(16)}), ${status.name} (0x${b.toString(16)}), driver line ${c}`;
  return { stage: { ...base, causes }, status, line: c, summary };
}

/** Parse the three numbers of `(0x31:0xffff:2767)`; undefined when the text has none. */
export function parseRmInitAdapter(text: string): RmInitDecoded | undefined {
  const m = /RmInitAdapter failed! \((0x[0-9a-fA-F]+):(0x[0-9a-fA-F]+):([0-9]+)\)/.exec(text);
  if (!m) return undefined;
  return decodeRmInitAdapter(
    Number.parseInt(m[1] as string, 16),
    Number.parseInt(m[2] as string, 16),
    Number.parseInt(m[3] as string, 10),
  );
}

export interface XidDecoded {
  xid: number;
  name: string;
  meaning: string;
}

let xidTable: Map<number, XidDecoded> | undefined;

/** Meaning of an Xid number (NVIDIA's published catalogue, carried in kb/xid.json). */
export function decodeXid(n: number): XidDecoded {
  if (xidTable === undefined) {
    const data = JSON.parse(assetText('diagnose/kb/xid.json')) as {
      xids: XidDecoded[];
    };
    xidTable = new Map(data.xids.map((x) => [x.xid, x]));
  }
  return (
    xidTable.get(n) ?? {
      xid: n,
      name: `Xid ${n}`,
      meaning: "not in the built-in Xid table: see NVIDIA's Xid catalogue",
    }
  );
}
