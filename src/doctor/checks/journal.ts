import { quoteArgv } from '../../host/shell-quote.js';
import { type Check, result } from '../types.js';

/**
 * A journal entry left by a run that was killed (pending, in-progress, or a rollback in progress): the host
 * may be half changed. The fix undoes it exactly (rollback restores every file from its backup); the prose
 * names the command that finishes it instead.
 */
export const interruptedJournal: Check = ({ interrupted }) =>
  (interrupted ?? []).map((i) =>
    result(
      `journal.${i.id}`,
      `journal entry ${i.id}: finished`,
      'WARN',
      [`${i.title}: ${i.where} when the run stopped`, `command: ${i.command}`],
      i.kind === 'rollback'
        ? 'finish the interrupted rollback'
        : `undo the half-applied change${i.finish ? `, or finish it by running it again: ${quoteArgv(i.finish)}` : ''}`,
      { commands: [i.undo] },
    ),
  );
