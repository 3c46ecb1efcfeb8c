import { join } from 'node:path';
import type { FileStat, Host, RunOptions, RunResult, WriteOptions } from './types.js';

/**
 * `--root DIR`: every absolute path a file operation names is taken under DIR; commands still run on the
 * inner host. Used by tests (a snapshot's commands with a real file tree) and for preparing an image.
 */
export class RootedHost implements Host {
  readonly kind;
  readonly description: string;

  constructor(
    private readonly commands: Host,
    private readonly files: Host,
    readonly root: string,
  ) {
    this.kind = commands.kind;
    this.description = `${commands.description} (files under ${root})`;
  }

  private p(path: string): string {
    return join(this.root, path);
  }

  run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return this.commands.run(argv, options);
  }
  readFile(path: string): Promise<string> {
    return this.files.readFile(this.p(path));
  }
  readBytes(path: string): Promise<Uint8Array> {
    return this.files.readBytes(this.p(path));
  }
  writeFile(path: string, content: string | Uint8Array, options?: WriteOptions): Promise<void> {
    return this.files.writeFile(this.p(path), content, options);
  }
  removeFile(path: string): Promise<void> {
    return this.files.removeFile(this.p(path));
  }
  mkdir(path: string): Promise<void> {
    return this.files.mkdir(this.p(path));
  }
  stat(path: string): Promise<FileStat | undefined> {
    return this.files.stat(this.p(path));
  }
  exists(path: string): Promise<boolean> {
    return this.files.exists(this.p(path));
  }
  listDir(path: string): Promise<string[]> {
    return this.files.listDir(this.p(path));
  }
  readLink(path: string): Promise<string | undefined> {
    return this.files.readLink(this.p(path));
  }
  async close(): Promise<void> {
    await this.commands.close();
  }
}
