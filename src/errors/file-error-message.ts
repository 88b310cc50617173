// File-system errors in Go's words (`open pool.yaml: no such file or directory`), as calicoctl prints
// them, instead of Node's `ENOENT: no such file or directory, open 'pool.yaml'`.

const GO_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file exists',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
};

/** `<op> <path>: <reason>` for a Node file-system error; other errors keep their message. */
export function fileErrorMessage(op: string, path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  return `${op} ${path}: ${GO_REASONS[code] ?? (err as Error).message}`;
}
