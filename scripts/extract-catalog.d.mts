/** Types of what scripts/extract-catalog.mjs exports (for the tests). */
export interface CallSpec {
  name: string;
  level?: string;
  levelArg?: number;
  fmtArg: number;
  prefix?: string;
  suffix?: string;
  needArg0?: string;
}
export declare const CALLS: { nvidia: CallSpec[]; bhyve: CallSpec[]; kernel: CallSpec[] };
export declare function formatJson(value: unknown): string;
