import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ChunkScanner, claimBack, type FromScanThread, SCAN_WORKER, type ToScanThread } from './parallel.js';

/**
 * The scan thread of parallel.ts: given the tables once, then per file a job, it takes chunks from the
 * back of the file until none is left and reports each one. A failure is reported once and ends its work
 * (the main thread scans the chunks it took but did not report).
 */

/** True in a worker thread started as the scan thread. */
function isScanWorker(): boolean {
  return !isMainThread && (workerData as { role?: unknown } | null)?.role === SCAN_WORKER;
}

function serve(): void {
  const port = parentPort;
  if (port === null) return;
  const send = (m: FromScanThread) => port.postMessage(m);
  let scanner: ChunkScanner | undefined;
  let failed = false;
  port.on('message', (m: ToScanThread) => {
    if (failed) return;
    try {
      if (m.type === 'setup') {
        scanner = new ChunkScanner(m.tables);
        return;
      }
      if (scanner === undefined) throw new Error('a job came before the tables');
      const claims = new Int32Array(m.claims);
      for (let k = claimBack(claims); k >= 0; k = claimBack(claims))
        send({ type: 'chunk', job: m.job, result: scanner.chunk(m.fd, m.plan, k) });
    } catch (e) {
      failed = true;
      send({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    }
  });
}

if (isScanWorker()) serve();
