/** Kept in step with package.json by a test. */
export const VERSION = '0.1.0';
/** Version of every --json document's shape. */
export const SCHEMA_VERSION = 1;
