/** The pure parsers: text in, typed facts out. */

export { effectiveValue, parseShVars, type ShVars } from '../conf/views.js';
export { hasIommuTable, parseAcpidumpTables } from './acpidump.js';
export { parseDmesgBoot } from './dmesg-boot.js';
export { parseIfconfig, physicalInterfaces } from './ifconfig.js';
export { isKldLoaded, parseKldstat, parseKldstatDetailed } from './kldstat.js';
export { parsePciCapabilityLines, parsePciconf, parsePciconfDetailed } from './pciconf.js';
export { parseBarLine, parseCapabilityLine } from './pciconf-caps.js';
export { parseRouteGet, type RouteGet } from './route.js';
export { parseSysctl, parseSysctlValue, sysctlInteger } from './sysctl.js';
export type * from './types.js';
export { parseFreebsdVersion, parseRelease, parseUname } from './version.js';
