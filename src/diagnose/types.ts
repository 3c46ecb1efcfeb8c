/** Where a signature's text appears. */
export type SignatureSource =
  | 'guest-kernel'
  | 'xorg'
  | 'nvidia-smi'
  | 'bhyve-stderr'
  | 'vm-bhyve-log'
  | 'host-dmesg'
  | 'windows';

export type Severity = 'error' | 'warning' | 'info';

/** One entry of the knowledge base (src/diagnose/kb/*.json). */
export interface Signature {
  id: string;
  /** Regular expression sources, in the subset shared by JavaScript and POSIX ERE (no \d, \s, (?:). */
  patterns: string[];
  /**
   * Literal strings: every line a pattern matches contains at least one of them (documentation; the
   * prefilter derives its anchors from the patterns themselves, src/diagnose/anchors.ts).
   */
  keywords: string[];
  sources: SignatureSource[];
  severity: Severity;
  title: string;
  explanation: string;
  fix: string[];
  rootCause: boolean;
  consequenceOf: string[];
  references: string[];
  /** Real lines this signature must match (checked by the tests). */
  examples: string[];
  /** Name of a decoder in nvidia-codes/decode (e.g. "rm-init-adapter", "xid"). */
  decode?: string | undefined;
  /**
   * The fix as argv templates, in order. Placeholders in braces ({gpu}, {vm}, {src}) are filled from
   * what diagnose knows (its --gpu/--vm/--src options or the host); see Finding.commands.
   */
  commands?: string[][] | undefined;
  /** Why no command fixes this, when `commands` is absent. */
  noCommand?: string | undefined;
  /** The catalog entry (src/diagnose/catalog) this signature was derived from. */
  catalog?: string | undefined;
}

/** The kind of log an input looks like, from its first lines. */
export type InputKind =
  | 'journal'
  | 'dmesg'
  | 'dmesg-ctime'
  | 'dmesg-raw'
  | 'talos'
  | 'vm-bhyve-log'
  | 'bhyve-stderr'
  | 'nvidia-smi'
  | 'xorg'
  | 'lspci'
  // Windows guest captures (src/diagnose/windows.ts)
  | 'windows-check'
  | 'windows-pnp-json'
  | 'pnputil'
  | 'unknown';

export interface Evidence {
  file: string;
  /** 1-based line number of the first occurrence. */
  line: number;
  /** The line with its log prefix (timestamp, host, facility) removed. */
  text: string;
  /** How many lines had this same text (only when more than one). */
  count?: number;
}

export interface Finding {
  id: string;
  severity: Severity;
  title: string;
  /** False when another finding explains this one (see the signature's consequenceOf). */
  rootCause: boolean;
  /** Ids of other findings in the same report that explain this one. */
  causedBy?: string[] | undefined;
  evidence: Evidence[];
  /** Lines that matched in all, including those not kept as evidence. */
  occurrences: number;
  explanation: string;
  /** Fix steps, commands where possible (empty when there is nothing to do). */
  fix: string[];
  /** The fix as argv arrays, run in order, with what is known filled in (see Signature.commands). */
  commands?: string[][] | undefined;
  /** Why no command fixes this. */
  noCommand?: string | undefined;
  /**
   * Placeholders left in `commands` because diagnose was not told their value ({gpu}: pass --gpu, {vm}:
   * pass --vm); each names what to put there.
   */
  placeholders?: Record<string, string> | undefined;
  decoded?: Decoded | undefined;
}

/** What a decoder read out of the first matching line. */
export type Decoded = Record<string, string | number | string[] | undefined>;

export interface InputSummary {
  name: string;
  kind: InputKind;
  lines: number;
}

export interface DiagnoseReport {
  schemaVersion: number;
  findings: Finding[];
  inputs: InputSummary[];
  /** What the logs themselves say about where they come from (hypervisor, DMI), when they say it. */
  environment?: Environment | undefined;
}

/** Where the logged system runs, read from the log lines (never assumed). */
export interface Environment {
  /** bhyve, kvm, vmware, xen, hyperv, qemu, virtualbox, bare-metal or unknown. */
  platform: string;
  /** The lines that said so (file:line: text). */
  evidence: string[];
}

/** Values that fill the {gpu}, {vm}, {src} placeholders of signature commands. */
export interface CommandContext {
  gpu?: string | undefined;
  vm?: string | undefined;
  src?: string | undefined;
}
