// How errors reach the user: one line on stderr (plus the issue list or caret excerpt, when the
// error carries one), with calicoctl's clean-ups of decoder messages (surfaces.md §1.1).
import { formatFieldIssue, isCidrpoolError } from '../errors/index.js';

const JSON_PREFIX = 'error unmarshaling JSON: while decoding JSON: json: ';

/** The message of any thrown value, cleaned up as calicoctl does before printing it. */
export function errorMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  // libcalico's ErrorResourceDoesNotExist / ErrorResourceAlreadyExists print their wrapped
  // cause as ` with error: <inner>`; the etcdv3 backend wraps none, so calicoctl shows `<nil>`
  // (surfaces.md §1.5, "Error text formats").
  if (
    isCidrpoolError(err, 'CLIENT_NOT_FOUND', 'CLIENT_ALREADY_EXISTS') &&
    !message.includes(' with error: ')
  )
    message += ' with error: <nil>';
  if (message.startsWith(JSON_PREFIX)) message = message.slice(JSON_PREFIX.length);
  const unknown = /unknown field "([^"]+)"/.exec(message);
  if (unknown)
    message = `field in document is not recognized or is in the wrong location: ${unknown[1]}`;
  return message;
}

/** The issue lines and excerpt of an error, indented, for printing under its message. */
export function errorDetails(err: unknown): string[] {
  if (!isCidrpoolError(err)) return [];
  const lines: string[] = [];
  const message = err.message;
  for (const issue of err.issues) {
    // An issue the message already states (libcalico-style messages list every field) only
    // adds its hint, when the message lacks it.
    if (message.includes(issue.message)) {
      if (issue.hint && !message.includes(issue.hint))
        lines.push(`  hint: ${issue.path}: ${issue.hint}`);
      continue;
    }
    lines.push(`  - ${formatFieldIssue(issue)}`);
  }
  if (err.excerpt) lines.push(...err.excerpt.split('\n').map((l) => `  ${l}`));
  return lines;
}

/** Everything printed on stderr for a failed command. */
export function formatError(err: unknown, prefix = ''): string {
  return [prefix + errorMessage(err), ...errorDetails(err)].join('\n') + '\n';
}
