#!/usr/bin/env node
// Entry point. Checks the Node version before loading anything native (better-sqlite3 needs
// Node 22.22 or newer), then runs a plain command, or the interactive course on a terminal.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `global-state-course needs Node.js 22.22 or newer; this is ${process.version}.\n` +
      'Install a current LTS release (22 or 24) from https://nodejs.org or with your version manager, then run it again.\n',
  );
  process.exit(2);
}

// The same process title for every command: what runs (check or serve) is nobody else's business,
// not even the app's, which could read its parent's command line.
process.title = 'global-state-course';

// Output piped into `head` and closed early is no error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

// Compiled code of the course and its libraries is read back from the user's cache when it can be.
const { enableCompileCache } = await import('./runtime/compile-cache.ts');
enableCompileCache();

const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
