import { z } from 'zod';
import { assetText } from '../assets.js';
import { ToolError } from '../errors.js';
import { signatureAnchors } from './anchors.js';
import { catalogSignatures } from './catalog.js';
import type { Signature } from './types.js';

/** The knowledge-base files, in ranking order (earlier signatures win ties). */
export const KB_FILES = ['guest.json', 'host.json'] as const;

const SOURCES = [
  'guest-kernel',
  'xorg',
  'nvidia-smi',
  'bhyve-stderr',
  'vm-bhyve-log',
  'host-dmesg',
  'windows',
] as const;

export const DECODERS = ['rm-init-adapter', 'xid', 'driver-version', 'bhyve-exit', 'driver-release'] as const;

const signatureSchema = z
  .object({
    id: z.string().regex(/^(guest|host|xorg)\.[a-z0-9-]+(\.[a-z0-9-]+)*$/),
    patterns: z.array(z.string().min(1)).min(1),
    keywords: z.array(z.string().min(3)).min(1),
    sources: z.array(z.enum(SOURCES)).min(1),
    severity: z.enum(['error', 'warning', 'info']),
    title: z.string().min(1),
    explanation: z.string().min(1),
    fix: z.array(z.string().min(1)),
    rootCause: z.boolean(),
    consequenceOf: z.array(z.string()),
    references: z.array(z.string()),
    examples: z.array(z.string().min(1)).min(1),
    decode: z.enum(DECODERS).optional(),
    commands: z.array(z.array(z.string().min(1)).min(1)).optional(),
    noCommand: z.string().min(1).optional(),
  })
  .strict();

export const knowledgeBaseFileSchema = z.object({ signatures: z.array(signatureSchema) }).strict();

/** Regex features outside the subset JavaScript and POSIX ERE (grep -E) read the same way. */
const NOT_PORTABLE = /\(\?|\\[dDsSwWbB]|\\[0-9]|\{,/;

/**
 * Everything a schema cannot say: patterns compile, are portable and have anchors, ids resolve, and (unless
 * `examples` is false) every example is matched and holds a keyword and an anchor of the pattern that
 * matches it. Loading the bundled knowledge base skips the examples (running ~600 regexes over their
 * examples costs more than the rest of the load): the tests check them.
 */
export function checkSignatures(signatures: Signature[], { examples = true } = {}): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const s of signatures) {
    if (ids.has(s.id)) problems.push(`${s.id}: duplicate id`);
    ids.add(s.id);
  }
  for (const s of signatures) {
    const compiled = s.patterns.map((p) => {
      if (NOT_PORTABLE.test(p)) problems.push(`${s.id}: pattern ${p} uses a feature grep -E lacks`);
      try {
        return new RegExp(p);
      } catch (e) {
        problems.push(`${s.id}: pattern ${p} does not compile: ${(e as Error).message}`);
        return undefined;
      }
    });
    const regexes = compiled.filter((r) => r !== undefined);
    // The prefilter's anchors: each pattern needs a literal that every match holds, and an example a
    // pattern matches must hold one of that pattern's anchors (else the prefilter would skip the line).
    const anchors = s.patterns.map((p) => {
      try {
        return signatureAnchors(s.id, [p]);
      } catch (e) {
        problems.push((e as Error).message);
        return [];
      }
    });
    for (const ex of examples ? s.examples : []) {
      compiled.forEach((r, k) => {
        const own = anchors[k] ?? [];
        if (r?.test(ex) && own.length > 0 && !own.some((a) => ex.includes(a)))
          problems.push(
            `${s.id}: example holds none of the anchors ${JSON.stringify(own)} of ${r.source}: ${ex}`,
          );
      });
      if (!regexes.some((r) => r.test(ex))) problems.push(`${s.id}: example not matched: ${ex}`);
      if (!s.keywords.some((k) => ex.includes(k))) problems.push(`${s.id}: example has no keyword: ${ex}`);
    }
    if (s.severity !== 'info' && s.commands === undefined && s.noCommand === undefined)
      problems.push(`${s.id}: neither commands nor noCommand`);
    if (s.commands !== undefined && s.noCommand !== undefined)
      problems.push(`${s.id}: both commands and noCommand`);
    for (const c of s.consequenceOf) {
      if (!ids.has(c)) problems.push(`${s.id}: consequenceOf names unknown id ${c}`);
      if (c === s.id) problems.push(`${s.id}: consequence of itself`);
    }
  }
  return problems;
}

/** Parse and check one knowledge-base file's JSON text. */
export function parseKnowledgeBase(text: string, file: string): Signature[] {
  const result = knowledgeBaseFileSchema.safeParse(JSON.parse(text));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ToolError('kb-invalid', `${file}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return result.data.signatures;
}

let cached: Signature[] | undefined;

/** The bundled knowledge base, validated (throws ToolError 'kb-invalid' when a file is broken). */
export function loadKnowledgeBase(): Signature[] {
  if (cached) return cached;
  const all: Signature[] = [];
  for (const f of KB_FILES) {
    const text = assetText(`diagnose/kb/${f}`);
    all.push(...parseKnowledgeBase(text, f));
  }
  all.push(...catalogSignatures());
  const problems = checkSignatures(all, { examples: false });
  if (problems.length > 0) throw new ToolError('kb-invalid', `knowledge base: ${problems.join('; ')}`);
  cached = all;
  return all;
}
