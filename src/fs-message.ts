// File-system errors in words: what could not be done to which file, why, and what to do.
// Used by the plain commands and the screens, so no file-system error is shown as a stack trace.

const REASONS: Record<string, string> = {
  EROFS: 'the disk or folder is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOENT: 'it does not exist',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the folder is not empty',
  EBUSY: 'it is in use by another program',
  EMFILE: 'too many files are open',
  EIO: 'the disk reported an error',
};

const VERBS: Record<string, string> = {
  open: 'open',
  copyfile: 'copy',
  cp: 'copy',
  mkdir: 'create the folder',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  write: 'write',
  read: 'read',
  scandir: 'read the folder',
  stat: 'look at',
  lstat: 'look at',
};

/** A Node file-system error (it has a code and a syscall). */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & { dest?: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** `Could not copy a.js to b.js: the disk or folder is read-only (EROFS).` */
export function fileSystemMessage(error: NodeJS.ErrnoException & { dest?: string }): string {
  const code = error.code ?? 'error';
  const verb = VERBS[error.syscall ?? ''] ?? error.syscall ?? 'use';
  const where = error.path ? ` ${error.path}${error.dest ? ` to ${error.dest}` : ''}` : '';
  const reason = REASONS[code] ?? 'the system refused';
  const advice = code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? ' Check the folder\'s permissions, or move the workspace to a folder you can write to.' : code === 'ENOSPC' ? ' Free some space and try again.' : '';
  return `Could not ${verb}${where}: ${reason} (${code}).${advice}`;
}

