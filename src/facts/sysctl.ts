/** `sysctl name...` output (`name: value`, values may run over several lines) and `sysctl -n` single values. */

const NAME_VALUE = /^([A-Za-z_][\w%-]*(?:\.[\w%-]+)+):(?:\s(.*))?$/;
const PROMPT = /^(?:[#$%>](?:\s|$)|[^\s@]{1,64}@[^\s#$%]{1,256}\s?[#$%](?:\s|$)|[^\s#$%>]{1,64}[#$%>]\s)/;

/**
 * `name: value` lines -> Map name -> value. A line that is not `name: value` continues the value before it
 * (multi-line values such as kern.conftxt), except shell prompts and blank lines, which end it.
 * Later duplicates win.
 */
export function parseSysctl(text: string): Map<string, string> {
  const values = new Map<string, string>();
  let last: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const m = NAME_VALUE.exec(line);
    if (m) {
      last = m[1]!;
      values.set(last, (m[2] ?? '').trim());
      continue;
    }
    if (line.trim() === '' || PROMPT.test(line) || line.trim() === '...') {
      last = undefined;
      continue;
    }
    if (last !== undefined) values.set(last, `${values.get(last)}\n${line}`);
  }
  return values;
}

/** `sysctl -n name`: the value without its trailing newline; undefined when empty. */
export function parseSysctlValue(text: string): string | undefined {
  const value = text.trimEnd();
  return value === '' ? undefined : value;
}

/** The leading integer of a value ("0", "1 <- comment", "-1"); undefined when there is none. */
export function sysctlInteger(values: Map<string, string>, name: string): number | undefined {
  const value = values.get(name);
  if (value === undefined) return undefined;
  const m = /^\s*(-?\d+)\b/.exec(value);
  return m ? Number(m[1]) : undefined;
}
