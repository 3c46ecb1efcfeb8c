/** The only door to the world: every command run and every file read or written goes through a Host. */
export interface RunOptions {
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** Text fed to the command's standard input. */
  input?: string;
  /** Kill the command after this many milliseconds (exit code 124 in the result). */
  timeoutMs?: number;
  /** Called with each chunk of output as it arrives (builds, clones). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface FileStat {
  size: number;
  mode: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export interface WriteOptions {
  /** File mode for a new file; an existing file keeps its mode. */
  mode?: number;
}

export type HostKind = 'local' | 'snapshot' | 'ssh';

export interface Host {
  readonly kind: HostKind;
  /** Short human name: "local", "snapshot examples/hosts/x.json", "ssh root@box". */
  readonly description: string;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Optional: run several commands in one round trip (SshHost). Results come in argv order; each command
   * gets empty stdin, and a missing program gives exit status 127 with "not found" on stderr.
   */
  runBatch?(argvs: readonly (readonly string[])[]): Promise<RunResult[]>;
  readFile(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  /** Atomic: temp file in the same directory, fsync, rename; an existing file keeps its mode. */
  writeFile(path: string, content: string | Uint8Array, options?: WriteOptions): Promise<void>;
  removeFile(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  stat(path: string): Promise<FileStat | undefined>;
  exists(path: string): Promise<boolean>;
  /** Names in a directory, sorted; [] when it does not exist. */
  listDir(path: string): Promise<string[]>;
  /** Target of a symbolic link, or undefined when the path is not a link. */
  readLink(path: string): Promise<string | undefined>;
  /**
   * Create a new file only if nothing is at `path` (O_CREAT|O_EXCL): true when created, false when it
   * already existed. Optional: callers fall back to exists + writeFile on hosts without it.
   */
  createExclusive?(path: string, content: string): Promise<boolean>;
  close(): Promise<void>;
}
