import type { InputKind } from './types.js';

/**
 * Log prefixes: every format the engine reads puts a timestamp / host / facility in front of the message.
 * Matching happens on the message alone, so one pattern serves dmesg, journalctl and syslog copies.
 */
const QUOTE = /^(?:> ?)+/;
const KMSG_LEVEL = /^<[0-7]>/;
const TALOS = /^[a-z]+: *[a-z]+: \[[0-9TZ:.+-]+\]: /;
const DMESG_FACILITY = /^[a-z]+ *:[a-z]+ *: /;
const VM_BHYVE = /^\S+ +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}: ?/;
const JOURNAL =
  /^[A-Z][a-z]{2} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? \S+ [^\s:]+?(?:\[[0-9]+\])?: /;
const JOURNAL_ISO = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.,+-]+ \S+ [^\s:]+?(?:\[[0-9]+\])?: /;
// dmesg, and dmesg -H / --reltime: "[  +0.000421] " after its first "[Nov30 09:04] " line
const DMESG_TIME = /^\[ *\+?[0-9]+\.[0-9]+\] ?/;
const DMESG_HUMAN = /^\[[A-Z][a-z]{2}[ 0-9][0-9] [0-9]{2}:[0-9]{2}\] ?/;
/** A bare "kernel: " left when a syslog / journal line is pasted without its date and host. */
const KERNEL_TAG = /^kernel: /;
const DMESG_CTIME = /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}\] ?/;

/** The message part of a log line (prefixes and surrounding blanks removed). */
export function stripPrefix(line: string): string {
  let s = line.trim();
  if (s.length === 0) return s;
  const c = s.charCodeAt(0);
  if (c === 62 /* > */) s = s.replace(QUOTE, '');
  if (s.charCodeAt(0) === 60 /* < */) s = s.replace(KMSG_LEVEL, '');
  if (TALOS.test(s)) s = s.replace(TALOS, '');
  else if (DMESG_FACILITY.test(s)) s = s.replace(DMESG_FACILITY, '');
  else if (VM_BHYVE.test(s)) s = s.replace(VM_BHYVE, '');
  else if (JOURNAL.test(s)) s = s.replace(JOURNAL, '');
  else if (JOURNAL_ISO.test(s)) s = s.replace(JOURNAL_ISO, '');
  else if (s.startsWith('kernel: ')) s = s.replace(KERNEL_TAG, '');
  if (s.charCodeAt(0) === 91 /* [ */)
    s = s.replace(DMESG_TIME, '').replace(DMESG_CTIME, '').replace(DMESG_HUMAN, '');
  return s.trimStart();
}

const KIND_TESTS: [InputKind, RegExp][] = [
  ['talos', TALOS],
  ['vm-bhyve-log', VM_BHYVE],
  ['journal', JOURNAL],
  ['journal', JOURNAL_ISO],
  ['xorg', /^\[ *[0-9]+\.[0-9]+\] \([A-Z!?=*-]{2}\) /],
  ['dmesg', DMESG_TIME],
  ['dmesg-ctime', DMESG_CTIME],
  ['dmesg', DMESG_HUMAN],
  // the table, and nvidia-smi -q: its banner and top-level keys (a padded name, then ": ")
  [
    'nvidia-smi',
    /^(\| NVIDIA-SMI |\+-{10,}|No devices were found|NVIDIA-SMI has failed|=+NVSMI LOG=+$|(Timestamp|Driver Version|CUDA Version|Attached GPUs) {2,}: |GPU [0-9A-Fa-f]{8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]$)/,
  ],
  ['bhyve-stderr', /^(bhyve: |Assertion failed: |[Dd]evice emulation initiali[sz]ation error)/],
  ['lspci', /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] [A-Z]/],
  ['dmesg-raw', /^(NVRM: |\[drm|[a-z0-9_-]+ [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: |[a-z0-9_-]+: )/],
];

/** Guess what an input is from its first lines (quoted lines are read without the quote marks). */
export function detectKind(lines: string[]): InputKind {
  const votes = new Map<InputKind, number>();
  for (const raw of lines) {
    const line = raw.replace(QUOTE, '').trimEnd();
    if (line.trim() === '') continue;
    const hit = KIND_TESTS.find(([, re]) => re.test(line));
    if (hit) votes.set(hit[0], (votes.get(hit[0]) ?? 0) + 1);
  }
  let best: InputKind = 'unknown';
  let bestVotes = 0;
  for (const [kind, n] of votes) {
    if (n > bestVotes) {
      best = kind;
      bestVotes = n;
    }
  }
  if (best === 'dmesg' && (votes.get('xorg') ?? 0) > bestVotes / 2) return 'xorg';
  return best;
}
