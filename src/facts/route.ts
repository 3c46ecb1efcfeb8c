/** FreeBSD `route -n get default` output -> the default gateway and the interface it leaves through. */

export interface RouteGet {
  destination?: string;
  gateway?: string;
  interface?: string;
  flags?: string[];
}

/**
 * Reads the `   route to: default` / `    gateway: 192.0.2.1` / `  interface: igb0` / `      flags: <UP,...>`
 * lines. `route: route has not been found` (no default route) gives an empty result.
 */
export function parseRouteGet(text: string): RouteGet {
  const result: RouteGet = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(route to|destination|gateway|interface|flags):(.*)$/.exec(raw.trim());
    if (!m || m[2]!.trim() === '') continue;
    const value = m[2]!.trim();
    if (m[1] === 'destination') result.destination = value;
    else if (m[1] === 'route to') result.destination ??= value;
    else if (m[1] === 'gateway') result.gateway = value;
    else if (m[1] === 'interface') result.interface = value;
    else {
      const inner = /^<([^>]*)>$/.exec(value);
      if (inner) result.flags = inner[1]!.split(',').filter((f) => f !== '');
    }
  }
  return result;
}
