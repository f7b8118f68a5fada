import os from 'node:os';
import path from 'node:path';
import { useEffect, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { fileSystemMessage, isFileSystemError } from '../fs-message.ts';
import { courseInvocation } from '../invocation.ts';
import type { AppTrack } from '../check/lesson.ts';
import { findPython } from '../runtime/python/find.ts';
import { DEFAULT_WORKSPACE, initWorkspace, type Workspace } from '../workspace.ts';
import Screen from './Screen.tsx';
import TextField from './TextField.tsx';
import { useCourse } from './use-course.ts';

export type Props = {
  /** Called with the new workspace once it exists. */
  readonly onCreated: (workspace: Workspace) => void;
};

/** Where a typed folder points: `~` is the home folder, relative paths start from `cwd`, empty is the default. */
export function workspaceTarget(cwd: string, typed: string, home: string = os.homedir()): string {
  const text = typed.trim();
  if (!text) return path.resolve(cwd, DEFAULT_WORKSPACE);
  if (text === '~') return home;
  if (text.startsWith('~/') || text.startsWith(`~${path.sep}`)) return path.join(home, text.slice(2));
  return path.resolve(cwd, text);
}

/** What the Flask track would run on here: the Python found, or what is missing and how to install it. */
type PythonCheck = { readonly ok: boolean; readonly text: string };

/**
 * No workspace here yet: offer to create one (./global-state-course unless the learner says
 * where), for the Node track (Express) or the Flask track (Python), and say what Flask needs.
 */
export default function FirstRun({ onCreated }: Props) {
  const { cwd, quit } = useCourse();
  const [editing, setEditing] = useState(false);
  const [track, setTrack] = useState<AppTrack>('node');
  const [python, setPython] = useState<PythonCheck>();
  // What the learner types for "another folder": empty until they type (no default to append to).
  const [dir, setDir] = useState('');
  const [error, setError] = useState<string>();

  const create = (typed: string) => {
    try {
      const { workspace } = initWorkspace(workspaceTarget(cwd, typed), track, true);
      onCreated(workspace);
    } catch (e) {
      setError(isFileSystemError(e) ? fileSystemMessage(e) : (e as Error).message);
      setEditing(false);
    }
  };

  useInput(
    (input, key) => {
      if ((key.ctrl && input === 'c') || input === 'q') return quit();
      if (key.return || input === 'y') create(dir);
      else if (input === 't') setTrack((t) => (t === 'node' ? 'flask' : 'node'));
      else if (input === 'o') {
        setError(undefined);
        setDir('');
        setEditing(true);
      }
    },
    { isActive: !editing },
  );
  useInput((input, key) => key.ctrl && input === 'c' && quit(), { isActive: editing });

  // Look for Python and Flask once the learner picks the Flask track.
  useEffect(() => {
    if (track !== 'flask' || python) return;
    let live = true;
    findPython().then(
      (info) => live && setPython({ ok: true, text: `Python ${info.version} with Flask ${info.flask} (${info.executable}).` }),
      (error: unknown) => live && setPython({ ok: false, text: (error as Error).message }),
    );
    return () => {
      live = false;
    };
  }, [track, python]);

  const target = workspaceTarget(cwd, dir);
  return (
    <Screen
      title="global-state-course"
      subtitle="first run"
      notice={error ? { text: error, tone: 'bad' } : undefined}
      keys={
        editing
          ? [
              { key: 'enter', label: 'create it there' },
              { key: 'esc', label: 'cancel' },
            ]
          : [
              { key: 'enter', label: 'create it' },
              { key: 'o', label: 'another folder' },
              { key: 't', label: track === 'node' ? 'Flask track' : 'Node track' },
              { key: 'q', label: 'quit' },
            ]
      }
    >
      <Text wrap="wrap">
        Welcome. In this course you fix a small web app that breaks once a host runs it as several worker processes, each with its own
        memory.
      </Text>
      <Box marginTop={1} flexDirection="column">
        <Text wrap="wrap">
          There is no course workspace here yet. It holds one folder per lesson with the app you edit, and your progress.
        </Text>
        <Box marginTop={1} flexDirection="column">
          <Text wrap="wrap">
            Track:{' '}
            <Text color="cyan" bold>
              {track === 'node' ? 'Node' : 'Flask'}
            </Text>
            {track === 'node' ? ' (the apps are Express apps, app.js, run by Node).' : ' (the apps are Flask apps, app.py, run by Python on a preforking host like gunicorn).'}
          </Text>
          {track === 'flask' ? (
            <Text wrap="wrap" color={python ? (python.ok ? 'green' : 'yellow') : undefined} dimColor={!python}>
              {python ? (python.ok ? `Found ${python.text}` : python.text) : 'Looking for Python and Flask...'}
            </Text>
          ) : null}
        </Box>
        <Box marginTop={1} flexDirection="column">
          {editing ? (
            <Text>
              Folder:{' '}
              <TextField
                value={dir}
                onChange={setDir}
                onSubmit={create}
                onCancel={() => {
                  setEditing(false);
                  setDir('');
                }}
              />
            </Text>
          ) : null}
          {editing ? <Text dimColor>{dir.trim() ? `→ ${target}` : `Empty means ${target}. ~ is your home folder.`}</Text> : null}
          {editing ? null : (
            <Text>
              Create it in <Text color="cyan" bold>{target}</Text>?
            </Text>
          )}
        </Box>
        <Box marginTop={1}>
          <Text dimColor wrap="wrap">{`Later, run ${courseInvocation()} in or below that folder and it opens your workspace.`}</Text>
        </Box>
      </Box>
    </Screen>
  );
}
