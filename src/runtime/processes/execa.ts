// execa, the one library the course starts processes with: from the build's one-file copy
// (scripts/bundle-vendor.mjs) when there is one, else from the package (running from src/).
import type * as Execa from 'execa';

const bundled = new URL('../../vendor/execa.js', import.meta.url).href;

async function load(): Promise<typeof Execa> {
  try {
    return (await import(bundled)) as typeof Execa;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return import('execa');
  }
}

export const { execa, execaNode } = await load();
